"""The demo's stages. Each looks first whether its work is already there, so a second run
continues where the first stopped instead of doing it again."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from truckflow.demo.model import DemoError, DemoOptions, DemoProgress, StageOutcome, StageStatus
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.deploy import promote_directly
from truckflow.registry import ModelRegistry, Stage
from truckflow.store import tables as schema

__all__ = [
    "DemoContext",
    "feature_stage",
    "first_streaming_day",
    "generate_stage",
    "ingest_stage",
    "release_stage",
    "replay_stage",
    "reset_home",
    "timed",
    "training_stage",
]

DATA_FOLDER = "demo-data"
# What --reset removes from the home: the embedded database, the MLflow store, artifacts,
# reports, the notification file, pipeline work folders and the generated data.
RESET_PATHS = (
    "truckflow.db",
    "truckflow.db-wal",
    "truckflow.db-shm",
    "mlflow.db",
    "mlartifacts",
    "artifacts",
    "reports",
    "work",
    "notifications.jsonl",
    "streaming_source.json",
    DATA_FOLDER,
)


@dataclass
class DemoContext:
    runtime: Runtime
    options: DemoOptions
    data_dir: Path
    progress: DemoProgress

    def say(self, stage: str, description: str, done: int = 0, total: int | None = None) -> None:
        self.progress(stage, description, done, total)


def timed(
    name: str, ctx: DemoContext, work: Callable[[DemoContext], tuple[StageStatus, str]]
) -> StageOutcome:
    """Run one stage, timing it; a truckflow error becomes a failed outcome and is re-raised."""
    ctx.say(name, "starting")
    started = time.perf_counter()
    status, detail = work(ctx)
    outcome = StageOutcome(name, status, round(time.perf_counter() - started, 2), detail)
    ctx.say(name, f"{status}: {detail}", 1, 1)
    return outcome


def reset_home(settings: Any) -> list[str]:
    """Remove what the demo made in the home; only the embedded stores can be removed."""
    if settings.database_url is not None or settings.mlflow.tracking_uri:
        raise DemoError(
            "--reset removes the embedded database and MLflow store in the home only",
            hint="unset TRUCKFLOW_DATABASE_URL / TRUCKFLOW_MLFLOW__TRACKING_URI, or clean those yourself",
        )
    removed = []
    for name in RESET_PATHS:
        path = settings.home / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(name)
    _forget_mlflow_stores()
    return removed


def _forget_mlflow_stores() -> None:
    """MLflow keeps one store per URI for the life of the process; after the store's file is
    removed, a cached one would still read the deleted database through its open connection.
    The SQLAlchemy stores also share one engine per URI across instances: those go too."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore
    from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
    from mlflow.tracking._tracking_service.registry import TrackingStoreRegistry

    TrackingStoreRegistry._get_store_with_resolved_uri.cache_clear()
    ModelRegistryStoreRegistry._get_store_with_resolved_uri.cache_clear()
    for store in (TrackingStore, RegistryStore):
        with store._engine_map_lock:
            for engine in store._engine_map.values():
                engine.dispose()
            store._engine_map.clear()


# -- data -----------------------------------------------------------------------------------


def _manifest_matches(folder: Path, options: DemoOptions) -> bool:
    from truckflow.data.generate import MANIFEST

    path = folder / MANIFEST
    if not path.is_file():
        return False
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    from truckflow.data.generate.scenarios import resolve_scenario

    wanted = resolve_scenario(options.scenario, start_week=options.generator_shift_week())
    return bool(
        doc.get("seed") == options.seed
        and float(doc.get("scale", -1)) == float(options.scale)
        and doc.get("scenario") == json.loads(json.dumps(wanted.to_dict()))
    )


def generate_stage(ctx: DemoContext) -> tuple[StageStatus, str]:
    from truckflow.data.generate import generate_world

    if ctx.options.data is not None:
        return "existing", f"your course files in {ctx.data_dir}"
    if _manifest_matches(ctx.data_dir, ctx.options):
        return "existing", f"world already generated in {ctx.data_dir}"
    shutil.rmtree(ctx.data_dir, ignore_errors=True)
    o = ctx.options
    report = generate_world(
        ctx.data_dir,
        seed=o.seed,
        scale=o.scale,
        scenario=o.scenario,
        shift_week=o.generator_shift_week(),
        progress=lambda what, done, total: ctx.say("generate", what, done, total),
    )
    week = o.generator_shift_week()
    change = "" if week is None else f", from streaming week {week}"
    return "done", f"{report.total_rows:,} rows in {len(report.rows)} files ({o.scenario}{change})"


def first_streaming_day(folder: Path) -> dt.date:
    """The first departure day of the streaming schedule: the historical window ends before it."""
    path = folder / "streaming_schedule.csv"
    if not path.is_file():
        raise DemoError(f"{folder}: no streaming_schedule.csv, so no streaming days to replay")
    days = pd.to_datetime(
        pd.read_csv(path, usecols=["departure_date"])["departure_date"], errors="coerce"
    ).dropna()
    if days.empty:
        raise DemoError(f"{path.name}: no readable departure_date")
    first: dt.date = days.min().date()
    return first


def _count(ctx: DemoContext, table: sa.Table) -> int:
    with ctx.runtime.db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def ingest_stage(ctx: DemoContext) -> tuple[StageStatus, str]:
    from truckflow.data.ingest import ingest_directory

    if _count(ctx, schema.truck_schedule) > 0:
        return "existing", f"{_count(ctx, schema.truck_schedule):,} trips already in the database"
    # The historical files as published: their hourly data runs through the first streaming
    # day, whose forecasts the streaming files do not repeat. The streaming files come in
    # day by day during the replay.
    report = ingest_directory(
        ctx.runtime.db,
        ctx.data_dir,
        historical_only=True,
        progress=lambda what, done, total: ctx.say("ingest", what, done, total),
    )
    total = report.total()
    return "done", (
        f"{total.inserted:,} rows of the historical files loaded, {total.quarantined:,} quarantined"
    )


def feature_stage(ctx: DemoContext) -> tuple[StageStatus, str]:
    from truckflow.features.fill import fill_features
    from truckflow.features.tables import trip_features
    from truckflow.pipelines.streaming.steps import LOOKBACK

    if _count(ctx, trip_features) > 0:
        return "existing", f"{_count(ctx, trip_features):,} trips' features already stored"
    first_streaming_day(ctx.data_dir)  # the streaming files must be there
    # History ends at the streaming boundary (the course's calendar), not at the earliest
    # streaming departure: a trip departing before the boundary is history.
    end = ctx.runtime.settings.streaming.boundary
    with ctx.runtime.db.engine.connect() as conn:
        start = conn.execute(
            sa.select(sa.func.min(schema.truck_schedule.c.departure_date))
        ).scalar()
    if start is None:
        raise DemoError("features: no trips in truck_schedule to compute features for")
    start = pd.Timestamp(start).normalize().to_pydatetime()
    ctx.say("features", f"features of trips departing {start:%Y-%m-%d} .. {end}")
    boundary = dt.datetime.combine(end, dt.time())
    rt = ctx.runtime
    result = fill_features(
        rt.db,
        start,
        boundary,
        deadline=boundary - LOOKBACK,
        partitions=rt.partitions,
    )
    return "done", (
        f"{result.computed:,} trips, {result.partial} stored incomplete (inputs that never "
        f"came), {len(result.waiting)} waiting for the streaming files"
    )


# -- models ---------------------------------------------------------------------------------


def _registry(ctx: DemoContext) -> ModelRegistry:
    return ModelRegistry.from_settings(ctx.runtime.settings)


def training_stage(ctx: DemoContext) -> tuple[StageStatus, str]:
    registry = _registry(ctx)
    versions = registry.list_versions()
    if versions:
        return "existing", f"{len(versions)} model version(s) already registered"
    o = ctx.options
    ctx.say("training", f"training pipeline ({o.families}, {o.trials()} trial(s))")
    result = ctx.runtime.run(
        "training", {"n_trials": o.trials(), "families": o.families, "seed": o.seed}
    )
    result.raise_for_status()
    registered = result.outputs.get("register", {})
    return (
        "done",
        f"version {registered.get('version', '?')} registered ({result.execution_id[:8]})",
    )


def release_stage(ctx: DemoContext) -> tuple[StageStatus, str]:
    from truckflow.pipelines.release.pipeline import release_model

    current = _registry(ctx).get_alias(Stage.PRODUCTION)
    if current is not None:
        return "existing", f"version {current.version} already in production"
    ctx.say("release", "staging, acceptance, auto-approve, production")
    result = release_model(ctx.runtime, None, auto_approve=True)
    if result.status == "promoted":
        return "done", f"version {result.version} in production (auto-approved)"
    # The loop needs a production model to go on: promote directly, and say the release failed.
    version = _promote_directly(ctx, result.version)
    return "failed", (
        f"release of version {result.version} ended {result.status} ("
        + "; ".join(result.reasons)
        + f"); version {version} approved and aliased production directly so the loop goes on"
    )


def _promote_directly(ctx: DemoContext, version: str | None) -> str:
    registry = _registry(ctx)
    if version is None:
        newest = max(registry.list_versions(), key=lambda v: int(v.version), default=None)
        if newest is None:
            raise DemoError("release: no registered model version to put in production")
        version = newest.version
    registry.approve(version, "demo: release flow failed, promoted directly")
    promote_directly(ctx.runtime, version, reason="demo: release flow failed, promoted directly")
    return version


def replay_stage(ctx: DemoContext) -> tuple[StageStatus, str]:
    from truckflow.pipelines.streaming.driver import replay, stream_status

    before = stream_status(ctx.runtime, ctx.data_dir)
    if before.finished:
        return "existing", f"all {before.days_done} streaming days already replayed"
    result = replay(
        ctx.runtime,
        data=ctx.data_dir,
        auto_approve=True,
        progress=lambda what, done, total: ctx.say("replay", what, done, total),
    )
    weeks = [d for d in result.days if d.drift is not None]
    drifted = sum(1 for d in weeks if d.drift_detected)
    releases = [
        f"{d.day}: {_release_line(d.drift)}" for d in weeks if d.drift and d.drift["training"]
    ]
    resumed = f" (continued after {before.days_done})" if before.days_done else ""
    on_time = sum(d.predictions_on_time for d in result.days)
    late = sum(d.predictions_late for d in result.days)
    partial = sum(d.predictions_partial for d in result.days)
    never = result.days[-1].not_predicted if result.days else 0
    return "done", (
        f"{len(result.days)} days replayed{resumed}; predictions {on_time} on time, {late} late, "
        f"{partial} partial, {never} never made; {len(weeks)} drift check(s) "
        f"({', '.join(str(d.day) for d in weeks)}), {drifted} with drift; "
        f"retraining: {'; '.join(releases) or 'none'}"
    )


def _release_line(drift: dict[str, Any]) -> str:
    """A retraining's outcome in a few words: skipped (why), or its release and interval."""
    training, release = drift["training"], drift.get("release") or {}
    if training.get("status") == "skipped":
        return str(training.get("reason"))
    line = f"v{training.get('version')} {release.get('status', training.get('status'))}"
    difference = (release.get("promotion") or {}).get("difference")
    if difference:
        line += (
            f" (F1 {difference['difference']:+.3f}, [{difference['low']:+.3f}, "
            f"{difference['high']:+.3f}] on {difference['trips']} trips)"
        )
    return line
