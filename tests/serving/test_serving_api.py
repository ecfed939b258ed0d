"""The API's answers: predictions naming their version, metadata, errors, metrics, capture."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from conftest import ADMIN_TOKEN, DEPARTURE, FEATURES, KNOWN_ROUTE, KNOWN_TRUCK, Registry
from truckflow.serving import feedback_summary
from truckflow.serving.tables import prediction_feedback, predictions
from truckflow.store import Database

VECTOR = {name: 0.5 for name in FEATURES}
TRIP = {"truck_id": KNOWN_TRUCK, "route_id": KNOWN_ROUTE, "departure": DEPARTURE.isoformat()}


@pytest.fixture
def client(registry: Registry, make_app: Any) -> Any:
    registry.set_alias("staging", registry.versions[0])
    with TestClient(make_app("staging")) as c:
        yield c


def _fields(body: dict[str, Any]) -> list[str]:
    return [str(e["loc"][-1]) for e in body["detail"]]


def test_predictions_name_the_serving_version(client: TestClient, registry: Registry) -> None:
    single = client.post("/predict/features", json=VECTOR).json()
    assert single["model_version"] == registry.versions[0]
    assert single["stage"] == "staging"
    assert 0.0 <= single["probability"] <= 1.0
    assert single["delayed"] == (single["probability"] >= 0.4)

    trip = client.post("/predict", json=TRIP)
    assert trip.status_code == 200, trip.text
    assert trip.headers["x-model-version"] == registry.versions[0]

    batch = client.post("/predict/batch", json={"trips": [TRIP, TRIP, TRIP]}).json()
    assert batch["model_version"] == registry.versions[0]
    assert len(batch["predictions"]) == 3
    assert len({p["prediction_id"] for p in batch["predictions"]}) == 3

    rows = client.post("/predict/features/batch", json={"rows": [VECTOR] * 4}).json()
    assert [p["probability"] for p in rows["predictions"]] == [single["probability"]] * 4

    # The compact form, columns in another order than the model's, is answered compact.
    columns = FEATURES[::-1]
    compact = {"columns": columns, "data": [[VECTOR[c] for c in columns]] * 2}
    packed = client.post("/predict/features/batch", json=compact).json()
    assert packed["probabilities"] == [single["probability"]] * 2
    assert len(packed["prediction_ids"]) == 2
    assert packed["model_version"] == registry.versions[0]


def test_model_and_health_describe_the_version(client: TestClient, registry: Registry) -> None:
    model = client.get("/model").json()
    assert model["model_version"] == registry.versions[0]
    assert model["model_name"] == registry.name
    assert model["stage"] == "staging"
    assert model["feature_names"] == FEATURES
    assert model["metrics"]["f1"] == pytest.approx(0.7)
    assert model["data_window"] == {"start": "2019-01-01", "end": "2019-01-30"}
    assert model["threshold"] == pytest.approx(0.4)
    assert client.get("/health").json() == {
        "status": "ok",
        "stage": "staging",
        "model_version": registry.versions[0],
    }


def test_malformed_requests_name_each_bad_field(client: TestClient) -> None:
    bad_trip = client.post("/predict", json={"route_id": KNOWN_ROUTE, "departure": "yesterday"})
    assert bad_trip.status_code == 422
    assert sorted(_fields(bad_trip.json())) == ["departure", "truck_id"]
    assert "truck_id" in bad_trip.json()["message"]

    vector = {k: v for k, v in VECTOR.items() if k != "route_humidity"} | {"truck_age": "old"}
    bad_vector = client.post("/predict/features", json=vector)
    assert bad_vector.status_code == 422
    assert sorted(_fields(bad_vector.json())) == ["route_humidity", "truck_age"]

    extra = client.post("/predict/features", json=VECTOR | {"colour": 1.0})
    assert extra.status_code == 422
    assert _fields(extra.json()) == ["colour"]

    compact = {"columns": FEATURES[:-1], "data": [[0.1] * 4, [0.1] * 3]}
    bad_compact = client.post("/predict/features/batch", json=compact)
    assert bad_compact.status_code == 422
    assert sorted(_fields(bad_compact.json())) == ["1", FEATURES[-1]]
    both = client.post("/predict/features/batch", json=compact | {"rows": [VECTOR]})
    assert both.status_code == 422
    assert "either 'rows' or both 'columns' and 'data'" in both.json()["message"]

    bad_verdict = client.post("/feedback", json={"prediction_id": "x", "verdict": "maybe"})
    assert bad_verdict.status_code == 422
    assert _fields(bad_verdict.json()) == ["verdict"]


def test_unknown_truck_or_route_is_404_naming_the_id(client: TestClient) -> None:
    truck = client.post("/predict", json=TRIP | {"truck_id": 999})
    assert truck.status_code == 404
    assert "truck 999" in truck.json()["message"]
    route = client.post("/predict/batch", json={"trips": [TRIP, TRIP | {"route_id": "R-nowhere"}]})
    assert route.status_code == 404
    assert "R-nowhere" in route.json()["message"]


def test_trip_without_forecasts_is_409(client: TestClient) -> None:
    later = client.post("/predict", json=TRIP | {"departure": "2019-03-01T07:00:00"})
    assert later.status_code == 409
    assert "not arrived" in later.json()["message"]


def test_no_model_on_the_stage_is_503(registry: Registry, make_app: Any) -> None:
    with TestClient(make_app("production")) as c:
        for response in (
            c.post("/predict/features", json=VECTOR),
            c.post("/predict", json=TRIP),
            c.get("/health"),
            c.get("/model"),
        ):
            assert response.status_code == 503
            assert "no model deployed on stage 'production'" in response.json()["message"]


def test_trip_lookup_without_a_feature_source_is_503(registry: Registry, make_app: Any) -> None:
    registry.set_alias("staging", registry.versions[0])
    with TestClient(make_app("staging", with_features=False)) as c:
        response = c.post("/predict", json=TRIP)
        assert response.status_code == 503
        assert "no feature source" in response.json()["message"]
        assert c.post("/predict/features", json=VECTOR).status_code == 200


def test_admin_reload_needs_the_token(client: TestClient, registry: Registry) -> None:
    assert client.post("/admin/reload").status_code == 401
    wrong = client.post("/admin/reload", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    registry.set_alias("staging", registry.versions[1])
    ok = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert ok.status_code == 200
    assert ok.json() == {
        "stage": "staging",
        "previous_version": registry.versions[0],
        "model_version": registry.versions[1],
        "changed": True,
    }
    assert client.post("/predict/features", json=VECTOR).json()["model_version"] == "2"


def test_metrics_parse_as_prometheus_text(client: TestClient, registry: Registry) -> None:
    for _ in range(3):
        client.post("/predict/features", json=VECTOR)
    client.post("/predict/features/batch", json={"rows": [VECTOR, VECTOR]})
    client.post("/predict", json=TRIP | {"truck_id": 999})
    text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    by_class = {
        s.labels["predicted_class"]: s.value
        for s in families["truckflow_predictions"].samples
        if s.name == "truckflow_predictions_total"
    }
    assert sum(by_class.values()) == 5
    route = (("method", "POST"), ("route", "/predict/features"), ("status", "200"))
    assert samples[("truckflow_requests_total", route)] == 3
    assert (
        samples[
            (
                "truckflow_requests_total",
                (("method", "POST"), ("route", "/predict"), ("status", "404")),
            )
        ]
        == 1
    )
    histogram = families["truckflow_request_latency_seconds"]
    counts = [
        s
        for s in histogram.samples
        if s.name.endswith("_count") and s.labels["route"] == "/predict/features"
    ]
    assert counts[0].value == 3
    info = (("stage", "staging"), ("version", registry.versions[0]))
    assert samples[("truckflow_model_version_info", info)] == 1


def test_every_prediction_is_captured(
    client: TestClient, trip_db: Database, registry: Registry
) -> None:
    one = client.post("/predict/features", json=VECTOR).json()
    trip = client.post("/predict", json=TRIP).json()
    batch = client.post("/predict/features/batch", json={"rows": [VECTOR] * 3}).json()
    assert client.app.state.writer.flush()  # type: ignore[attr-defined]
    with trip_db.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(predictions))}
    assert len(rows) == 5
    captured = rows[one["prediction_id"]]
    assert captured.features == VECTOR
    assert captured.inputs is None
    assert captured.probability == pytest.approx(one["probability"])
    assert captured.decision == int(one["delayed"])
    assert (captured.model_version, captured.stage, captured.source) == ("1", "staging", "api")
    looked_up = rows[trip["prediction_id"]]
    assert looked_up.inputs == TRIP
    assert set(looked_up.features) == set(FEATURES)
    for p in batch["predictions"]:
        assert rows[p["prediction_id"]].source == "batch"
        assert rows[p["prediction_id"]].request_id == batch["request_id"]


def test_feedback_is_stored_and_summarised(client: TestClient, trip_db: Database) -> None:
    ids = [client.post("/predict/features", json=VECTOR).json()["prediction_id"] for _ in range(3)]
    # Sent at once: the prediction may still be in the capture queue, and must be found anyway.
    verdicts = [("right", "looks fine"), ("wrong", None), ("right", None)]
    for prediction_id, (verdict, comment) in zip(ids, verdicts, strict=True):
        body = {"prediction_id": prediction_id, "verdict": verdict, "comment": comment}
        response = client.post("/feedback", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["verdict"] == verdict
    unknown = client.post("/feedback", json={"prediction_id": "f" * 32, "verdict": "unsure"})
    assert unknown.status_code == 404
    assert "f" * 32 in unknown.json()["message"]
    with trip_db.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(prediction_feedback)).scalar() == 3
        )
    summary = feedback_summary(trip_db, "1")
    assert (summary.predictions, summary.right, summary.wrong, summary.unsure) == (3, 2, 1, 0)
    assert summary.right_rate == pytest.approx(2 / 3)
    assert summary.comments == [
        {"prediction_id": ids[0], "verdict": "right", "comment": "looks fine"}
    ]
    assert feedback_summary(trip_db, "2").total == 0
