"""Each candidate family trains on the course sample's features, balanced and seeded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from truckflow.training import FAMILIES, TrainingError
from truckflow.training.candidates import build_estimator, family
from truckflow.training.data import Split, labels
from truckflow.training.tuning import fit_candidate

BOOSTING = {
    "n_estimators": 30,
    "max_depth": 3,
    "learning_rate": 0.2,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 2.0,
    "reg_lambda": 1.0,
}
PARAMS: dict[str, dict[str, Any]] = {
    "logistic_regression": {"C": 0.5},
    "random_forest": {
        "n_estimators": 30,
        "max_depth": 4,
        "min_samples_leaf": 2,
        "max_features": "sqrt",
    },
    "xgboost": BOOSTING,
    "lightgbm": BOOSTING,
}


def test_the_four_families_of_the_course_are_offered() -> None:
    assert set(FAMILIES) == set(PARAMS)
    with pytest.raises(TrainingError, match="unknown model family 'svm'; known: "):
        family("svm")


@pytest.mark.parametrize("name", list(PARAMS))
def test_each_family_fits_and_scores_generated_trips(name: str, generated_split: Split) -> None:
    split = generated_split
    model = fit_candidate(name, PARAMS[name], split.train, seed=3)
    scores = model.predict_proba(split.test)[:, 1]
    assert scores.shape == (len(split.test),)
    assert np.all((scores >= 0) & (scores <= 1)) and np.isfinite(scores).all()
    # The generator plants a learnable signal (hours on the road, accidents): it is found.
    assert roc_auc_score(labels(split.test), scores) > 0.75
    # Seeded: the same seed gives the same model.
    again = fit_candidate(name, PARAMS[name], split.train, seed=3)
    np.testing.assert_array_equal(again.predict_proba(split.test)[:, 1], scores)


@pytest.mark.parametrize("name", ["logistic_regression", "random_forest", "xgboost"])
def test_each_family_fits_the_course_sample(name: str, course_split: Split) -> None:
    model = fit_candidate(name, PARAMS[name], course_split.train, seed=3)
    train_scores = model.predict_proba(course_split.train)[:, 1]
    assert roc_auc_score(labels(course_split.train), train_scores) > 0.7
    assert len(np.unique(model.predict_proba(course_split.test)[:, 1])) > 1


@pytest.mark.parametrize("name", ["random_forest", "xgboost", "lightgbm"])
def test_another_seed_gives_another_model(name: str, generated_split: Split) -> None:
    split = generated_split
    first = fit_candidate(name, PARAMS[name], split.train, seed=3)
    other = fit_candidate(name, PARAMS[name], split.train, seed=4)
    assert not np.array_equal(first.predict_proba(split.test), other.predict_proba(split.test))


def test_every_family_balances_the_classes(course_split: Split) -> None:
    y = labels(course_split.train)
    pos = float(np.sum(y == 0) / np.sum(y == 1))
    for name, params in PARAMS.items():
        model = fit_candidate(name, params, course_split.train, seed=0).named_steps["model"]
        if name == "xgboost":
            assert model.get_params()["scale_pos_weight"] == pytest.approx(pos)
        else:
            assert model.get_params()["class_weight"] == "balanced", name


def test_parameters_reach_the_estimators() -> None:
    xgb = build_estimator("xgboost", BOOSTING, seed=5, pos_weight=2.5, n_jobs=2).get_params()
    assert (xgb["max_depth"], xgb["random_state"], xgb["n_jobs"]) == (3, 5, 2)
    lgbm = build_estimator("lightgbm", BOOSTING, seed=5).get_params()
    # XGBoost's min_child_weight (a hessian sum) is LightGBM's in thousandths.
    assert lgbm["min_child_weight"] == pytest.approx(0.002)
    assert lgbm["deterministic"] is True and lgbm["random_state"] == 5
    assert BOOSTING["min_child_weight"] == 2.0  # the caller's parameters are left as they were
    forest = build_estimator("random_forest", PARAMS["random_forest"], seed=5).get_params()
    assert (forest["n_estimators"], forest["max_features"]) == (30, "sqrt")
