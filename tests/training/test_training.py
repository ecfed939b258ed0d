from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from synthetic_features import feature_frame
from truckflow.pipelines.training import steps as stages
from truckflow.training import TrainingError, check_gate, split_by_arrival
from truckflow.training.candidates import build_estimator
from truckflow.training.data import model_input, recency_weights
from truckflow.training.tuning import fit_candidate


@pytest.fixture
def split_paths(tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "features.parquet"
    feature_frame().to_parquet(path, index=False)
    return stages.split_dataset(str(path), str(tmp_path / "split"))


def test_split_by_arrival_uses_the_course_dates_as_bounds() -> None:
    frame = feature_frame()
    split = split_by_arrival(frame)
    assert split.train["estimated_arrival"].max() <= pd.Timestamp("2019-01-30")
    assert split.validation["estimated_arrival"].min() > pd.Timestamp("2019-01-30")
    assert split.validation["estimated_arrival"].max() <= pd.Timestamp("2019-02-07")
    assert split.test["estimated_arrival"].min() > pd.Timestamp("2019-02-07")
    assert sum(split.sizes().values()) == len(frame)
    with pytest.raises(TrainingError, match=r"test part .* has classes"):
        split_by_arrival(frame, "2019-01-30", "2019-03-30")


def test_preprocessing_imputes_training_mode_and_unknown(split_paths: dict[str, str]) -> None:
    result = stages.train_candidate(
        "logistic_regression",
        split_paths["train"],
        split_paths["validation"],
        str(Path(split_paths["train"]).parent),
        n_trials=1,
    )
    model = joblib.load(result["model_path"])
    transformer = model.named_steps["preprocess"]
    mode = transformer.named_transformers_["mode_imputed"].named_steps["impute"].statistics_
    train = pd.read_parquet(split_paths["train"])
    assert mode[0] == train["load_capacity_pounds"].mode().iloc[0] == 6000.0
    onehot = transformer.named_transformers_["categorical"].named_steps["onehot"]
    assert all("Unknown" in list(categories) for categories in onehot.categories_)
    # The fitted model takes feature rows as the feature code returns them, None included.
    raw = pd.read_parquet(split_paths["test"]).head(3)
    assert model.predict_proba(raw).shape == (3, 2)
    assert model_input(raw)["gender"].isna().sum() == raw["gender"].isna().sum()


def test_training_is_deterministic_for_a_seed(split_paths: dict[str, str], tmp_path: Path) -> None:
    runs = []
    for attempt in ("first", "second"):
        out = str(tmp_path / attempt)
        candidates = [
            stages.train_candidate(
                family, split_paths["train"], split_paths["validation"], out, n_trials=2, seed=7
            )
            for family in ("xgboost", "logistic_regression")
        ]
        best = stages.select_best(candidates)
        evaluation = stages.evaluate_on_test(
            best["model_path"], best["threshold"], split_paths["test"], out + "/eval"
        )
        runs.append((candidates, best["family"], evaluation["metrics"]))
    (first, family_1, metrics_1), (second, family_2, metrics_2) = runs
    for a, b in zip(first, second, strict=True):
        assert (a["params"], a["validation_f1"], a["threshold"]) == (
            b["params"],
            b["validation_f1"],
            b["threshold"],
        )
    assert family_1 == family_2
    assert metrics_1 == metrics_2
    # And the signal planted in the data is found.
    assert metrics_1["roc_auc"] > 0.75


def test_evaluation_reports_metrics_calibration_and_plots(
    split_paths: dict[str, str], tmp_path: Path
) -> None:
    candidate = stages.train_candidate(
        "lightgbm", split_paths["train"], split_paths["validation"], str(tmp_path), n_trials=2
    )
    result = stages.evaluate_on_test(
        candidate["model_path"], candidate["threshold"], split_paths["test"], str(tmp_path / "ev")
    )
    metrics = result["metrics"]
    for key in ("f1", "precision", "recall", "roc_auc", "pr_auc", "brier"):
        assert 0.0 <= metrics[key] <= 1.0
    cm = metrics["confusion_matrix"]
    assert cm["tn"] + cm["fp"] + cm["fn"] + cm["tp"] == metrics["rows"]
    assert sum(b["count"] for b in metrics["reliability"]) == metrics["rows"]
    names = sorted(Path(p).name for p in result["plots"])
    assert names == ["confusion_matrix.png", "pr.png", "roc.png"]
    for plot in result["plots"]:
        assert Path(plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_select_best_takes_the_highest_validation_f1() -> None:
    candidates = [
        {"family": "a", "validation_f1": 0.6, "validation_roc_auc": 0.7},
        {"family": "b", "validation_f1": 0.7, "validation_roc_auc": 0.6},
        {"family": "c", "validation_f1": 0.7, "validation_roc_auc": 0.9},
    ]
    best = stages.select_best(candidates)
    assert best["family"] == "b"
    assert [r["family"] for r in best["ranking"]] == ["b", "c", "a"]


def test_gate_passes_and_fails_naming_the_condition() -> None:
    assert check_gate(0.71, min_f1=0.6).passed
    assert check_gate(0.69, min_f1=0.6, production_f1=0.70, tolerance=0.02).passed
    low = check_gate(0.55, min_f1=0.6)
    assert not low.passed and low.message == "test F1 0.5500 is below min_f1 0.6000"
    worse = stages.gate(0.65, 0.6, production_f1=0.70, tolerance=0.02, production_version="4")
    assert worse["passed"] is False
    assert worse["message"] == (
        "test F1 0.6500 is worse than version 4's 0.7000 on the same test set by 0.0500, "
        "more than the tolerance 0.0200"
    )


def test_device_reaches_xgboost_and_is_checked() -> None:
    params = {
        "n_estimators": 10,
        "max_depth": 2,
        "learning_rate": 0.1,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "min_child_weight": 1.0,
        "reg_lambda": 1.0,
    }
    assert (
        build_estimator("xgboost", params, seed=0, device="cuda").get_params()["device"] == "cuda"
    )
    assert build_estimator("xgboost", params, seed=0).get_params()["device"] == "cpu"
    with pytest.raises(TrainingError, match="device must be cpu or cuda"):
        build_estimator("xgboost", params, seed=0, device="tpu")
    with pytest.raises(TrainingError, match="unknown model family 'svm'"):
        build_estimator("svm", {}, seed=0)
    assert np.isfinite(params["reg_lambda"])


def test_recency_weights_halve_every_half_life() -> None:
    latest = pd.Timestamp("2019-02-20 07:00")
    frame = pd.DataFrame(
        {
            "estimated_arrival": [
                latest,
                latest - pd.Timedelta(days=3),
                latest - pd.Timedelta(days=6),
            ]
        }
    )
    np.testing.assert_allclose(recency_weights(frame, 3.0), [1.0, 0.5, 0.25])  # type: ignore[arg-type]
    assert recency_weights(frame, 0.0) is None


def test_a_recency_weighted_fit_follows_a_change_in_the_last_days() -> None:
    frame = feature_frame(n=1200, seed=4)
    latest = frame["estimated_arrival"].max()
    recent = (frame["estimated_arrival"] > latest - pd.Timedelta(days=4)).to_numpy()
    # The old mapping: delayed iff an accident; in the last days the opposite.
    accident = frame["accident"].to_numpy()
    frame["delay"] = np.where(recent, 1 - accident, accident)
    probe = frame[recent]
    params = {"C": 1.0}
    plain = fit_candidate("logistic_regression", params, frame, seed=0)
    weighted = fit_candidate("logistic_regression", params, frame, seed=0, half_life_days=1.0)
    agree_plain = np.mean(plain.predict(probe) == probe["delay"].to_numpy())
    agree_weighted = np.mean(weighted.predict(probe) == probe["delay"].to_numpy())
    assert agree_plain < 0.2 < 0.8 < agree_weighted
