"""Pipeline engine overhead and cached re-runs.

1. 200 no-op steps in a chain and 200 in parallel on the local runner, records included
   (SQLite in a temporary home): milliseconds per step, target <= 5 ms; the peer is calling the
   same 200 functions directly, which shows what the engine itself adds.
2. A synthetic pipeline of sleeping steps: a fully cached re-run against its cold run,
   target <= 5 %.

Run: ``python -m benchmarks.engine [--repeat 5]``; prints medians.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from truckflow.pipeline import (
    ArtifactStore,
    CachePolicy,
    LocalRunner,
    Parameter,
    Pipeline,
    ref,
    step,
)
from truckflow.settings import Settings
from truckflow.store import connect
from truckflow.store.migrate import upgrade

STEPS = 200
SLEEP_STEPS = 8
SLEEP_S = 0.25


@step
def nothing(previous: Any = None) -> dict[str, Any]:
    return {"n": 0 if previous is None else previous + 1}


@step
def sleeper(seconds: float, salt: str, previous: Any = None) -> dict[str, Any]:
    time.sleep(seconds)
    return {"n": 0 if previous is None else previous + 1}


def chain_pipeline() -> Pipeline:
    steps = [nothing.as_step("s0")]
    steps += [nothing.as_step(f"s{i}", previous=ref(f"s{i - 1}")["n"]) for i in range(1, STEPS)]
    return Pipeline("bench-chain", steps=steps)


def parallel_pipeline() -> Pipeline:
    return Pipeline("bench-parallel", steps=[nothing.as_step(f"s{i}") for i in range(STEPS)])


def sleeping_pipeline() -> Pipeline:
    salt = Parameter("salt", "string", default="")
    steps = [sleeper.as_step("z0", seconds=SLEEP_S, salt=salt)]
    steps += [
        sleeper.as_step(f"z{i}", seconds=SLEEP_S, salt=salt, previous=ref(f"z{i - 1}")["n"])
        for i in range(1, SLEEP_STEPS)
    ]
    return Pipeline("bench-sleep", parameters=[salt], cache=CachePolicy(), steps=steps)


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _direct_chain() -> None:
    previous = None
    for _ in range(STEPS):
        previous = nothing.fn(previous)["n"]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    logging.getLogger("truckflow").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home")
        db = connect(settings)
        upgrade(db)
        figures: dict[str, float] = {}
        artifacts = ArtifactStore(settings.home / "artifacts")
        with LocalRunner(db, artifacts=artifacts, work_root=settings.home / "work") as runner:
            chain, wide = chain_pipeline(), parallel_pipeline()
            for label, pipeline in (("chain", chain), ("parallel", wide)):
                runner.run(pipeline).raise_for_status()  # warm-up
                times = [
                    _timed(lambda p=pipeline: runner.run(p).raise_for_status())
                    for _ in range(args.repeat)
                ]
                figures[f"{label}_ms_per_step"] = statistics.median(times) / STEPS * 1000
            direct = [_timed(_direct_chain) for _ in range(args.repeat)]
            figures["direct_calls_ms_per_step"] = statistics.median(direct) / STEPS * 1000

            sleeping = sleeping_pipeline()
            ratios, colds, warms = [], [], []
            for _ in range(args.repeat):
                params = {"salt": uuid.uuid4().hex}  # a new salt: every step misses the cache
                cold = _timed(lambda q=params: runner.run(sleeping, q).raise_for_status())
                warm = _timed(lambda q=params: runner.run(sleeping, q).raise_for_status())
                colds.append(cold)
                warms.append(warm)
                ratios.append(warm / cold)
            figures["cold_run_s"] = statistics.median(colds)
            figures["cached_run_s"] = statistics.median(warms)
            figures["cached_over_cold_pct"] = statistics.median(ratios) * 100
        db.dispose()
    _print(figures, args.repeat)
    return figures


def _print(f: dict[str, float], repeat: int) -> None:
    print(f"pipeline engine, local runner, SQLite records, medians of {repeat} runs")
    print(
        f"  {STEPS} no-op steps in a chain:    {f['chain_ms_per_step']:.2f} ms/step (target <= 5)"
    )
    print(
        f"  {STEPS} no-op steps in parallel:   {f['parallel_ms_per_step']:.2f} ms/step (target <= 5)"
    )
    print(f"  peer, direct function calls:     {f['direct_calls_ms_per_step']:.4f} ms/step")
    print(
        f"  {SLEEP_STEPS} steps of {SLEEP_S}s: cold {f['cold_run_s']:.2f}s, fully cached "
        f"{f['cached_run_s']:.3f}s = {f['cached_over_cold_pct']:.2f}% (target <= 5%)"
    )


if __name__ == "__main__":
    main()
