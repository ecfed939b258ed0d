"""Automated acceptance of a version on a stage: smoke requests, a latency budget, and a shadow
evaluation against production on recent labelled trips.

Smoke requests go to a running server when ``release.staging_url`` is set, else to an in-process
app built by ``truckflow.serving.create_app`` (the same code a server runs), so acceptance works
on a laptop with nothing started.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.features.definition import LABEL
from truckflow.features.fill import load_features
from truckflow.features.tables import trip_features
from truckflow.registry import ModelRegistry, Stage, load_version
from truckflow.settings import Settings
from truckflow.store import Database
from truckflow.store import tables as s

__all__ = ["Check", "model_frame", "score_metrics", "shadow_evaluation", "smoke_checks"]


@dataclass(frozen=True)
class Check:
    """One acceptance check: passed or not, a sentence saying why, and its figures."""

    name: str
    passed: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def _client(settings: Settings, db: Database, stage: str) -> Iterator[Any]:
    import httpx

    if stage == Stage.STAGING and settings.release.staging_url:
        with httpx.Client(base_url=settings.release.staging_url, timeout=30) as client:
            yield client
        return
    from truckflow.serving import DatabaseFeatureSource, MlflowModelSource, create_app
    from truckflow.serving.background import BackgroundServer

    source = MlflowModelSource(settings.tracking_uri, settings.mlflow.model_name)
    features = DatabaseFeatureSource(db)
    app = create_app(
        settings, model_source=source, feature_source=features, db=db, stage=stage, watch=False
    )
    # A real server on loopback: the latency budget covers HTTP as a client sees it.
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _recent_rows(db: Database, n: int) -> list[tuple[int, str, dt.datetime]]:
    """The ``n`` most recent scheduled trips whose features were computed (so their forecasts
    are in): real trips for ``/predict``."""
    tf, ts = trip_features, s.truck_schedule
    query = (
        sa.select(ts.c.truck_id, ts.c.route_id, ts.c.departure_date)
        .select_from(
            ts.join(
                tf,
                sa.and_(tf.c.truck_id == ts.c.truck_id, tf.c.departure_date == ts.c.departure_date),
            )
        )
        .distinct()
        .order_by(ts.c.departure_date.desc())
        .limit(n)
    )
    with db.engine.connect() as conn:
        return [(int(r[0]), str(r[1]), r[2]) for r in conn.execute(query)]


def _requests(
    rows: list[tuple[int, str, dt.datetime]], names: list[str], n: int
) -> list[tuple[str, dict[str, Any]]]:
    """The smoke requests: recent real trips through ``/predict`` (the feature lookup) when the
    feature store has some, else zero vectors through ``/predict/features``."""
    if not rows:
        return [("/predict/features", dict.fromkeys(names, 0.0)) for _ in range(n)]
    trips = [
        ("/predict", {"truck_id": truck, "route_id": route, "departure": departure.isoformat()})
        for truck, route, departure in rows
    ]
    return (trips * (n // len(trips) + 1))[:n]


def smoke_checks(settings: Settings, db: Database, version: str, stage: str) -> tuple[Check, Check]:
    """Health, model and prediction requests against the stage; their latency against budget."""
    problems: list[str] = []
    latencies: list[float] = []
    n = settings.release.smoke_requests
    with _client(settings, db, stage) as client:
        health = client.get("/health")
        if health.status_code != 200 or health.json().get("model_version") != version:
            problems.append(f"/health answered {health.status_code} {health.text[:200]}")
        info = client.get("/model")
        names: list[str] = info.json().get("feature_names", []) if info.status_code == 200 else []
        if info.status_code != 200:
            problems.append(f"/model answered {info.status_code} {info.text[:200]}")
        for path, body in _requests(_recent_rows(db, n), names, n) if names else []:
            began = time.perf_counter()
            answer = client.post(path, json=body)
            latencies.append((time.perf_counter() - began) * 1000)
            body = answer.json() if answer.status_code == 200 else {}
            if answer.status_code != 200 or body.get("model_version") != version:
                problems.append(
                    f"/predict/features answered {answer.status_code} {answer.text[:200]}"
                )
                break
    smoke = Check(
        "smoke",
        not problems,
        f"{len(latencies)} predictions from version {version} on {stage}"
        if not problems
        else "; ".join(problems),
        {"requests": len(latencies) + 2, "problems": problems},
    )
    budget = settings.release.latency_budget_ms
    if not latencies:
        return smoke, Check("latency", False, "no prediction answered: no latency to measure")
    p50, p95 = (float(np.percentile(latencies, q)) for q in (50, 95))
    latency = Check(
        "latency",
        p95 <= budget,
        f"p95 {p95:.1f} ms {'within' if p95 <= budget else 'over'} the budget of {budget:.0f} ms",
        {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "budget_ms": budget},
    )
    return smoke, latency


def model_frame(model: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """The columns a fitted model was trained on, when it says which."""
    names = getattr(model, "feature_names_in_", None)
    return frame[[str(n) for n in names]] if names is not None else frame


def score_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    predicted = (scores >= threshold).astype(int)
    out = {
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "accuracy": float(np.mean(predicted == y)),
        "threshold": float(threshold),
    }
    if len(set(y.tolist())) == 2:
        out["roc_auc"] = float(roc_auc_score(y, scores))
    return out


def _labelled(db: Database, n: int) -> pd.DataFrame:
    with db.engine.connect() as conn:
        latest = conn.execute(
            sa.select(sa.func.max(trip_features.c.estimated_arrival)).where(
                trip_features.c[LABEL].is_not(None)
            )
        ).scalar()
    if latest is None:
        return pd.DataFrame()
    frame = load_features(
        db, latest - pd.Timedelta(days=60), by="estimated_arrival", labelled_only=True
    )
    return frame.tail(n)


def _decisions(registry: ModelRegistry, version: str, frame: pd.DataFrame) -> tuple[Any, float]:
    loaded = load_version(registry, version)
    model, threshold = loaded.model, loaded.threshold
    proba = np.asarray(model.predict_proba(model_frame(model, frame)), dtype=np.float64)
    return (proba[:, 1] if proba.ndim == 2 else proba), threshold


def shadow_evaluation(settings: Settings, db: Database, version: str) -> Check:
    """Both models on the same recent labelled trips: metrics side by side, agreement rate."""
    registry = ModelRegistry.from_settings(settings)
    production = registry.get_alias(Stage.PRODUCTION)
    if production is None:
        return Check("shadow", True, "no production model yet: nothing to compare against")
    if production.version == version:
        return Check("shadow", True, f"version {version} is already production")
    frame = _labelled(db, settings.release.shadow_trips)
    if frame.empty:
        return Check("shadow", True, "no labelled trips in the feature store: not compared")
    y = frame[LABEL].astype(int).to_numpy()
    new_scores, new_t = _decisions(registry, version, frame)
    old_scores, old_t = _decisions(registry, production.version, frame)
    new, old = score_metrics(y, new_scores, new_t), score_metrics(y, old_scores, old_t)
    agreement = float(np.mean((new_scores >= new_t) == (old_scores >= old_t)))
    tolerance = settings.release.shadow_tolerance
    passed = new["f1"] >= old["f1"] - tolerance
    message = (
        f"on {len(y)} labelled trips staging F1 {new['f1']:.3f} vs production "
        f"(version {production.version}) {old['f1']:.3f}, agreement {agreement:.1%}"
        + ("" if passed else f": worse by more than the tolerance {tolerance}")
    )
    return Check(
        "shadow",
        passed,
        message,
        {
            "trips": len(y),
            Stage.STAGING: {"version": version, **new},
            Stage.PRODUCTION: {"version": production.version, **old},
            "agreement_rate": agreement,
            "tolerance": tolerance,
        },
    )
