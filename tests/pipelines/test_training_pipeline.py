from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from synthetic_features import feature_frame
from truckflow.features import compute_features, read_course_csvs
from truckflow.features.fill import register_feature_set, store_features
from truckflow.notify.tables import notify_outbox as outbox
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.training.pipeline import training_pipeline
from truckflow.registry import PENDING, ModelRegistry
from truckflow.settings import Settings
from truckflow.store import Database
from truckflow.training.calibration import CALIBRATION_TAG, from_tags

FAST = {"families": "logistic_regression,xgboost", "n_trials": 2, "min_f1": 0.5}


def test_training_pipeline_registers_then_gate_fails_with_numbers(
    settings: Settings,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    elsewhere = tmp_path / "elsewhere"  # the folder the user runs from, not the home
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    register_feature_set(db)
    store_features(db, feature_frame())
    with Runtime.on(settings, db).runner() as runner:
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
        parent = _mlflow_store_holds_the_execution(settings, first.execution_id, "passed")
        # The registered version's run is nested under the training run.
        client = ModelRegistry.from_settings(settings).client
        assert client.get_run(version.run_id).data.tags["mlflow.parentRunId"] == parent
        assert client.get_run(parent).data.tags["truckflow.registered_version"] == version.version
        assert _registered_events(db) == [(version.version, version.run_id)]
        # The chosen model's calibration (fitted on validation) is stored with the version.
        calibration = from_tags(version.tags)
        assert calibration.method == first.outputs["calibrate"]["method"]
        assert calibration.method in ("platt", "isotonic")
        assert version.metrics["validation_brier_calibrated"] == pytest.approx(
            first.outputs["calibrate"]["validation_brier_calibrated"], rel=1e-4
        )

        # The gate fails: the run fails, saying which condition and with the numbers; the
        # candidates come from the cache.
        with caplog.at_level(logging.INFO):
            second = runner.run(training_pipeline(), {**FAST, "min_f1": 0.99})
        assert second.status == "failed"
        # The gate refusing a model is its job: told as a warning, no ERROR line.
        assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert any("not registered" in r.getMessage() for r in caplog.records)
        test_f1 = first.outputs["evaluate"]["test_f1"]
        assert second.error == (
            f"the model is not registered: test F1 {test_f1:.4f} is below min_f1 0.9900"
        )
        assert second.steps["register"].status == "skipped"
        # The refused training is kept in MLflow, the decision on its run.
        _mlflow_store_holds_the_execution(settings, second.execution_id, "refused")
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
        assert len(_registered_events(db)) == 1  # model.registered: once per version


def _registered_events(db: Database) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.body).where(
                outbox.c.event_type == "model.registered", outbox.c.channel == "file"
            )
        ).all()
    return [(r.body["version"], r.body["run_id"]) for r in rows]


def _mlflow_store_holds_the_execution(settings: Settings, execution_id: str, gate: str) -> str:
    """Open the MLflow store as a user would: one parent run for the execution, a nested run
    per family and per trial, the three datasets as inputs with digests, the gate's tag."""
    from mlflow import MlflowClient

    # The store under the home: the tracking URI the settings give, opened afresh.
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    experiment = client.get_experiment_by_name("truckflow")
    assert experiment is not None
    assert experiment.artifact_location.startswith(settings.home.resolve().as_uri())
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`truckflow.execution_id` = '{execution_id}'",
    )
    (parent,) = runs
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["truckflow.gate"] == gate
    assert parent.data.params["n_trials"] == "2"
    assert "test_f1" in parent.data.metrics
    inputs = {d.dataset.name: d for d in parent.inputs.dataset_inputs}
    assert set(inputs) == {"training", "validation", "test"}
    for context, found in inputs.items():
        assert found.dataset.digest
        assert {t.key: t.value for t in found.tags}["mlflow.data.context"] == context
    families = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
    )
    # Besides the families: the registered model's run, when the gate passed.
    by_family = {
        r.data.tags["truckflow.family"]: r for r in families if "truckflow.family" in r.data.tags
    }
    assert len(families) == len(by_family) + (gate == "passed")
    assert set(by_family) == {"logistic_regression", "xgboost"}, [r.info.run_name for r in families]
    for name, run in by_family.items():
        assert "validation_f1" in run.data.metrics
        trials = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.`mlflow.parentRunId` = '{run.info.run_id}'",
        )
        assert sorted(int(t.data.tags["truckflow.trial"]) for t in trials) == [0, 1], name
        assert all("validation_f1" in t.data.metrics and t.data.params for t in trials)
    return str(parent.info.run_id)


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
        "train_end": "2019-01-04",
        "validation_end": "2019-01-07",
    }
    with Runtime.on(settings, db).runner() as runner:
        result = runner.run(training_pipeline(), parameters)
    assert result.status == "succeeded", result.error
    assert result.outputs["split"]["sizes"] == {"train": 28, "validation": 7, "test": 28}
    version = ModelRegistry.from_settings(settings).get(result.outputs["register"]["version"])
    assert version.tags["family"] == "xgboost"
    last = features["estimated_arrival"].max()
    assert version.tags["data_window"] == f"2019-01-01..{last:%Y-%m-%d}"
    # Seven validation trips cannot be calibrated out of fold: the model still trains, says why,
    # and its version carries no map (read back as uncalibrated).
    calibration = result.outputs["calibrate"]
    assert calibration["method"] == "identity"
    assert "validation has 3 delayed of 7" in calibration["skipped"]
    assert CALIBRATION_TAG not in version.tags
    assert from_tags(version.tags).method == "identity"
