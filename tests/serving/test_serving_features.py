"""/predict answers from the database through the feature code, with the model the training
pipeline registers (course slice ingested into SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from truckflow.features.rows import frame_rows
from truckflow.features.stored import StoredFeatures
from truckflow.registry import ModelRegistry
from truckflow.serving import DatabaseFeatureSource, MlflowModelSource, create_app
from truckflow.serving.model import Trip
from truckflow.settings import Settings


@pytest.fixture(scope="module")
def served(pipeline_model: dict) -> dict:
    return pipeline_model


@pytest.fixture(scope="module")
def course_sample_dir(pipeline_sample: Path) -> Path:
    return pipeline_sample


def _app(served: dict, source: DatabaseFeatureSource) -> Any:
    settings: Settings = served["settings"]
    return create_app(
        settings,
        model_source=MlflowModelSource(settings.tracking_uri, settings.mlflow.model_name),
        feature_source=source,
        db=served["db"],
        stage="production",
        watch=False,
    )


@pytest.fixture(scope="module")
def source(served: dict) -> DatabaseFeatureSource:
    return DatabaseFeatureSource(served["db"])


@pytest.fixture(scope="module")
def client(served: dict, source: DatabaseFeatureSource) -> Iterator[TestClient]:
    with TestClient(_app(served, source)) as c:
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
    from truckflow.pipelines.release.pipeline import release_model
    from truckflow.pipelines.runtime import Runtime
    from truckflow.registry.deployments import list_deployments

    # The one-trip lookup costs hundreds of ms on this shared machine (see benchmarks/): the
    # budget here is wide, the latency check's verdict is tested with the tiny models.
    settings = served["settings"].updated(release={"latency_budget_ms": 30_000.0})
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


def _january_trips(course_sample_dir: Path) -> list[Trip]:
    """The sample's scheduled trips that the fixture's fill stored (departures in January)."""
    schedule = pd.read_csv(course_sample_dir / "truck_schedule_table.csv")
    schedule["departure_date"] = pd.to_datetime(schedule["departure_date"])
    january = schedule[schedule["departure_date"] < "2019-02-01"]
    return [
        Trip(int(t.truck_id), str(t.route_id), t.departure_date.to_pydatetime())
        for t in january.itertuples()
    ]


def test_stored_rows_equal_the_on_demand_compute(served: dict, course_sample_dir: Path) -> None:
    """Every stored trip's row is, value for value and type for type, what the feature code
    computes for it on demand: the model and the capture get the same row either way."""
    settings: Settings = served["settings"]
    version = served["version"].version
    names = (
        MlflowModelSource(settings.tracking_uri, settings.mlflow.model_name)
        .load(version)
        .feature_names
    )
    trips = _january_trips(course_sample_dir)
    source = DatabaseFeatureSource(served["db"])
    stored, missing = source.feature_rows(trips, names, version)
    assert list(missing) == [] and source.stored_hits == len(trips) and source.computed == 0
    frame, waiting = source.features_for_trips(trips)
    assert list(waiting) == []
    computed = frame_rows(frame, names, version)
    assert stored.shape == computed.shape == (len(trips), len(names))
    assert stored.tolist() == computed.tolist()
    assert [[type(v) for v in row] for row in stored.tolist()] == [
        [type(v) for v in row] for row in computed.tolist()
    ]


def test_stored_trip_is_read_and_others_computed(
    client: TestClient, source: DatabaseFeatureSource, served: dict, course_sample_dir: Path
) -> None:
    trip = _trip(course_sample_dir)
    hits, computed = source.stored_hits, source.computed
    stored = client.post("/predict", json=trip)
    assert stored.status_code == 200, stored.text
    assert (source.stored_hits, source.computed) == (hits + 1, computed)
    # Another departure hour is not stored: computed on demand.
    later = {**trip, "departure": str(pd.Timestamp(str(trip["departure"])) + pd.Timedelta(hours=1))}
    assert client.post("/predict", json=later).status_code == 200
    assert (source.stored_hits, source.computed) == (hits + 1, computed + 1)
    # A source of another feature-set version finds no row of its own: the same trip is
    # computed, with the same probability.
    other = DatabaseFeatureSource(served["db"], version="0-other")
    with TestClient(_app(served, other)) as c:
        answer = c.post("/predict", json=trip)
    assert answer.status_code == 200, answer.text
    assert (other.stored_hits, other.computed) == (0, 1)
    assert answer.json()["probability"] == stored.json()["probability"]


def test_stored_row_serves_only_its_own_route(served: dict, course_sample_dir: Path) -> None:
    trips = _january_trips(course_sample_dir)[:2]
    assert trips[0].route_id != trips[1].route_id
    elsewhere = Trip(trips[0].truck_id, trips[1].route_id, trips[0].departure)
    store = StoredFeatures()
    names = ["distance", "average_hours"]
    with served["db"].engine.connect() as conn:
        assert sorted(store.rows(conn, [trips[0], elsewhere, trips[0]], names)) == [0, 2]
        assert store.rows(conn, [elsewhere], names) == {}
        assert StoredFeatures("0-other").rows(conn, trips, names) == {}
