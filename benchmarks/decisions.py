"""Decision quality of the weekly drift pipeline over several seeds (issue 6).

For each seed: one generated history (the same in every scenario), prepared once (ingest,
features, an initial production model), then the streaming period replayed in three worlds:
``none`` (stationary), ``covariate_shift`` from streaming week 2, ``concept_shift`` from week 1.
Prints each drift day's verdict (dataset drift, share of drifted columns, model F1) and, after
the concept shift, the F1 of the old and the retrained version on the following week's trips.
Per scenario also: the share of streaming trips predicted by their departure day (target >= 99%,
0 never predicted), the drift check days, each retraining's outcome and each promotion check
(paired F1 difference and its interval, on how many trips). Worlds carry the full course files'
quirks (the generator's default; ``--no-quirks`` turns them off).

    python -m benchmarks.decisions [--scale 1] [--seeds 0 1 2] [--trials 2] [--no-quirks]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

from truckflow.data.generate import generate_world
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.compare import compare_versions
from truckflow.pipelines.streaming.driver import ReplayResult, replay
from truckflow.pipelines.streaming.setup import prepare_history
from truckflow.settings import Settings
from truckflow.streaming.tables import batch_predictions

SCENARIOS = (("none", None), ("covariate_shift", 2), ("concept_shift", 1))
FOLLOWING_WEEK = (dt.date(2019, 2, 22), dt.date(2019, 2, 28))


def _settings(home: Path, trials: int) -> Settings:
    return Settings(
        home=home,
        retrain={"trials": trials, "families": "logistic_regression"},
    )


def _print_weeks(result: ReplayResult) -> None:
    for day in result.days:
        if day.drift is None:
            continue
        check = day.drift["check"]
        f1 = "-" if check["f1"] is None else f"{check['f1']:.3f}"
        print(
            f"    {day.day}: dataset drift {check['dataset_drift']!s:<5} "
            f"share {check['share_drifted']:.2f}  F1 {f1}  model drift {check['model_drift']!s:<5} "
            f"release {day.release_status or '-'}"
        )
        if check["drifted_columns"]:
            print(f"      drifted: {', '.join(check['drifted_columns'])}")


def _print_loop(settings: Settings, world: Path, result: ReplayResult) -> None:
    """Trips predicted by departure, drift days, retraining outcomes, promotion checks."""
    stream = pd.read_csv(world / "streaming_schedule.csv", parse_dates=["departure_date"])
    due = int((stream["departure_date"] >= pd.Timestamp(settings.streaming.boundary)).sum())
    bp = batch_predictions
    with Runtime.open(settings) as runtime, runtime.db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(bp.c.departure_date, bp.c.prediction_day, bp.c.features_complete)
        ).all()
    on_time = sum(1 for d, p, _ in rows if p <= d.date())
    partial = sum(1 for *_, complete in rows if not complete)
    print(
        f"    predicted by departure {on_time}/{due} ({on_time / max(due, 1):.1%}), "
        f"never predicted {due - len(rows)}, partial {partial}"
    )
    days = [d.day.isoformat() for d in result.days if d.drift is not None]
    print(f"    drift check days: {', '.join(days)}")
    for day in result.days:
        if day.drift is None or day.drift["training"] is None:
            continue
        training, release = day.drift["training"], day.drift.get("release") or {}
        outcome = training.get("reason") or training.get("error") or training["status"]
        print(
            f"    {day.day}: retraining {training['status']} "
            f"(version {training['version'] or '-'}; {outcome}); release {release.get('status')}"
        )
        promotion = release.get("promotion")
        if promotion:
            diff = promotion.get("difference")
            figures = (
                f"F1 difference {diff['difference']:+.3f} [{diff['low']:+.3f}, {diff['high']:+.3f}]"
                if diff
                else "no interval"
            )
            print(
                f"      promotion check on {promotion['trips']} trips: {figures}, "
                f"passed {promotion['passed']}"
            )


def _concept_comparison(settings: Settings, result: ReplayResult) -> None:
    retrained = [
        str(d.drift["training"]["version"])
        for d in result.days
        if d.drift and d.drift["training"] and d.drift["training"]["version"]
    ]
    if not retrained:
        print("    no retrained version to compare")
        return
    with Runtime.open(settings) as runtime:
        scores = compare_versions(runtime, ["1", retrained[0]], *FOLLOWING_WEEK)
    old, new = scores["1"], scores[retrained[0]]
    print(
        f"    following week ({old['rows']} trips): old v1 F1 {old['f1']:.3f}, "
        f"retrained v{retrained[0]} F1 {new['f1']:.3f} (difference {new['f1'] - old['f1']:+.3f})"
    )


def run_seed(base: Path, seed: int, scale: float, trials: int, quirks: bool = True) -> None:
    generate_world(base / "none", seed=seed, scale=scale, scenario="none", quirks=quirks)
    with Runtime.open(_settings(base / "template", trials)) as runtime:
        prepare_history(runtime, base / "none", n_trials=trials, families="logistic_regression")
    for scenario, week in SCENARIOS:
        world = base / scenario
        if not world.exists():
            generate_world(
                world, seed=seed, scale=scale, scenario=scenario, shift_week=week, quirks=quirks
            )
        settings = _settings(base / f"home-{scenario}", trials)
        shutil.copytree(base / "template", settings.home)
        started = time.perf_counter()
        with Runtime.open(settings) as runtime:
            result = replay(runtime, data=world)
        shift = "" if week is None else f" from week {week}"
        print(f"  {scenario}{shift}: replay {time.perf_counter() - started:.1f} s")
        _print_weeks(result)
        _print_loop(settings, world, result)
        if scenario == "concept_shift":
            _concept_comparison(settings, result)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--no-quirks", dest="quirks", action="store_false")
    args = parser.parse_args(argv)
    for seed in args.seeds:
        print(f"seed {seed}, scale {args.scale}:")
        with tempfile.TemporaryDirectory(prefix="tf-decisions-") as tmp:
            run_seed(Path(tmp), seed, args.scale, args.trials, args.quirks)


if __name__ == "__main__":
    main()
