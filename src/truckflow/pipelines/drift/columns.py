"""The data drift of a week by partitions: each group of feature columns a task that reads
those columns of the reference and current windows and tests them; the verdicts joined in
column order equal the check of all columns at once (a column's random null draws are seeded
by its position among all columns, as in one check)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from truckflow.features.definition import CATEGORICAL_FEATURES, FEATURE_COLUMNS
from truckflow.features.fill import load_features
from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.drift import DataDrift, detect_drift
from truckflow.pipelines.runtime import Runtime

__all__ = ["DriftPart", "data_drift", "drift_part"]


@dataclass(frozen=True)
class DriftPart:
    """Columns ``columns`` (from position ``offset`` among all) of the reference (trips
    arriving in ``reference``) and current (departing in ``current``) windows."""

    rt: Runtime
    reference: tuple[dt.datetime, dt.datetime]
    current: tuple[dt.datetime, dt.datetime]
    columns: tuple[str, ...]
    offset: int

    def __repr__(self) -> str:
        return f"drift of {', '.join(self.columns)}"


def drift_part(part: DriftPart) -> DataDrift:
    """Read the partition's columns of both windows and test them."""
    db, names = part.rt.db, list(part.columns)
    reference = load_features(db, *part.reference, by="estimated_arrival", columns=names)
    # In time order, as the whole check reads it (the adaptive profile's null windows).
    reference = reference.sort_values("departure_date", kind="stable", ignore_index=True)
    current = load_features(db, *part.current, columns=names)
    config = DriftConfig.from_settings(part.rt.settings)
    shifted = config.model_copy(update={"null_seed": config.null_seed + part.offset})
    categorical = [c for c in CATEGORICAL_FEATURES if c in part.columns]
    return detect_drift(reference[names], current[names], categorical=categorical, config=shifted)


def data_drift(
    rt: Runtime,
    reference: tuple[dt.datetime, dt.datetime],
    current: tuple[dt.datetime, dt.datetime],
) -> DataDrift | None:
    """The feature columns' drift by as many column groups as the step's partitions run at
    once; None with one (the caller checks the frames it has read, as ever)."""
    n = min(rt.partitions.width, len(FEATURE_COLUMNS))
    if n <= 1:
        return None
    groups = np.array_split(np.arange(len(FEATURE_COLUMNS)), n)
    parts = [
        DriftPart(rt, reference, current, tuple(FEATURE_COLUMNS[i] for i in g), int(g[0]))
        for g in groups
    ]
    found = rt.partitions.map(drift_part, parts)
    columns = [c for part in found for c in part.columns]
    return found[0].model_copy(update={"columns": columns})
