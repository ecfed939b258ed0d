"""CLI start-up: ``truckflow --help`` and ``import truckflow`` against a bare Python start.

    python benchmarks/cli_start.py [--repeat 5]

Prints the median wall time of each over the repeats (each a new process) and its ratio to the
bare interpreter (``python -c pass``), importing the ``Runtime`` among them, plus the same for importing the heavy libraries that the
CLI must not load at start (what ``--help`` cost before they were imported lazily). Tests spawn
the CLI as a subprocess many times, so its start is paid again in each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

_TRUCKFLOW = str(Path(sys.executable).with_name("truckflow"))
CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "import truckflow": [sys.executable, "-c", "import truckflow"],
    "truckflow --help": [_TRUCKFLOW, "--help"],
    # What every command that runs a pipeline imports first; it imported every flow before
    # register_pipelines() (about 6 s on the 2-core machine).
    "import the Runtime": [sys.executable, "-c", "from truckflow.pipelines.runtime import Runtime"],
    "import mlflow, sklearn, scipy.signal, pandas": [
        sys.executable,
        "-c",
        "import mlflow, sklearn, scipy.signal, pandas",
    ],
}


def _once(argv: list[str]) -> float:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    medians = {
        name: statistics.median(_once(cmd) for _ in range(args.repeat))
        for name, cmd in CASES.items()
    }
    base = medians["python -c pass (baseline)"]
    print(f"CLI start-up, median of {args.repeat} new processes")
    for name, seconds in medians.items():
        print(f"  {name:<45} {seconds:7.3f} s  {seconds / base:6.1f}x baseline")


if __name__ == "__main__":
    main(sys.argv[1:])
