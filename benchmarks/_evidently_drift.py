"""Runs Evidently's DataDriftPreset on two parquet frames; prints one JSON document.

Called by drift.py in a separate interpreter (Evidently 0.7 does not import with pandas 3,
which truckflow pins), so it only uses Evidently, pandas and the standard library.
Usage: python _evidently_drift.py REFERENCE.parquet CURRENT.parquet SPEC.json REPEATS
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import statistics
import sys
import time

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def main() -> None:
    reference_path, current_path, spec_path, repeats = sys.argv[1:5]
    spec = json.loads(open(spec_path, encoding="utf-8").read())  # noqa: PTH123, SIM115
    reference, current = pd.read_parquet(reference_path), pd.read_parquet(current_path)
    definition = DataDefinition(
        numerical_columns=spec["numerical"], categorical_columns=spec["categorical"]
    )
    times, snapshot = [], None
    for _ in range(int(repeats)):
        start = time.perf_counter()
        ref = Dataset.from_pandas(reference, data_definition=definition)
        cur = Dataset.from_pandas(current, data_definition=definition)
        snapshot = Report([DataDriftPreset(drift_share=spec["drift_share"])]).run(cur, ref)
        times.append(time.perf_counter() - start)
    columns = {}
    assert snapshot is not None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": config["method"],
                "threshold": config["threshold"],
                "score": metric["value"],
            }
    version = importlib.metadata.version("evidently")
    print(
        json.dumps(
            {
                "version": version,
                "seconds": times,
                "median": statistics.median(times),
                "columns": columns,
            }
        )
    )


if __name__ == "__main__":
    main()
