from __future__ import annotations

from pathlib import Path

import pytest

from synthetic_features import feature_frame
from truckflow.features import compute_features, read_course_csvs
from truckflow.features.fill import register_feature_set, store_features
from truckflow.pipeline import LocalRunner
from truckflow.pipelines.training import training_pipeline
from truckflow.registry import PENDING, ModelRegistry
from truckflow.settings import Settings
from truckflow.store import Database
from truckflow.training.calibration import from_tags

FAST = {"families": "logistic_regression,xgboost", "n_trials": 2, "min_f1": 0.5}


def test_training_pipeline_registers_then_gate_fails_with_numbers(
    settings: Settings, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"  # the folder the user runs from, not the home
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    register_feature_set(db)
    store_features(db, feature_frame())
    with LocalRunner(settings, db=db) as runner:
        first = runner.run(training_pipeline(), FAST)
        assert first.status == "succeeded", first
        registered = first.outputs["register"]
        assert registered["approval_status"] == PENDING
        version = ModelRegistry.from_settings(settings).get(registered["version"])
        assert version.tags["execution_id"] == first.execution_id
        # Everything of a home stays under it: the model files too, nothing where it runs from.
        assert version.source.startswith(settings.home.resolve().as_uri())
        assert list(elsewhere.iterdir()) == []
        assert version.metrics["test_f1"] == pytest.approx(
            first.outputs["evaluate"]["test_f1"], abs=1e-5
        )
        # The chosen model's calibration (fitted on validation) is stored with the version.
        calibration = from_tags(version.tags)
        assert calibration.method == first.outputs["calibrate"]["method"]
        assert calibration.method in ("platt", "isotonic")
        assert version.metrics["validation_brier_calibrated"] == pytest.approx(
            first.outputs["calibrate"]["validation_brier_calibrated"], rel=1e-4
        )

        # The gate fails: the run fails, saying which condition and with the numbers; the
        # candidates come from the cache.
        second = runner.run(training_pipeline(), {**FAST, "min_f1": 0.99})
        assert second.status == "failed"
        test_f1 = first.outputs["evaluate"]["test_f1"]
        assert second.error == (
            f"the model is not registered: test F1 {test_f1:.4f} is below min_f1 0.9900"
        )
        assert second.steps["register"].status == "skipped"
        assert all(second.steps[s].cache_hit for s in ("split", "train_xgboost", "evaluate"))

        # With a production model, the candidate is compared with it on the same test set.
        ModelRegistry.from_settings(settings).set_alias("production", registered["version"])
        third = runner.run(training_pipeline(), FAST)
        assert third.status == "succeeded", third.error
        assert third.outputs["production"]["version"] == registered["version"]
        assert third.outputs["production"]["f1"] == pytest.approx(test_f1)
        # The same candidate on the same data is not registered twice.
        assert third.outputs["register"]["version"] == registered["version"]
        assert third.steps["register"].cache_hit
        assert len(ModelRegistry.from_settings(settings).list_versions()) == 1


def test_training_pipeline_runs_on_the_real_course_slice(
    settings: Settings, db: Database, course_sample: Path
) -> None:
    features = compute_features(read_course_csvs(course_sample)).features
    register_feature_set(db)
    store_features(db, features)
    parameters = {
        "families": "xgboost",
        "n_trials": 1,
        "min_f1": 0.0,
        "train_end": "2019-01-05",
        "validation_end": "2019-01-07",
    }
    with LocalRunner(settings, db=db) as runner:
        result = runner.run(training_pipeline(), parameters)
    assert result.status == "succeeded", result.error
    assert result.outputs["split"]["sizes"] == {"train": 516, "validation": 82, "test": 299}
    version = ModelRegistry.from_settings(settings).get(result.outputs["register"]["version"])
    assert version.tags["family"] == "xgboost"
    last = features["estimated_arrival"].max()
    assert version.tags["data_window"] == f"2019-01-01..{last:%Y-%m-%d}"
