"""Bring a fresh home to the start of the streaming period: history in, features, a production
model. The demo, the benchmark and the tests start the simulation from here.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truckflow.data.course_format import TABLE_SPECS
from truckflow.data.ingest import ingest_directory
from truckflow.features.fill import fill_features
from truckflow.pipelines.runtime import Runtime
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


def _historical_files(folder: Path) -> list[str]:
    names = [name for spec in TABLE_SPECS.values() for name in spec.files]
    return [n for n in names if not n.startswith("streaming_") and (folder / n).is_file()]


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
    files = _historical_files(Path(folder))
    if not files:
        raise StreamingError(f"{folder}: no historical course files")
    with tempfile.TemporaryDirectory() as tmp:
        for name in files:
            shutil.copy(Path(folder) / name, Path(tmp) / name)
        report = ingest_directory(runtime.db, Path(tmp))
    filled = fill_features(runtime.db, dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))
    result = runtime.run(
        "training", {"n_trials": n_trials, "families": families, "seed": seed}
    ).raise_for_status()
    version = str(result.outputs["register"]["version"])
    registry = ModelRegistry.from_settings(runtime.settings)
    registry.approve(version, comment="initial model of the streaming simulation")
    registry.set_alias("production", version)
    return PreparedHistory(
        ingested_rows=sum(s.inserted for s in report.sources),
        features=filled.computed,
        version=version,
        test_f1=result.outputs.get("evaluate", {}).get("test_f1"),
    )
