"""Benchmark: truckflow's drift check against Evidently's DataDriftPreset.

100,000 rows x 30 columns (20 numeric, 10 categorical, 7 of them shifted). Prints the median
time of truckflow's check (target <= 0.5 s), the median time of Evidently's DataDriftPreset on
the same frames, the speed ratio (target >= 10x) and the share of columns whose verdicts agree
(target >= 95%).

Evidently 0.7 does not import beside pandas 3 (which truckflow pins), so it runs in a separate
interpreter: ``--evidently-python`` or ``TRUCKFLOW_BENCH_EVIDENTLY_PYTHON`` (see README.md).

    .venv/bin/python benchmarks/drift.py [--rows 100000] [--repeats 7] [--evidently-python PY]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.drift import DataDrift, detect_drift

HERE = Path(__file__).resolve().parent
# Evidently's display names of its tests, and how each turns a score into a verdict.
EVIDENTLY_RULES = {
    "K-S p_value": ("ks", lambda s, t: s <= t),
    "chi-square p_value": ("chisquare", lambda s, t: s < t),
    "Z-test p_value": ("z", lambda s, t: s < t),
    "Wasserstein distance (normed)": ("wasserstein", lambda s, t: s >= t),
    "Jensen-Shannon distance": ("jensenshannon", lambda s, t: s >= t),
}
SHIFTED = ["n00", "n01", "n04", "n07", "n15", "c00", "c03"]  # n15, c03: below the JS threshold


def _descriptions(rng: np.random.Generator, n: int, flatten: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, 48) ** (1.2 - flatten)
    names = np.array([f"weather_{i:02d}" for i in range(47)], dtype=object)
    return rng.choice(names, n, p=weights / weights.sum())


def make_frame(rng: np.random.Generator, n: int, shifted: bool) -> pd.DataFrame:
    s = 1.0 if shifted else 0.0
    cols: dict[str, object] = {}
    cols["n00"] = rng.normal(s * 0.3, 1, n)
    cols["n01"] = rng.normal(s * 0.15, 1, n)
    cols["n02"], cols["n03"] = rng.normal(5, 2, n), rng.normal(-3, 0.5, n)
    cols["n04"] = rng.lognormal(7 + s * 0.2, 0.9, n)  # route distance
    cols["n05"], cols["n06"] = rng.lognormal(3, 0.5, n), rng.lognormal(1, 1.2, n)
    cols["n07"] = rng.integers(3, 16, n) + s  # truck age
    cols["n08"], cols["n09"] = rng.integers(2, 10, n), rng.integers(28, 66, n)
    cols["n10"] = np.where(rng.random(n) < 0.85, 0.0, rng.exponential(0.1, n))  # precip
    cols["n11"] = np.where(rng.random(n) < 0.6, 0.0, rng.exponential(2, n))
    for name in ("n12", "n13", "n14"):
        cols[name] = rng.uniform(0, 100, n)
    cols["n15"] = rng.binomial(1, 0.05 + s * 0.04, n)  # accident
    cols["n16"] = rng.integers(0, 4, n)
    for name in ("n17", "n18", "n19"):
        values = rng.normal(1000, 50, n)
        values[rng.random(n) < 0.01] = np.nan
        cols[name] = values
    cols["c00"] = _descriptions(rng, n, s * 0.5)
    cols["c01"], cols["c02"] = _descriptions(rng, n, 0), _descriptions(rng, n, 0)
    sexes = np.array(["male", "female"], dtype=object)
    cols["c03"] = rng.choice(sexes, n, p=[0.5 + s * 0.1, 0.5 - s * 0.1])
    cols["c04"] = rng.choice(sexes, n, p=[0.7, 0.3])
    styles = np.array(["proactive", "conservative", "Unknown"], dtype=object)
    cols["c05"] = rng.choice(styles, n, p=[0.6, 0.36, 0.04])
    cols["c06"] = rng.choice(styles, n, p=[0.5, 0.45, 0.05])
    cols["c07"] = rng.choice(
        np.array(["diesel", "gas", "Unknown"], dtype=object), n, p=[0.6, 0.37, 0.03]
    )
    routes = np.array([f"R-{i:08x}" for i in range(2000)], dtype=object)
    cols["c08"], cols["c09"] = rng.choice(routes, n), rng.choice(routes[:500], n)
    frame = pd.DataFrame(cols)
    for name in [c for c in frame.columns if c.startswith("c")]:
        frame[name] = frame[name].astype("str")
    return frame


def time_truckflow(
    reference: pd.DataFrame, current: pd.DataFrame, repeats: int, config: DriftConfig
) -> tuple[float, DataDrift]:
    detect_drift(reference, current, config=config)  # warm-up: scipy's lazy imports
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = detect_drift(reference, current, config=config)
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def run_evidently(
    python: str, reference: pd.DataFrame, current: pd.DataFrame, repeats: int, numerical: list[str]
) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference.to_parquet(folder / "reference.parquet")
        current.to_parquet(folder / "current.parquet")
        spec = {
            "numerical": numerical,
            "categorical": [c for c in reference.columns if c not in numerical],
            "drift_share": DriftConfig().drift_share,
        }
        (folder / "spec.json").write_text(json.dumps(spec))
        env = {**os.environ, "DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1"}
        done = subprocess.run(
            [
                python,
                str(HERE / "_evidently_drift.py"),
                str(folder / "reference.parquet"),
                str(folder / "current.parquet"),
                str(folder / "spec.json"),
                str(repeats),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"Evidently run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _evidently_python(arg: str | None) -> str | None:
    candidate = arg or os.environ.get("TRUCKFLOW_BENCH_EVIDENTLY_PYTHON")
    if candidate:
        return candidate
    probe = subprocess.run(
        [sys.executable, "-c", "import evidently"], capture_output=True, check=False
    )
    return sys.executable if probe.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--evidently-repeats", type=int, default=3)
    parser.add_argument("--evidently-python", default=None)
    args = parser.parse_args()

    rng = np.random.default_rng(2019)
    reference, current = make_frame(rng, args.rows, False), make_frame(rng, args.rows, True)
    numerical = [c for c in reference.columns if c.startswith("n")]
    # Evidently's rules (the ``evidently`` profile) for the verdict-by-verdict comparison; the
    # default ``adaptive`` profile (thresholds from the null at the current size) for speed too.
    evidently_profile = DriftConfig(profile="evidently")
    ours_s, ours = time_truckflow(reference, current, args.repeats, evidently_profile)
    threaded_s, _ = time_truckflow(
        reference, current, args.repeats, DriftConfig(profile="evidently", workers=4)
    )
    adaptive_s, adaptive = time_truckflow(reference, current, args.repeats, DriftConfig())
    print(
        f"frames: {args.rows:,} rows x {reference.shape[1]} columns "
        f"({len(numerical)} numeric, {reference.shape[1] - len(numerical)} categorical); shifted {SHIFTED}"
    )
    print(
        f"truckflow detect_drift: median {ours_s:.3f} s over {args.repeats} runs (target <= 0.5 s)"
    )
    print(f"  with workers=4 (categorical columns in threads): median {threaded_s:.3f} s")
    print(
        f"truckflow detect_drift, default adaptive profile ({adaptive.null_method} null): "
        f"median {adaptive_s:.3f} s; drifted {adaptive.drifted_columns}"
    )
    print(
        f"  drifted: {ours.drifted_columns} share {ours.share_drifted:.2f} dataset drift {ours.dataset_drift}"
    )

    python = _evidently_python(args.evidently_python)
    if python is None:
        print("Evidently: no interpreter with evidently found; see benchmarks/README.md")
        return
    ev = run_evidently(python, reference, current, args.evidently_repeats, numerical)
    ev_s = float(ev["median"])  # type: ignore[arg-type]
    agree = same_test = 0
    disagreements = []
    gaps = []
    for col in ours.columns:
        other = ev["columns"][col.column]  # type: ignore[index]
        test, rule = EVIDENTLY_RULES[other["method"]]
        verdict = rule(other["score"], other["threshold"])
        agree += verdict == col.drifted
        same_test += test == col.test.value
        if np.isfinite(col.score) and np.isfinite(other["score"]):
            gaps.append(abs(col.score - other["score"]))
        if verdict != col.drifted:
            disagreements.append((col.column, col.test.value, col.score, other["score"]))
    n = len(ours.columns)
    print(
        f"Evidently {ev.get('version', '0.7')} DataDriftPreset: median {ev_s:.3f} s over "
        f"{args.evidently_repeats} runs"
    )
    print(f"speed ratio: {ev_s / ours_s:.1f}x (target >= 10x)")
    print(f"speed ratio, default adaptive profile: {ev_s / adaptive_s:.1f}x (target >= 10x)")
    print(
        f"verdict agreement: {agree}/{n} = {agree / n:.1%} (target >= 95%); "
        f"same test chosen: {same_test}/{n}"
    )
    print(f"largest score difference (p-value or distance): {max(gaps):.2e}")
    for name, test, mine, theirs in disagreements:
        print(f"  disagree {name} ({test}): truckflow {mine:.5g}, Evidently {theirs:.5g}")


if __name__ == "__main__":
    main()
