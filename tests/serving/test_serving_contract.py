"""/predict/features takes the feature contract the training pipeline recorded with the version:
feature columns only, categories as strings, every bad value a 422 naming its field; bodies
over the limits are 413; each prediction can say why (its top contributions)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from truckflow.features.definition import FEATURE_COLUMNS, KEY_COLUMNS, LABEL, TRIP_COLUMNS
from truckflow.features.fill import load_features
from truckflow.registry import FeatureContract, ModelRegistry, load_version
from truckflow.serving import DatabaseFeatureSource, MlflowModelSource, create_app
from truckflow.settings import Settings


def _app(model: dict[str, Any], **changes: Any) -> Any:
    settings: Settings = model["settings"].updated(serving=changes)
    return create_app(
        settings,
        model_source=MlflowModelSource(settings.tracking_uri, settings.mlflow.model_name),
        feature_source=DatabaseFeatureSource(model["db"]),
        db=model["db"],
        stage="production",
        watch=False,
    )


@pytest.fixture(scope="module")
def client(pipeline_model: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(_app(pipeline_model)) as c:
        yield c


@pytest.fixture(scope="module")
def stored(pipeline_model: dict[str, Any]) -> pd.DataFrame:
    """Feature rows the feature store holds for the course slice's January trips."""
    return load_features(pipeline_model["db"], dt.datetime(2019, 1, 1), dt.datetime(2019, 2, 1))


def _body(row: pd.Series, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = row[name]
        if isinstance(value, np.generic):
            value = value.item()
        out[name] = None if isinstance(value, float) and math.isnan(value) else value
    return out


def _contract(pipeline_model: dict[str, Any]) -> FeatureContract:
    settings: Settings = pipeline_model["settings"]
    loaded = load_version(ModelRegistry.from_settings(settings), pipeline_model["version"].version)
    assert loaded.contract is not None
    return loaded.contract


def test_training_records_the_contract_and_signature(pipeline_model: dict[str, Any]) -> None:
    settings: Settings = pipeline_model["settings"]
    loaded = load_version(ModelRegistry.from_settings(settings), pipeline_model["version"].version)
    contract = loaded.contract
    assert contract is not None
    assert list(contract.names) == list(FEATURE_COLUMNS)
    assert not {*KEY_COLUMNS, *TRIP_COLUMNS, LABEL} & set(contract.names)
    assert loaded.signature_names == contract.names
    fuel = contract.spec("fuel_type")
    assert fuel.kind == "categorical" and set(fuel.categories) >= {"diesel"}
    distance = contract.spec("distance")
    assert distance.kind == "numeric" and distance.unit == "miles"
    assert distance.minimum is not None and distance.maximum is not None
    assert distance.minimum <= distance.maximum
    assert contract.spec("accident").kind == "binary"


def test_openapi_shows_exactly_the_contract(
    client: TestClient, pipeline_model: dict[str, Any]
) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/predict/features"]["post"]["requestBody"]["content"]
    properties = body["application/json"]["schema"]["properties"]
    assert list(properties) == list(_contract(pipeline_model).names)
    fuel = properties["fuel_type"]
    assert {"type": "string", "maxLength": 200} in fuel["anyOf"]
    assert "diesel" in fuel["description"]
    responses = schema["paths"]["/predict/features"]["post"]["responses"]
    assert {"200", "413", "422"} <= set(responses)
    assert {"404", "409", "413", "422"} <= set(schema["paths"]["/predict"]["post"]["responses"])


def test_a_stored_feature_row_predicts_as_its_trip(
    client: TestClient, stored: pd.DataFrame, pipeline_model: dict[str, Any]
) -> None:
    names = list(_contract(pipeline_model).names)
    for i in (0, 7, 21):
        row = stored.iloc[i]
        by_features = client.post("/predict/features", json=_body(row, names))
        assert by_features.status_code == 200, by_features.text
        trip = {
            "truck_id": int(row["truck_id"]),
            "route_id": str(row["route_id"]),
            "departure": pd.Timestamp(row["departure_date"]).isoformat(),
        }
        by_trip = client.post("/predict", json=trip)
        assert by_trip.status_code == 200, by_trip.text
        assert by_features.json()["probability"] == pytest.approx(
            by_trip.json()["probability"], rel=1e-12, abs=1e-15
        )


def test_unknown_categories_and_blanks_are_taken_as_the_encoder_does(
    client: TestClient, stored: pd.DataFrame, pipeline_model: dict[str, Any]
) -> None:
    body = _body(stored.iloc[0], list(_contract(pipeline_model).names))
    unseen = client.post("/predict/features", json={**body, "origin_description": "Volcanic ash"})
    assert unseen.status_code == 200, unseen.text
    blank = client.post("/predict/features", json={**body, "distance": None, "fuel_type": None})
    assert blank.status_code == 200, blank.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"origin_precip": 1.79e308}, "origin_precip"),
        ({"origin_precip": True}, "origin_precip"),
        ({"distance": "far"}, "distance"),
        ({"fuel_type": 3}, "fuel_type"),
        ({"accident": 7}, "accident"),
        ({"truck_id": 1}, "truck_id"),
        ({"delay": 1}, "delay"),
    ],
)
def test_values_the_model_cannot_take_are_422_naming_the_field(
    client: TestClient,
    stored: pd.DataFrame,
    pipeline_model: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**_body(stored.iloc[0], list(_contract(pipeline_model).names)), **change}
    answer = client.post("/predict/features", json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["message"]
    missing = dict(body)
    missing.pop("ratings")
    assert "ratings" in client.post("/predict/features", json=missing).json()["message"]
    assert client.post("/predict/features", content=b"1e999").status_code == 422


def test_batches_take_rows_and_the_compact_form(
    client: TestClient, stored: pd.DataFrame, pipeline_model: dict[str, Any]
) -> None:
    names = list(_contract(pipeline_model).names)
    bodies = [_body(stored.iloc[i], names) for i in range(5)]
    rows = client.post("/predict/features/batch", json={"rows": bodies})
    assert rows.status_code == 200, rows.text
    singles = [client.post("/predict/features", json=b).json()["probability"] for b in bodies]
    assert [p["probability"] for p in rows.json()["predictions"]] == pytest.approx(singles)
    compact = {"columns": names, "data": [[b[n] for n in names] for b in bodies]}
    answer = client.post("/predict/features/batch?reasons=2", json=compact)
    assert answer.status_code == 200, answer.text
    assert answer.json()["probabilities"] == pytest.approx(singles)
    assert [len(r) for r in answer.json()["reasons"]] == [2] * 5
    bad = {"columns": names, "data": [[*compact["data"][0][:-1], "x"]]}
    wrong = client.post("/predict/features/batch", json=bad)
    assert wrong.status_code == 422 and names[-1] in wrong.json()["message"]


def test_predictions_say_why(client: TestClient, stored: pd.DataFrame) -> None:
    row = stored.iloc[3]
    trip = {
        "truck_id": int(row["truck_id"]),
        "route_id": str(row["route_id"]),
        "departure": pd.Timestamp(row["departure_date"]).isoformat(),
    }
    answer = client.post("/predict?reasons=3", json=trip).json()
    reasons = answer["reasons"]
    assert len(reasons) == 3
    sizes = [abs(r["contribution"]) for r in reasons]
    assert sizes == sorted(sizes, reverse=True)
    for reason in reasons:
        assert reason["feature"] in FEATURE_COLUMNS
        verb = "raises" if reason["contribution"] >= 0 else "lowers"
        assert reason["text"].startswith(f"{reason['feature']} = ")
        assert f"{verb} the risk by {abs(reason['contribution']):.2f}" in reason["text"]
    default = client.post("/predict", json=trip).json()  # 3 reasons unless told otherwise
    assert default["reasons"] == reasons
    assert default["features_complete"] is True and default["missing_groups"] == []
    assert "reasons" not in client.post("/predict?reasons=0", json=trip).json()  # the opt-out
    batch = client.post("/predict/batch", json={"trips": [trip, trip]}).json()["predictions"]
    assert [item["reasons"] for item in batch] == [reasons, reasons]


def test_a_partial_stored_row_is_flagged(
    client: TestClient, stored: pd.DataFrame, pipeline_model: dict[str, Any]
) -> None:
    """A trip served from a row stored without some inputs says so, with the groups it lacked."""
    import sqlalchemy as sa

    from truckflow.features.tables import trip_features

    row = stored.iloc[5]
    trip = {
        "truck_id": int(row["truck_id"]),
        "route_id": str(row["route_id"]),
        "departure": pd.Timestamp(row["departure_date"]).isoformat(),
    }
    key = (trip_features.c.truck_id == trip["truck_id"]) & (
        trip_features.c.departure_date == pd.Timestamp(row["departure_date"]).to_pydatetime()
    )
    engine = pipeline_model["db"].engine
    with engine.begin() as conn:
        conn.execute(sa.update(trip_features).where(key).values(missing_inputs="traffic,entities"))
    try:
        answer = client.post("/predict?reasons=0", json=trip).json()
        batch = client.post("/predict/batch?reasons=0", json={"trips": [trip]}).json()
    finally:
        with engine.begin() as conn:
            conn.execute(sa.update(trip_features).where(key).values(missing_inputs=None))
    assert answer["features_complete"] is False
    assert answer["missing_groups"] == ["traffic", "entities"]
    item = batch["predictions"][0]
    assert item["features_complete"] is False and item["missing_groups"] == ["traffic", "entities"]


def test_rows_over_the_limit_are_413(pipeline_model: dict[str, Any], stored: pd.DataFrame) -> None:
    names = list(_contract(pipeline_model).names)
    body = _body(stored.iloc[0], names)
    with TestClient(_app(pipeline_model, max_batch_rows=3)) as c:
        answer = c.post("/predict/features/batch", json={"rows": [body] * 4})
        assert answer.status_code == 413, answer.text
        assert "serving.max_batch_rows" in answer.json()["message"]
        assert c.post("/predict/features/batch", json={"rows": [body] * 3}).status_code == 200
