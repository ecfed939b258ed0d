"""/predict answers from the database through the feature code, with the model the training
pipeline registers (course slice ingested into SQLite)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from truckflow.data.ingest import ingest_directory
from truckflow.features.fill import fill_features, register_feature_set
from truckflow.pipeline import LocalRunner
from truckflow.pipelines.training import training_pipeline
from truckflow.registry import ModelRegistry
from truckflow.serving import DatabaseFeatureSource, MlflowModelSource, create_app
from truckflow.settings import Settings
from truckflow.store import Database


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, course_sample_dir: Path) -> Iterator[dict]:
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    settings = Settings(home=tmp_path_factory.mktemp("serving-features") / "home")
    db = connect(settings)
    upgrade(db)
    ingest_directory(db, course_sample_dir)
    register_feature_set(db)
    fill_features(db, dt.datetime(2019, 1, 1), dt.datetime(2019, 2, 1))
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
    registry = ModelRegistry.from_settings(settings)
    version = registry.get(result.outputs["register"]["version"])
    registry.set_alias("production", version.version)
    yield {"settings": settings, "db": db, "version": version}
    db.dispose()


@pytest.fixture(scope="module")
def course_sample_dir() -> Path:
    sample = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "course_sample"
    if not sample.is_dir():  # pragma: no cover - the fixture ships beside the project
        pytest.skip("the course sample is not beside the project")
    return sample


@pytest.fixture(scope="module")
def client(served: dict) -> Iterator[TestClient]:
    settings: Settings = served["settings"]
    db: Database = served["db"]
    app = create_app(
        settings,
        model_source=MlflowModelSource(settings.tracking_uri, settings.model_name),
        feature_source=DatabaseFeatureSource(db),
        db=db,
        stage="production",
        watch=False,
    )
    with TestClient(app) as c:
        yield c


def _trip(course_sample_dir: Path, row: int = 0) -> dict[str, str | int]:
    schedule = pd.read_csv(course_sample_dir / "truck_schedule_table.csv")
    trip = schedule.iloc[row]
    return {
        "truck_id": int(trip["truck_id"]),
        "route_id": str(trip["route_id"]),
        "departure": str(trip["departure_date"]),
    }


def test_model_metadata_is_what_training_registered(client: TestClient, served: dict) -> None:
    version = served["version"]
    body = client.get("/model").json()
    assert body["model_version"] == version.version
    assert body["threshold"] == pytest.approx(float(version.tags["decision_threshold"]))
    assert body["metrics"]["test_f1"] == pytest.approx(version.metrics["test_f1"], abs=1e-5)
    start, end = version.tags["data_window"].split("..")
    assert body["data_window"] == {"start": start, "end": end}


def test_predict_looks_the_trip_up(
    client: TestClient, served: dict, course_sample_dir: Path
) -> None:
    trip = _trip(course_sample_dir)
    answer = client.post("/predict", json=trip)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_version"] == served["version"].version
    assert 0.0 <= body["probability"] <= 1.0
    batch = client.post(
        "/predict/batch", json={"trips": [trip, _trip(course_sample_dir, 5)]}
    ).json()
    assert batch["predictions"][0]["probability"] == pytest.approx(body["probability"])
    # A trip not in the schedule (another departure hour) is computed from its route's hours.
    unscheduled = {
        **trip,
        "departure": str(pd.Timestamp(str(trip["departure"])) + pd.Timedelta(hours=1)),
    }
    assert client.post("/predict", json=unscheduled).status_code == 200


def test_unknown_truck_and_route_answer_404(client: TestClient, course_sample_dir: Path) -> None:
    trip = _trip(course_sample_dir)
    truck = client.post("/predict", json={**trip, "truck_id": 1})
    assert truck.status_code == 404 and "unknown truck 1" in truck.json()["message"]
    route = client.post("/predict", json={**trip, "route_id": "R-nowhere"})
    assert route.status_code == 404 and "R-nowhere" in route.json()["message"]


def test_trip_without_forecasts_answers_409(client: TestClient, course_sample_dir: Path) -> None:
    trip = {**_trip(course_sample_dir), "departure": "2030-06-01T07:00:00"}
    answer = client.post("/predict", json=trip)
    assert answer.status_code == 409, answer.text
    assert "forecasts not arrived" in answer.json()["message"]


def test_release_of_the_trained_model_smokes_real_trips(served: dict) -> None:
    """The release flow on the model the training pipeline registered: smoke requests look
    real scheduled trips up through /predict; production is already this version."""
    from truckflow.pipelines.release import release_model
    from truckflow.pipelines.runtime import Runtime
    from truckflow.registry.deployments import list_deployments

    # The one-trip lookup costs hundreds of ms on this shared machine (see benchmarks/): the
    # budget here is wide, the latency check's verdict is tested with the tiny models.
    settings = served["settings"].model_copy(update={"release_latency_budget_ms": 30_000.0})
    version = served["version"].version
    registry = ModelRegistry.from_settings(settings)
    registry.delete_alias("production")
    with Runtime.open(settings) as runtime:
        result = release_model(runtime, version, auto_approve=True)
        assert result.status == "promoted", result
        smoke = next(c for c in result.acceptance if c["name"] == "smoke")
        assert smoke["passed"] and smoke["details"]["problems"] == []
        latency = next(c for c in result.acceptance if c["name"] == "latency")
        print("smoke /predict latency on the course slice:", latency["details"])
        assert [(d.stage, d.version) for d in list_deployments(runtime.db)] == [
            ("production", version),
            ("staging", version),
        ]
    registry.set_alias("production", version)
