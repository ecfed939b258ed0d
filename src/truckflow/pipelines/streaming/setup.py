"""Bring a fresh home to the start of the streaming period: history in, features, a production
model. The demo, the benchmark and the tests start the simulation from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truckflow.data.ingest import course_files, ingest_directory
from truckflow.features.fill import fill_features
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.deploy import promote_directly
from truckflow.pipelines.streaming.steps import LOOKBACK
from truckflow.registry import ModelRegistry
from truckflow.streaming import StreamingError

__all__ = ["PreparedHistory", "prepare_history"]


@dataclass(frozen=True)
class PreparedHistory:
    ingested_rows: int
    features: int
    version: str
    test_f1: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ingested_rows": self.ingested_rows,
            "features": self.features,
            "version": self.version,
            "test_f1": self.test_f1,
        }


def prepare_history(
    runtime: Runtime,
    folder: Path,
    *,
    n_trials: int = 20,
    families: str = "logistic_regression,xgboost",
    seed: int = 0,
) -> PreparedHistory:
    """Ingest the historical course files of ``folder``, fill their features, train on the
    course's split and put the registered version in production (approved)."""
    if not course_files(Path(folder), historical_only=True):
        raise StreamingError(f"{folder}: no historical course files")
    report = ingest_directory(runtime.db, Path(folder), historical_only=True)
    # History is finished up to a week before the boundary: a trip departing before then whose
    # inputs are not there (a city without weather that day) never gets them. It is stored
    # incomplete, with what it lacks, instead of waiting for ever; the last week's trips may
    # still get theirs from the streaming files (the daily fill completes them).
    finished = dt.datetime.combine(runtime.settings.streaming.boundary, dt.time()) - LOOKBACK
    filled = fill_features(
        runtime.db,
        dt.datetime(2000, 1, 1),
        dt.datetime(2100, 1, 1),
        deadline=finished,
        partitions=runtime.partitions,
    )
    result = runtime.run(
        "training", {"n_trials": n_trials, "families": families, "seed": seed}
    ).raise_for_status()
    version = str(result.outputs["register"]["version"])
    registry = ModelRegistry.from_settings(runtime.settings)
    registry.approve(version, comment="initial model of the streaming simulation")
    promote_directly(runtime, version, reason="initial model of the streaming simulation")
    return PreparedHistory(
        ingested_rows=sum(s.inserted for s in report.sources),
        features=filled.computed + filled.partial,
        version=version,
        test_f1=result.outputs.get("evaluate", {}).get("test_f1"),
    )
