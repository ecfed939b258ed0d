"""The capture's feature texts: many rows encoded at once (JSON lines of a struct) are the texts
msgspec writes for each row's dict, whatever the values, names and types; a many-row batch
round-trips on each engine."""

from __future__ import annotations

import math
from datetime import datetime

import msgspec
import numpy as np
import pytest
import sqlalchemy as sa

from truckflow.serving.capture import CaptureBatch, CaptureWriter, feature_texts
from truckflow.serving.tables import predictions
from truckflow.store import Database


def _per_row(names: list[str], matrix: np.ndarray) -> list[str]:
    encoder = msgspec.json.Encoder()
    return [encoder.encode(dict(zip(names, r, strict=True))).decode() for r in matrix.tolist()]


def _awkward(rows: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    scales = 10.0 ** rng.integers(-300, 300, size=(rows, width))
    matrix = rng.normal(size=(rows, width)) * scales
    specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e16, 5e-324, 1.7976931348623157e308]
    for i, value in enumerate(specials):
        matrix[i % rows, i % width] = value
    return matrix


@pytest.mark.parametrize("rows", [1, 7, 8, 9, 500])
def test_feature_texts_are_each_rows_dict_encoded(rows: int) -> None:
    names = [f"feature_{i}" for i in range(36)]
    matrix = _awkward(rows, 36)
    assert feature_texts(names, matrix) == _per_row(names, matrix)


def test_feature_texts_with_names_that_need_escaping_or_repeat() -> None:
    matrix = _awkward(40, 6)
    odd = ["a%s", 'q"uote', "back\\slash", "é", "tab\t", "100%"]
    assert feature_texts(odd, matrix) == _per_row(odd, matrix)
    repeated = ["x", "y", "x", "z", "y", "w"]  # a dict keeps the last value of a name
    assert feature_texts(repeated, matrix) == _per_row(repeated, matrix)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_, object])
def test_feature_texts_of_other_dtypes(dtype: type) -> None:
    names = ["a", "b", "c"]
    base = np.arange(60, dtype=np.float64).reshape(20, 3) - 30.5
    matrix = (base > 0).astype(dtype) if dtype is np.bool_ else base.astype(dtype)
    if dtype is object:
        matrix[3, 1] = "x, y"  # text holding a comma goes the per-row way
    assert feature_texts(names, matrix) == _per_row(names, matrix)
    assert feature_texts([], matrix[:, :0]) == _per_row([], matrix[:, :0]) == ["{}"] * 20


def test_a_many_row_batch_round_trips_on_each_engine(any_db: Database) -> None:
    n = 1_200  # more than one chunk, with NaN (stored as null) and extreme values
    matrix = _awkward(n, 4)
    proba = np.linspace(0.0, 1.0, n)
    writer = CaptureWriter(any_db, batch_rows=500)
    writer.start()
    writer.submit(
        CaptureBatch(
            ids=[f"r-{i:05d}" for i in range(n)],
            request_id="req-many",
            feature_names=("a", "b", "c", "d"),
            features=matrix,
            probabilities=proba,
            decisions=proba >= 0.5,
            model_version="7",
            stage="production",
            created_at=datetime(2026, 1, 1, 12),
            source="batch",
        )
    )
    writer.close()
    with any_db.engine.connect() as conn:
        stored = conn.execute(sa.select(predictions).order_by(predictions.c.id)).all()
    assert (writer.written, writer.lost, len(stored)) == (n, 0, n)
    want = [msgspec.json.decode(t) for t in _per_row(["a", "b", "c", "d"], matrix)]
    assert [r.features for r in stored] == want
    assert [r.decision for r in stored] == [int(p >= 0.5) for p in proba]
