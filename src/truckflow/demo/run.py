"""``run_demo``: the whole loop from an empty home, each stage continuing what exists."""

from __future__ import annotations

import time
from pathlib import Path

from truckflow.demo import stages
from truckflow.demo.model import DemoOptions, DemoProgress, DemoSummary
from truckflow.demo.report import write_report
from truckflow.demo.results import daily_points, drift_weeks, model_history, notification_counts
from truckflow.notify.config import DEFAULT_FILE_NAME
from truckflow.pipelines.release.ops import deployment_history
from truckflow.pipelines.runtime import Runtime
from truckflow.registry import ModelRegistry, Stage
from truckflow.settings import Settings

__all__ = ["STAGES", "run_demo"]

STAGES = (
    ("generate", stages.generate_stage),
    ("ingest", stages.ingest_stage),
    ("features", stages.feature_stage),
    ("training", stages.training_stage),
    ("release", stages.release_stage),
    ("replay", stages.replay_stage),
)


def _quiet(stage: str, description: str, done: int, total: int | None) -> None:
    return None


def run_demo(
    settings: Settings, options: DemoOptions, progress: DemoProgress | None = None
) -> DemoSummary:
    """Generate (or take the user's files), ingest, train, release, replay, then summarise."""
    started = time.perf_counter()
    say = progress or _quiet
    if options.reset:
        removed = stages.reset_home(settings)
        say("reset", f"removed {', '.join(removed) or 'nothing'}", 1, 1)
    settings = _with_demo_retraining(settings, options)
    settings.ensure_home()
    data_dir = options.data.resolve() if options.data else settings.home / stages.DATA_FOLDER
    summary = DemoSummary(
        home=settings.home,
        data_dir=data_dir,
        options={
            "scale": options.scale,
            "seed": options.seed,
            "scenario": options.scenario if options.data is None else None,
            "data": None if options.data is None else str(data_dir),
            "n_trials": options.trials(),
            "families": options.families,
        },
    )
    with Runtime.open(settings) as runtime:
        ctx = stages.DemoContext(runtime, options, data_dir, say)
        for name, work in STAGES:
            summary.stages.append(stages.timed(name, ctx, work))
        _read_back(summary, runtime)
        say("report", "writing the HTML report", 0, None)
        summary.report = write_report(summary, settings.home / "reports")
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _with_demo_retraining(settings: Settings, options: DemoOptions) -> Settings:
    """Retraining in the replay trains what the demo trained first, with as many trials,
    unless the settings name their own (the defaults are sized for a real deployment)."""
    chosen = {"trials": options.trials(), "families": options.families}
    keep = settings.retrain.model_fields_set
    return settings.updated(retrain={k: v for k, v in chosen.items() if k not in keep})


def _read_back(summary: DemoSummary, runtime: Runtime) -> None:
    summary.daily = daily_points(runtime.db)
    summary.drift = drift_weeks(runtime.db)
    summary.models = model_history(runtime.settings, summary.daily)
    current = ModelRegistry.from_settings(runtime.settings).get_alias(Stage.PRODUCTION)
    summary.production_version = None if current is None else current.version
    summary.deployments = list(reversed(deployment_history(runtime, stage=Stage.PRODUCTION)))
    summary.retrained = any(w.retraining is not None for w in summary.drift)
    path: Path = runtime.settings.home / DEFAULT_FILE_NAME
    summary.notifications_file = path
    summary.notifications = notification_counts(path)
