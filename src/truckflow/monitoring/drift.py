"""Data drift per column and for the whole frame (Evidently's default algorithm).

Numeric columns go through the vectorised engine of ``_numeric``; categorical columns (and
numeric ones with few distinct values) through the count tests of ``_categorical``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from truckflow.monitoring._adaptive import adaptive_drift
from truckflow.monitoring._categorical import categorical_drift
from truckflow.monitoring._numeric import numeric_drift
from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.results import ColumnDrift, DataDrift
from truckflow.monitoring.stattests import ColumnKind

__all__ = ["ColumnDrift", "DataDrift", "column_kinds", "detect_drift", "prediction_drift"]


def column_kinds(
    frame: pd.DataFrame,
    columns: Sequence[str],
    categorical: Iterable[str] = (),
    numerical: Iterable[str] = (),
) -> dict[str, ColumnKind]:
    """Numeric dtypes (not bool) are numerical, the rest categorical, unless named otherwise."""
    cat, num = set(categorical), set(numerical)
    kinds: dict[str, ColumnKind] = {}
    for name in columns:
        dtype = frame[name].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if name in cat or (name not in num and not numeric):
            kinds[name] = ColumnKind.CATEGORICAL
        else:
            kinds[name] = ColumnKind.NUMERICAL
    return kinds


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    categorical: Iterable[str] = (),
    numerical: Iterable[str] = (),
    config: DriftConfig | None = None,
) -> DataDrift:
    """Test every column of ``current`` against ``reference``; missing values are left out.

    With the ``adaptive`` profile the reference rows should be in time order (its null windows
    are runs of consecutive rows)."""
    config = config or DriftConfig()
    names = list(reference.columns if columns is None else columns)
    for side, frame in (("reference", reference), ("current", current)):
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise MonitoringError(f"drift check: the {side} frame has no column(s) {missing}")
    kinds = column_kinds(reference, names, categorical, numerical)
    if config.profile == "adaptive":
        found, method = adaptive_drift(reference, current, kinds, config)
        return DataDrift(
            columns=[found[n] for n in names],
            drift_share=config.drift_share,
            profile="adaptive",
            null_method=method,
        )
    numeric = [n for n in names if kinds[n] is ColumnKind.NUMERICAL]
    categorical_names = [n for n in names if kinds[n] is ColumnKind.CATEGORICAL]
    if config.workers == 1 or not categorical_names:
        results = numeric_drift(reference, current, numeric, config)
        for name in categorical_names:
            results[name] = categorical_drift(name, reference[name], current[name], config)
    else:
        with ThreadPoolExecutor(config.workers, thread_name_prefix="drift") as pool:
            futures = {
                n: pool.submit(categorical_drift, n, reference[n], current[n], config)
                for n in categorical_names
            }
            results = numeric_drift(reference, current, numeric, config)
            for name, future in futures.items():
                results[name] = future.result()
    return DataDrift(columns=[results[n] for n in names], drift_share=config.drift_share)


def prediction_drift(
    reference: pd.DataFrame | pd.Series,
    current: pd.DataFrame | pd.Series,
    config: DriftConfig | None = None,
) -> DataDrift:
    """Drift of the model's outputs (probability, predicted class), with the same tests."""
    ref = reference.to_frame() if isinstance(reference, pd.Series) else reference
    cur = current.to_frame() if isinstance(current, pd.Series) else current
    return detect_drift(ref, cur, config=config)
