"""Monitoring ahead of the labels (issue 16), on generated worlds with truckflow's own features.

For each scenario, scale and seed: generate a world, compute the real feature table
(``truckflow.features.compute_features`` over the history and streaming files), then

- drift: each streaming week (trips by departure) against the history (trips by arrival before
  the streaming start, in departure order), as the weekly check does, with both profiles
  (``adaptive``, the default, and ``evidently``); prints each week's dataset verdict and counts
  the false alarms (stationary world) and whether the covariate shift is caught in its first
  week (week 2);
- estimated performance: an XGBoost model (one tuning trial) trained on the course's date split
  of the history, calibrated on validation (``choose_calibrator``), scores each streaming week;
  the estimate from the calibrated probabilities (``estimate_performance``) is compared with
  the F1 realized on the week's labels. Target: mean absolute error <= 0.05 at scale 1.

    python -m benchmarks.monitoring                                   # the full run (3 seeds)
    python -m benchmarks.monitoring --scales 0.1 0.3 --seeds 0        # a reduced one

Targets (issue 16): 0 false dataset-drift alarms on stationary worlds at scales 0.1, 0.3, 1
with the default profile; covariate shift caught in its first week at 0.3 and 1; estimated vs
realized weekly F1 MAE <= 0.05 on stationary and covariate-shift worlds at scale 1.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from truckflow.data.generate import generate_world
from truckflow.features import compute_features, read_course_csvs
from truckflow.features.definition import CATEGORICAL_FEATURES, FEATURE_COLUMNS
from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.drift import detect_drift
from truckflow.monitoring.estimate import estimate_performance
from truckflow.monitoring.quality import model_quality
from truckflow.training.calibration import choose_calibrator
from truckflow.training.data import labels, split_by_arrival
from truckflow.training.tuning import tune_candidate

_STREAMING = {
    "truck_schedule_table.csv": "streaming_schedule.csv",
    "city_weather.csv": "streaming_city_weather.csv",
    "routes_weather.csv": "streaming_route_weather.csv",
    "traffic_table.csv": "streaming_traffic.csv",
}
SHIFT_WEEK = 2  # the covariate_shift preset's first shifted week


@dataclass
class WeekRow:
    scenario: str
    scale: float
    seed: int
    week: int
    trips: int
    adaptive: bool
    evidently: bool
    adaptive_share: float
    estimated_f1: float | None = None
    realized_f1: float | None = None


def world_features(tmp: Path, seed: int, scale: float, scenario: str) -> tuple[pd.DataFrame, dict]:
    world = generate_world(tmp / "world", seed=seed, scale=scale, scenario=scenario)
    merged = tmp / "merged"
    merged.mkdir()
    for name in ("drivers_table.csv", "routes_table.csv", "trucks_table.csv"):
        shutil.copy(world.out / name, merged / name)
    for name, streaming in _STREAMING.items():
        frames = [pd.read_csv(world.out / name), pd.read_csv(world.out / streaming)]
        pd.concat(frames, ignore_index=True).to_csv(merged / name, index=False)
    features = compute_features(read_course_csvs(merged)).features
    return features, world.calendar.to_dict()


def week_rows(
    features: pd.DataFrame, calendar: dict, scenario: str, scale: float, seed: int, estimate: bool
) -> list[WeekRow]:
    stream_start = pd.Timestamp(calendar["stream_start"])
    history = features[features["estimated_arrival"] < stream_start]
    reference = history.sort_values("departure_date", kind="stable")[list(FEATURE_COLUMNS)]
    model = calibrator = None
    if estimate:
        split = split_by_arrival(history)
        tuned = tune_candidate("xgboost", split.train, split.validation, n_trials=1, seed=seed)
        model, threshold = tuned.model, tuned.threshold
        scores = model.predict_proba(split.validation)[:, 1]
        calibrator = choose_calibrator(labels(split.validation), scores, seed=seed)
    rows = []
    for week, start in enumerate(calendar["streaming_week_starts"], 1):
        begin = pd.Timestamp(start)
        mask = (features["departure_date"] >= begin) & (
            features["departure_date"] < begin + pd.Timedelta(days=7)
        )
        current = features[mask]
        verdicts = {
            profile: detect_drift(
                reference,
                current[list(FEATURE_COLUMNS)],
                categorical=list(CATEGORICAL_FEATURES),
                config=DriftConfig(profile=profile),
            )
            for profile in ("adaptive", "evidently")
        }
        row = WeekRow(
            scenario,
            scale,
            seed,
            week,
            len(current),
            verdicts["adaptive"].dataset_drift,
            verdicts["evidently"].dataset_drift,
            verdicts["adaptive"].share_drifted,
        )
        if model is not None and calibrator is not None:
            scores = model.predict_proba(current)[:, 1]
            decided = (scores >= threshold).astype(int)
            row.estimated_f1 = estimate_performance(calibrator.apply(scores), decided).f1
            row.realized_f1 = model_quality(labels(current), decided).f1
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--scenarios", nargs="+", default=["none", "covariate_shift"])
    parser.add_argument(
        "--estimate-scales", type=float, nargs="+", default=[1.0], help="scales to train at"
    )
    args = parser.parse_args(argv)
    rows: list[WeekRow] = []
    print(
        f"{'scenario':<16}{'scale':>6}{'seed':>5}{'week':>5}{'trips':>7}"
        f"{'adaptive':>10}{'share':>7}{'evidently':>10}{'est F1':>8}{'real F1':>8}"
    )
    started = time.perf_counter()
    for scenario in args.scenarios:
        for scale in args.scales:
            for seed in args.seeds:
                with tempfile.TemporaryDirectory(prefix="tf-monitoring-") as tmp:
                    features, calendar = world_features(Path(tmp), seed, scale, scenario)
                estimate = scale in args.estimate_scales
                for r in week_rows(features, calendar, scenario, scale, seed, estimate):
                    rows.append(r)
                    est = "" if r.estimated_f1 is None else f"{r.estimated_f1:.3f}"
                    real = "" if r.realized_f1 is None else f"{r.realized_f1:.3f}"
                    print(
                        f"{r.scenario:<16}{r.scale:>6}{r.seed:>5}{r.week:>5}{r.trips:>7}"
                        f"{'DRIFT' if r.adaptive else '-':>10}{r.adaptive_share:>7.2f}"
                        f"{'DRIFT' if r.evidently else '-':>10}{est:>8}{real:>8}",
                        flush=True,
                    )
    summarise(rows)
    print(f"total {time.perf_counter() - started:.0f} s")


def summarise(rows: list[WeekRow]) -> None:
    print()
    for scale in sorted({r.scale for r in rows}):
        still = [r for r in rows if r.scenario == "none" and r.scale == scale]
        if still:
            print(
                f"stationary, scale {scale}: false dataset-drift alarms "
                f"adaptive {sum(r.adaptive for r in still)}/{len(still)} (target 0), "
                f"evidently {sum(r.evidently for r in still)}/{len(still)}"
            )
        shifted = [
            r
            for r in rows
            if r.scenario == "covariate_shift" and r.scale == scale and r.week == SHIFT_WEEK
        ]
        if shifted:
            print(
                f"covariate shift, scale {scale}: caught in week {SHIFT_WEEK} by adaptive "
                f"{sum(r.adaptive for r in shifted)}/{len(shifted)}, "
                f"evidently {sum(r.evidently for r in shifted)}/{len(shifted)}"
            )
    for scenario in sorted({r.scenario for r in rows}):
        scored = [r for r in rows if r.scenario == scenario and r.estimated_f1 is not None]
        if scored:
            errors = [abs(r.estimated_f1 - r.realized_f1) for r in scored]  # type: ignore[operator]
            print(
                f"{scenario}: estimated vs realized weekly F1 over {len(scored)} weeks: "
                f"MAE {statistics.mean(errors):.3f} (target <= 0.05), max {max(errors):.3f}; "
                f"scales {sorted({r.scale for r in scored})}"
            )


if __name__ == "__main__":
    main()
