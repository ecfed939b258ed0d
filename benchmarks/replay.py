"""Replay of the streaming period with one retraining and release: target <= 60 s at scale 1.

Generates a world (scenario ``covariate_shift`` from streaming week 2 by default, so the drift
pipeline retrains and releases once it is detected), prepares the history (ingest, features,
an initial production model; timed apart), then replays the streaming days and prints the wall
time of the replay and the summed time per pipeline step, read from the engine's step records.
The peer in the same script is the same replay run day by day through ``step_days`` (one call
per day, as cron would run it): the difference is the per-call cost of a scheduled step.

    python -m benchmarks.replay [--scale 1] [--trials 5] [--scenario covariate_shift]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

from truckflow.data.generate import generate_world
from truckflow.pipeline.tables import pipeline_executions, step_executions
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.driver import replay, step_days
from truckflow.pipelines.streaming.setup import prepare_history
from truckflow.settings import Settings


def _stage_times(runtime: Runtime) -> dict[str, float]:
    pe, se = pipeline_executions, step_executions
    query = sa.select(pe.c.pipeline, se.c.step, se.c.started_at, se.c.finished_at).join(
        pe, pe.c.id == se.c.execution_id
    )
    totals: dict[str, float] = defaultdict(float)
    with runtime.db.engine.connect() as conn:
        for pipeline, step, started, finished in conn.execute(query):
            if pipeline in ("daily", "drift") and finished is not None:
                totals[f"{pipeline}.{step}"] += (finished - started).total_seconds()
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def _settings(home: Path, trials: int) -> Settings:
    return Settings(
        home=home,
        retrain={"trials": trials, "families": "logistic_regression,xgboost"},
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--scenario", default="covariate_shift")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tf-replay-") as tmp:
        base = Path(tmp)
        t0 = time.perf_counter()
        shift = None if args.scenario == "none" else 2
        generate_world(
            base / "world", seed=0, scale=args.scale, scenario=args.scenario, shift_week=shift
        )
        t1 = time.perf_counter()
        with Runtime.open(_settings(base / "template", args.trials)) as runtime:
            prepared = prepare_history(runtime, base / "world", n_trials=args.trials)
        t2 = time.perf_counter()
        print(f"scale {args.scale}: generate {t1 - t0:.1f} s, prepare history {t2 - t1:.1f} s")
        print(f"  initial model v{prepared.version}, test F1 {prepared.test_f1:.3f}")
        results = {}
        for mode in ("replay", "step per day"):
            home = base / mode.replace(" ", "_")
            shutil.copytree(base / "template", home)
            with Runtime.open(_settings(home, args.trials)) as runtime:
                start = time.perf_counter()
                if mode == "replay":
                    out = replay(runtime, data=base / "world")
                    days = out.days
                else:
                    days = []
                    while True:
                        step = step_days(runtime, 1, data=base / "world")
                        days += step.days
                        if step.finished or not step.days:
                            break
                elapsed = time.perf_counter() - start
                weeks = [d for d in days if d.drift is not None]
                results[mode] = elapsed
                print(
                    f"{mode}: {len(days)} days in {elapsed:.1f} s ({elapsed / len(days):.2f} s/day)"
                )
                for week in weeks:
                    check = week.drift["check"]  # type: ignore[index]
                    print(
                        f"  drift day {week.day}: drift {check['drift_detected']}, "
                        f"{len(check['drifted_columns'])} drifted columns, F1 {check['f1']}, "
                        f"release {week.release_status}"
                    )
                if mode == "replay":
                    print("  time per stage (s):")
                    for stage, seconds in _stage_times(runtime).items():
                        print(f"    {stage:<28} {seconds:7.2f}")
        print(
            f"replay {results['replay']:.1f} s vs step per day {results['step per day']:.1f} s "
            f"(ratio {results['step per day'] / results['replay']:.2f}); target <= 60 s at scale 1"
        )


if __name__ == "__main__":
    main()
