"""A tiny prepared home for the dashboard tests: every page has something real to show."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from truckflow.data.generate import generate_world
from truckflow.data.ingest import ingest_directory
from truckflow.features import FEATURE_COLUMNS
from truckflow.features.fill import fill_features, load_features
from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.estimate import estimate_performance
from truckflow.monitoring.estimate_store import save_estimate, save_realized
from truckflow.monitoring.quality import model_quality
from truckflow.monitoring.report import Window, build_report
from truckflow.monitoring.store import save_daily_metrics, save_drift_run
from truckflow.pipelines.runtime import Runtime
from truckflow.registry import THRESHOLD_TAG, ModelRegistry
from truckflow.serving.capture import CaptureBatch, CaptureWriter
from truckflow.settings import Settings

TRAINING = {"families": "logistic_regression", "n_trials": 1, "min_f1": 0.0}
HISTORY_END = datetime(2019, 2, 15)
DRIFT_WEEK = dt.date(2019, 2, 8)


def prepare_home(root: Path) -> tuple[Settings, dict[str, str]]:
    """Generate, ingest, fill features, train, register two versions (one in production), and
    store daily metrics, one drift week and a few captured predictions."""
    world = root / "world"
    generate_world(world, seed=3, scale=0.05)
    settings = Settings(home=root / "home")
    with Runtime.open(settings) as runtime:
        db = runtime.db
        ingest_directory(db, world, until=HISTORY_END.date())
        fill_features(db, datetime(2019, 1, 1), HISTORY_END)
        first = runtime.run("training", TRAINING).raise_for_status()
        registry = ModelRegistry.from_settings(settings)
        production = str(first.outputs["register"]["version"])
        registry.approve(production, "good enough for the tests")
        pending = _candidate(registry, production)
        registry.set_alias("production", production)
        _monitoring(runtime, production)
        trip = _captured_predictions(runtime, production)
    return settings, {"production": production, "pending": pending, **trip}


def _candidate(registry: ModelRegistry, production: str) -> str:
    """A second version waiting for approval: the production model registered again (one
    training run is all the tests can afford)."""
    source = registry.get(production)
    candidate = registry.register(
        registry.load(production),
        metrics=source.metrics,
        tags={
            "family": source.tags.get("family", ""),
            THRESHOLD_TAG: source.tags[THRESHOLD_TAG],
        },
        data_window=source.tags.get("data_window"),
    )
    return candidate.version


def _monitoring(runtime: Runtime, version: str) -> None:
    db = runtime.db
    features = load_features(db, labelled_only=True)
    rng = np.random.default_rng(0)
    for offset in range(5):
        day = DRIFT_WEEK + dt.timedelta(days=offset)
        truth = rng.integers(0, 2, 40)
        guess = np.where(rng.random(40) < 0.7, truth, 1 - truth)
        save_daily_metrics(db, day, model_quality(truth, guess), model_version=version)
        # The day's estimate, and the realized figures of its trips (labels in for all but
        # the last day).
        probability = np.clip(np.where(guess == 1, 0.7, 0.3) + rng.normal(0, 0.05, 40), 0, 1)
        save_estimate(db, day, estimate_performance(probability, guess), model_version=version)
        if offset < 4:
            save_realized(db, day, model_quality(truth, guess))
    cut = datetime.combine(DRIFT_WEEK, datetime.min.time())
    reference = features[features["departure_date"] < cut][list(FEATURE_COLUMNS)]
    current = features[features["departure_date"] >= cut][list(FEATURE_COLUMNS)]
    report = build_report(
        reference,
        current,
        reference_window=Window(start=dt.date(2019, 1, 1), end=DRIFT_WEEK - dt.timedelta(days=1)),
        current_window=Window(start=DRIFT_WEEK, end=HISTORY_END.date()),
        config=DriftConfig(profile="evidently"),  # a drifted week for the pages to show
    )
    # The JSON twin only: the HTML's 36 plots would cost the tests a minute.
    folder = runtime.settings.home / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"drift_{DRIFT_WEEK}.json"
    json_path.write_text(report.to_json(), encoding="utf-8")
    save_drift_run(db, DRIFT_WEEK, report, model_version=version, json_path=json_path)


def _captured_predictions(runtime: Runtime, version: str) -> dict[str, str]:
    """A handful of captured trip predictions, written by serving's capture writer."""
    trips = load_features(runtime.db, labelled_only=True).tail(6)
    writer = CaptureWriter(runtime.db)
    writer.start()
    inputs = [
        {"truck_id": int(t), "route_id": str(r), "departure": d.isoformat()}
        for t, r, d in zip(
            trips["truck_id"], trips["route_id"], trips["departure_date"], strict=True
        )
    ]
    writer.submit(
        CaptureBatch(
            ids=[f"{i:032d}" for i in range(len(inputs))],
            request_id="r" * 32,
            feature_names=("distance",),
            features=np.zeros((len(inputs), 1)),
            probabilities=np.full(len(inputs), 0.7),
            decisions=np.ones(len(inputs), dtype=bool),
            model_version=version,
            stage="production",
            created_at=datetime.now(UTC).replace(tzinfo=None),
            source="api",
            inputs=inputs,
        )
    )
    writer.close()
    last = inputs[-1]
    return {"truck_id": str(last["truck_id"]), "departure": last["departure"]}


if __name__ == "__main__":
    import sys
    import time

    start = time.perf_counter()
    print(prepare_home(Path(sys.argv[1])), f"{time.perf_counter() - start:.1f} s")
