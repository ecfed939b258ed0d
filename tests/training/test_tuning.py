"""Tuning: seeded and reproducible, within its trial budget, fitted on the training part."""

from __future__ import annotations

import numpy as np
import pytest

from truckflow.training import TrainingError, tune_candidate
from truckflow.training.data import Split, labels
from truckflow.training.evaluate import best_threshold
from truckflow.training.tuning import TunedCandidate


def _tune(
    split: Split, name: str = "xgboost", seed: int = 11, half_life_days: float = 0.0
) -> TunedCandidate:
    return tune_candidate(
        name,
        split.train,
        split.validation,
        n_trials=3,
        seed=seed,
        half_life_days=half_life_days,
    )


@pytest.mark.parametrize("name", ["logistic_regression", "xgboost"])
def test_the_same_seed_chooses_the_same_parameters(name: str, course_split: Split) -> None:
    first, second = _tune(course_split, name), _tune(course_split, name)
    assert first.params == second.params
    assert [t["params"] for t in first.trial_log] == [t["params"] for t in second.trial_log]
    assert [t["value"] for t in first.trial_log] == [t["value"] for t in second.trial_log]
    assert (first.threshold, first.validation_f1) == (second.threshold, second.validation_f1)
    np.testing.assert_array_equal(
        first.model.predict_proba(course_split.test), second.model.predict_proba(course_split.test)
    )
    other = _tune(course_split, name, seed=12)
    assert [t["params"] for t in other.trial_log] != [t["params"] for t in first.trial_log]


def test_the_chosen_trial_is_the_best_and_its_threshold_is_on_validation(
    course_split: Split,
) -> None:
    tuned = _tune(course_split)
    assert tuned.trials == len(tuned.trial_log) == 3
    assert all(t["state"] == "COMPLETE" for t in tuned.trial_log)
    best = max(tuned.trial_log, key=lambda t: t["value"])
    assert tuned.validation_f1 == pytest.approx(best["value"])
    assert tuned.params == {k: v for k, v in best["params"].items() if k != "half_life_days"}
    scores = tuned.model.predict_proba(course_split.validation)[:, 1]
    assert (tuned.threshold, tuned.validation_f1) == best_threshold(
        labels(course_split.validation), scores
    )


def test_the_validation_part_does_not_reach_the_fit(course_split: Split) -> None:
    tuned = _tune(course_split, "logistic_regression")
    # The same validation labels with far-off features: the search scores differently, but
    # whatever it picks, the preprocessing was fitted on the training part alone.
    shifted = course_split.validation.copy()
    shifted["distance"] = shifted["distance"] * 1000
    other = tune_candidate("logistic_regression", course_split.train, shifted, n_trials=3, seed=11)
    for model in (tuned.model, other.model):
        scaler = model.named_steps["preprocess"].named_transformers_["numeric"]
        train_mean = course_split.train["distance"].mean()
        names = list(scaler.feature_names_in_)
        assert scaler.named_steps["scale"].mean_[names.index("distance")] == pytest.approx(
            train_mean
        )


def test_recency_weighting_is_one_more_choice_tried_first(course_split: Split) -> None:
    tuned = _tune(course_split, "logistic_regression", half_life_days=2.0)
    tried = [t["params"]["half_life_days"] for t in tuned.trial_log]
    assert tried[:2] == [0.0, 2.0]  # equal weights first, then the recency weights
    best = max(tuned.trial_log, key=lambda t: t["value"])
    assert tuned.half_life_days == best["params"]["half_life_days"]
    plain = _tune(course_split, "logistic_regression")
    assert {t["params"]["half_life_days"] for t in plain.trial_log} == {0.0}


def test_a_budget_below_one_trial_is_refused(course_split: Split) -> None:
    with pytest.raises(TrainingError, match="at least 1, got 0"):
        tune_candidate("xgboost", course_split.train, course_split.validation, n_trials=0, seed=0)
