"""Check: does a generated world drift where its scenario says, and only there?

For each scenario, generates a world, computes course-like per-trip features (the stand-alone
pandas version in tests/data/generate/course_features.py), and compares each streaming week
(by departure) with the history, column by column, with the normed Wasserstein distance
(distance / reference standard deviation) and Evidently's default threshold of 0.1 for samples
over 1,000 rows. Dataset drift is a drifted share of columns of at least 0.1 (the course's
``drift_share``). Expected: ``none`` never drifts; ``covariate_shift`` drifts in its start week.

    python benchmarks/generate_drift.py [--scale 1] [--seeds 0 1] [--scenarios none covariate_shift]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
from scipy.stats import wasserstein_distance

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "data" / "generate"))
from course_features import NUMERIC, trip_features

from truckflow.data.generate import generate_world

THRESHOLD, SHARE = 0.1, 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--scenarios", nargs="+", default=["none", "covariate_shift"])
    args = parser.parse_args()
    print(f"{'scenario':<16} {'seed':>4} {'week':>4} {'trips':>6} {'drifted':>8}  top columns")
    for scenario in args.scenarios:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory(prefix="tf-drift-") as tmp:
                world = generate_world(Path(tmp), seed=seed, scale=args.scale, scenario=scenario)
                trips = trip_features(world.out, streaming=True)
            ref = trips[trips["departure_date"] < "2019-02-15"]
            for week, start in enumerate(world.calendar.to_dict()["streaming_week_starts"], 1):
                begin = pd.Timestamp(start)
                cur = trips[
                    (trips["departure_date"] >= begin)
                    & (trips["departure_date"] < begin + pd.Timedelta(days=7))
                ]
                dist = pd.Series(
                    {
                        c: wasserstein_distance(ref[c].dropna(), cur[c].dropna()) / ref[c].std()
                        for c in NUMERIC
                    }
                ).sort_values(ascending=False)
                drifted = int((dist > THRESHOLD).sum())
                flag = "DRIFT" if drifted / len(dist) >= SHARE else ""
                top = ", ".join(f"{c} {v:.2f}" for c, v in dist.head(3).items())
                print(
                    f"{scenario:<16} {seed:>4} {week:>4} {len(cur):>6} {drifted:>3}/{len(dist):<4} {top} {flag}"
                )


if __name__ == "__main__":
    main()
