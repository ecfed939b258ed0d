"""The fast paths answer as the slow ones: ``/predict/features`` before FastAPI (the same
probabilities, reasons, headers and errors as the route and the batch), the capture's
column-wise encoding (the same text as a dict per row), the prepared one-trip statements (the
same rows as SQLAlchemy's execute)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from truckflow.features.fill import load_features
from truckflow.features.one_trip import _CITY, _DRIVER_ROW, _ROUTE_WEATHER, _TRAFFIC
from truckflow.serving import DatabaseFeatureSource, MlflowModelSource, create_app
from truckflow.serving.capture import feature_texts
from truckflow.settings import Settings


@pytest.fixture(scope="module")
def client(pipeline_model: dict[str, Any]) -> Iterator[TestClient]:
    app_settings: Settings = pipeline_model["settings"]
    app = create_app(
        app_settings,
        model_source=MlflowModelSource(app_settings.tracking_uri, app_settings.mlflow.model_name),
        feature_source=DatabaseFeatureSource(pipeline_model["db"]),
        db=pipeline_model["db"],
        stage="production",
        watch=False,
    )
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def bodies(pipeline_model: dict[str, Any], client: TestClient) -> list[dict[str, Any]]:
    """Stored feature rows of the course slice, then the same with blanks and unseen
    categories (what the encoder imputes and ignores)."""
    names = client.get("/model").json()["feature_names"]
    frame = load_features(pipeline_model["db"], dt.datetime(2019, 1, 1), dt.datetime(2019, 2, 1))
    out = []
    for i in range(min(len(frame), 40)):
        row = {}
        for name in names:
            value = frame.iloc[i][name]
            value = value.item() if isinstance(value, np.generic) else value
            row[name] = None if isinstance(value, float) and math.isnan(value) else value
        out.append(row)
    odd = [dict(b) for b in out[:12]]
    for k, body in enumerate(odd):
        body["fuel_type" if k % 2 else "origin_description"] = "never seen"
        body["distance" if k % 3 else "route_description"] = None
    return out + odd


def test_single_rows_equal_the_batch_with_and_without_reasons(
    client: TestClient, bodies: list[dict[str, Any]]
) -> None:
    names = list(bodies[0])
    compact = {"columns": names, "data": [[b[n] for n in names] for b in bodies]}
    for query in ("", "?reasons=3"):
        batch = client.post(f"/predict/features/batch{query}", json=compact).json()
        singles = [client.post(f"/predict/features{query}", json=b) for b in bodies]
        assert [s.status_code for s in singles] == [200] * len(bodies)
        assert [s.json()["probability"] for s in singles] == batch["probabilities"]
        assert [s.json()["delayed"] for s in singles] == batch["delayed"]
        if query:
            assert [s.json()["reasons"] for s in singles] == batch["reasons"]
        else:
            assert all("reasons" not in s.json() for s in singles)
        one = singles[0]
        assert one.headers["x-model-version"] == batch["model_version"]
        assert one.headers["content-type"] == "application/json"
        assert int(one.headers["content-length"]) == len(one.content)
        assert len({s.json()["prediction_id"] for s in singles}) == len(bodies)


def test_refusals_are_the_routes_own(client: TestClient, bodies: list[dict[str, Any]]) -> None:
    bad = client.post("/predict/features", json={**bodies[0], "distance": "far"})
    assert bad.status_code == 422 and "distance" in bad.json()["message"]
    query = client.post("/predict/features?reasons=99", json=bodies[0])
    assert query.status_code == 422 and "reasons" in query.json()["message"]
    assert client.get("/predict/features").status_code == 405
    text = client.get("/metrics").text
    assert 'route="/predict/features",status="200"' in text
    assert 'route="/predict/features",status="422"' in text


_VALUES = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=False),
    st.integers(-(2**53), 2**53),
    st.text(max_size=8),
)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=5),
    data=st.data(),
)
def test_capture_text_is_a_dict_per_row(names: list[str], data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 20))  # both sides of the dict-per-row threshold
    rows = [[data.draw(_VALUES) for _ in names] for _ in range(n)]
    array = np.empty((n, len(names)), dtype=object)
    for i, row in enumerate(rows):
        array[i, :] = row
    encoder = msgspec.json.Encoder()
    expected = [encoder.encode(dict(zip(names, r, strict=True))).decode() for r in rows]
    assert feature_texts(names, array) == expected
    floats = np.asarray(data.draw(st.lists(st.floats(), min_size=n * 2, max_size=n * 2)))
    block = floats.reshape(n, 2)
    pair = ["a", "b"]
    assert feature_texts(pair, block) == [
        encoder.encode(dict(zip(pair, r, strict=True))).decode() for r in block.tolist()
    ]


def test_prepared_statements_read_what_sqlalchemy_reads(pipeline_model: dict[str, Any]) -> None:
    db = pipeline_model["db"]
    start = dt.datetime(2019, 1, 1, 6)
    with db.engine.connect() as conn:
        route = conn.exec_driver_sql("SELECT route_id FROM routes LIMIT 1").scalar()
        city = conn.exec_driver_sql("SELECT city_id FROM city_weather LIMIT 1").scalar()
        truck = conn.exec_driver_sql("SELECT vehicle_no FROM drivers LIMIT 1").scalar()
        cases = [
            (_ROUTE_WEATHER, {"route": route, "t0": start, "t1": start + dt.timedelta(days=1)}),
            (
                _TRAFFIC,
                {"route": route, "d0": start.date(), "d1": start.date(), "h0": 600, "h1": 1800},
            ),
            (_CITY, {"city": city, "day": start.date(), "hhmm": 600}),
            (_DRIVER_ROW, {"truck": truck}),
        ]
        for prepared, params in cases:
            expected = [tuple(r) for r in conn.execute(prepared.statement, params).all()]
            got = prepared.all(conn, params)
            assert expected, prepared.statement
            assert [tuple(r) for r in got] == expected
            assert [type(v) for v in got[0]] == [type(v) for v in expected[0]]
            assert got[0]._fields == tuple(conn.execute(prepared.statement, params).keys())


def test_one_trip_on_the_event_loop_answers_as_the_batch(
    client: TestClient, pipeline_model: dict[str, Any]
) -> None:
    frame = load_features(pipeline_model["db"], dt.datetime(2019, 1, 1), dt.datetime(2019, 2, 1))
    trips = [
        {
            "truck_id": int(r.truck_id),
            "route_id": str(r.route_id),
            # Not stored: computed on demand (one by one alone, all at once in the batch).
            "departure": (pd.Timestamp(r.departure_date) + pd.Timedelta(minutes=30)).isoformat(),
        }
        for r in frame.head(6).itertuples()
    ]
    singles = [client.post("/predict?reasons=0", json=t) for t in trips]
    answered = [(t, s.json()) for t, s in zip(trips, singles, strict=True) if s.status_code == 200]
    assert answered, [s.text for s in singles]
    # The batch computes the same trips in the thread pool (the single trips on the loop).
    batch = client.post("/predict/batch?reasons=0", json={"trips": [t for t, _ in answered]})
    assert batch.status_code == 200, batch.text
    expected = [p["probability"] for p in batch.json()["predictions"]]
    assert [s["probability"] for _, s in answered] == expected
    assert all(s["features_complete"] for _, s in answered)
