"""Concurrent single rows share model calls, and each still gets exactly its own answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from conftest import FEATURES, Registry
from truckflow.serving.coalesce import RowCoalescer
from truckflow.serving.contribs import dense_contributions
from truckflow.serving.holder import ServedModel
from truckflow.serving.mlflow_source import MlflowLoadedModel
from truckflow.training.booster import dense_predictor


def _booster_model(version: str = "1", seed: int = 0) -> MlflowLoadedModel:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.random((400, len(FEATURES))), columns=FEATURES)
    label = (frame["distance"] + 0.3 * rng.random(400) > 0.65).astype(int)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=4).fit(frame, label)
    return MlflowLoadedModel(
        version=version, feature_names=FEATURES, threshold=0.5, estimator=model
    )


def test_direct_booster_call_equals_inplace_predict() -> None:
    model = _booster_model()
    booster = model.estimator.get_booster()
    direct = dense_predictor(booster, len(FEATURES))
    assert direct is not None
    rows = np.random.default_rng(1).normal(size=(500, len(FEATURES)))
    rows[::7, 2] = np.nan
    for part in (rows, rows[:1], rows[3:11]):
        expected = np.asarray(booster.inplace_predict(part), dtype=np.float64)
        assert np.array_equal(direct(part), expected)
    assert model.row_independent


def test_a_direct_call_that_disagrees_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import truckflow.training.booster as module

    booster = _booster_model().estimator.get_booster()
    monkeypatch.setattr(module, "_direct", lambda _: lambda rows: np.zeros(len(rows)))
    assert module.dense_predictor(booster, len(FEATURES)) is None


def test_direct_contributions_equal_pred_contribs() -> None:
    booster = _booster_model().estimator.get_booster()
    direct = dense_contributions(booster, len(FEATURES))
    assert direct is not None
    rows = np.random.default_rng(3).normal(size=(50, len(FEATURES)))
    rows[::6, 1] = np.nan
    for part in (rows, rows[:1], rows[4:9]):
        expected = booster.predict(xgb.DMatrix(part), pred_contribs=True, validate_features=False)
        assert np.array_equal(direct(part), expected)


def test_rows_asking_for_reasons_share_one_call_and_keep_their_own() -> None:
    served = ServedModel(_booster_model(), "staging")
    rows = np.random.default_rng(4).random((6, len(FEATURES)))
    coalescer = RowCoalescer()

    async def ask() -> list[Any]:
        futures: list[Any] = [
            coalescer.predict_explained(served, rows[i : i + 1], 1 + i % 3) for i in range(4)
        ]
        futures += [coalescer.predict(served, rows[i : i + 1]) for i in (4, 5)]
        return list(await asyncio.gather(*futures))

    answers = asyncio.run(ask())
    assert coalescer.calls == 2  # one call with reasons, one without
    for i, (proba, why) in enumerate(answers[:4]):
        assert proba == served.predict(rows[i : i + 1])[0]
        assert why == served.reasons(rows[i : i + 1], 1 + i % 3)[0]
        assert len(why) == 1 + i % 3
    assert answers[4:] == served.predict(rows[4:6]).tolist()


def test_rows_ready_together_share_one_call_and_keep_their_answers() -> None:
    first, second = (
        ServedModel(_booster_model("1"), "staging"),
        ServedModel(_booster_model("2", seed=5), "staging"),
    )
    rows = np.random.default_rng(2).random((12, len(FEATURES)))
    coalescer = RowCoalescer()

    async def ask() -> list[float]:
        futures = [
            coalescer.predict(first if i % 3 else second, rows[i : i + 1]) for i in range(len(rows))
        ]
        return list(await asyncio.gather(*futures))

    answers = asyncio.run(ask())
    assert coalescer.calls == 2  # one per served model: versions are never mixed
    for i, answer in enumerate(answers):
        alone = (first if i % 3 else second).predict(rows[i : i + 1])[0]
        assert answer == alone


def test_a_failing_call_fails_each_waiting_request() -> None:
    class Broken:
        def predict(self, rows: np.ndarray) -> np.ndarray:
            raise RuntimeError("model failed")

    coalescer = RowCoalescer()

    async def ask() -> list[Any]:
        broken: Any = Broken()
        futures = [coalescer.predict(broken, np.zeros((1, 3))) for _ in range(3)]
        return list(await asyncio.gather(*futures, return_exceptions=True))

    assert [str(e) for e in asyncio.run(ask())] == ["model failed"] * 3


def test_concurrent_requests_are_answered_as_alone(registry: Registry, make_app: Any) -> None:
    registry.set_alias("staging", registry.versions[0])  # an XGBoost version
    app = make_app("staging")
    rng = np.random.default_rng(3)
    vectors = [
        dict(zip(FEATURES, rng.random(len(FEATURES)).tolist(), strict=True)) for _ in range(24)
    ]

    async def run() -> tuple[list[float], list[float]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            together = await asyncio.gather(
                *(client.post("/predict/features", json=v) for v in vectors)
            )
            alone = [await client.post("/predict/features", json=v) for v in vectors]
        return (
            [r.json()["probability"] for r in together],
            [r.json()["probability"] for r in alone],
        )

    together, alone = asyncio.run(run())
    assert together == alone
    assert app.state.predictor.coalescer.calls < len(vectors)


def test_kept_contributions_give_the_same_reasons_without_treeshap() -> None:
    fresh = _booster_model()
    kept = MlflowLoadedModel(
        version="1",
        feature_names=FEATURES,
        threshold=0.5,
        estimator=fresh.estimator,
        reasons_cache=4,
    )
    rows = np.random.default_rng(6).random((6, len(FEATURES)))
    expected = fresh.explain(rows, 3)
    assert kept.explain(rows[:3], 3) == expected[:3]
    explainer = kept.__dict__["_explainer"]
    calls: list[int] = []
    compute = explainer._contributions
    explainer._contributions = lambda encoded: calls.append(len(encoded)) or compute(encoded)
    assert kept.explain(rows, 3) == expected  # three kept, three computed
    assert calls == [3]
    assert len(explainer._cache) == 4  # the least recently used dropped
    assert kept.kept(rows[2:]) and not kept.kept(rows[:2])
    assert kept.explain(rows[2:], 3) == expected[2:]
    assert calls == [3]  # all four kept
