"""Benchmark: synthetic world generation at scale 1 (the course's size) and scale 5.

Prints seconds, rows per second and the scale-5 / scale-1 time ratio (about 5 = linear growth).
The target (issue 2): scale 1 in at most 20 s, CSV writing included.

    python benchmarks/generate.py [--runs 3] [--big 5] [--scenario default]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from truckflow.data.generate import GenerateReport, generate_world


def _once(scale: float, scenario: str, seed: int) -> tuple[float, GenerateReport]:
    folder = Path(tempfile.mkdtemp(prefix="tf-gen-bench-"))
    try:
        start = time.perf_counter()
        report = generate_world(folder, seed=seed, scale=scale, scenario=scenario)
        return time.perf_counter() - start, report
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs at scale 1 (median reported)")
    parser.add_argument("--big", type=float, default=5.0, help="the larger scale, run once")
    parser.add_argument("--scenario", default="default")
    args = parser.parse_args()

    _once(0.05, args.scenario, seed=99)  # imports and first-call costs out of the timings
    times, report = [], None
    for run in range(args.runs):
        seconds, report = _once(1.0, args.scenario, seed=run)
        times.append(seconds)
        print(f"scale 1 run {run + 1}: {seconds:6.2f} s  {report.total_rows:>11,} rows")
    assert report is not None
    one = statistics.median(times)
    big_seconds, big = _once(args.big, args.scenario, seed=0)

    print()
    print(f"{'scale':>6} {'seconds':>9} {'rows':>12} {'rows/s':>11} {'MB':>8}")
    for scale, seconds, rep in ((1.0, one, report), (args.big, big_seconds, big)):
        mb = sum(rep.bytes.values()) / 1e6
        print(
            f"{scale:>6g} {seconds:>9.2f} {rep.total_rows:>12,} {rep.total_rows / seconds:>11,.0f} {mb:>8.0f}"
        )
    print()
    print(
        f"scale 1 median of {args.runs}: {one:.2f} s (target <= 20 s: {'ok' if one <= 20 else 'MISSED'})"
    )
    print(
        f"time ratio scale {args.big:g} / scale 1: {big_seconds / one:.2f} (rows ratio {big.total_rows / report.total_rows:.2f}; linear = about {args.big:g})"
    )
    steps = ", ".join(f"{k} {v:.1f}" for k, v in big.seconds.items())
    print(f"scale {args.big:g} by step (s): {steps}")


if __name__ == "__main__":
    main()
