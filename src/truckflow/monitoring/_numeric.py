"""Numeric columns, vectorised: all columns of a frame as one (columns x rows) float matrix.

With a large reference (the usual case: a training window against a week) every column is
binned on its own grid in one ``np.bincount``; the normed Wasserstein distance is read off the
binned CDFs, whose error is at most two bin widths. Only a column whose estimate lies within
that error of the threshold is recomputed exactly, so every verdict is the exact one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from truckflow.monitoring._categorical import discrete_numeric_drift
from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.results import ColumnDrift, column_result
from truckflow.monitoring.stattests import (
    ColumnKind,
    FloatArray,
    IntArray,
    StatResult,
    StatTest,
    kolmogorov_smirnov,
    wasserstein_normed,
)

__all__ = ["numeric_drift"]


@dataclass(frozen=True)
class _Block:
    """Columns as rows (C-contiguous), missing and infinite values as NaN."""

    values: FloatArray
    sizes: IntArray  # values present per column
    complete: npt.NDArray[np.bool_]  # columns without a missing value

    @classmethod
    def of(cls, frame: pd.DataFrame, names: list[str]) -> _Block:
        try:
            matrix = frame[names].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise MonitoringError(f"drift check: columns {names} are not numbers: {exc}") from exc
        values = np.ascontiguousarray(matrix.T)
        finite = np.isfinite(values)
        complete = finite.all(axis=1)
        if not complete.all():
            # Evidently drops +-inf with the missing values; a fresh array, never the caller's.
            values = np.where(finite, values, np.nan)
        return cls(values, finite.sum(axis=1), complete)

    def column(self, i: int) -> FloatArray:
        row: FloatArray = self.values[i]
        return row if self.complete[i] else row[~np.isnan(row)]

    def reduce(self, rows: list[int], plain: str, nan_aware: str) -> FloatArray:
        """A row-wise reduction, NaN-aware only where a row has missing values."""
        out = np.empty(len(rows))
        for k, i in enumerate(rows):
            func = getattr(np, plain if self.complete[i] else nan_aware)
            out[k] = func(self.values[i])
        return out


def numeric_drift(
    reference: pd.DataFrame, current: pd.DataFrame, names: list[str], config: DriftConfig
) -> dict[str, ColumnDrift]:
    if not names:
        return {}
    ref, cur = _Block.of(reference, names), _Block.of(current, names)
    for i, name in enumerate(names):
        if ref.sizes[i] == 0 or cur.sizes[i] == 0:
            side = "reference" if ref.sizes[i] == 0 else "current"
            raise MonitoringError(f"drift check: column {name!r} has no values in the {side} frame")
    large = [i for i in range(len(names)) if ref.sizes[i] > config.small_sample_rows]
    out = {
        names[i]: _small(names[i], ref.column(i), cur.column(i), config)
        for i in range(len(names))
        if ref.sizes[i] <= config.small_sample_rows
    }
    if large:
        out.update(_large(names, large, ref, cur, config))
    return out


def _small(name: str, ref: FloatArray, cur: FloatArray, config: DriftConfig) -> ColumnDrift:
    n_unique = len(np.unique(np.concatenate([ref, cur])))
    if n_unique <= config.max_discrete_values:
        return discrete_numeric_drift(name, ref, cur, config)
    sizes = (len(ref), len(cur))
    result = kolmogorov_smirnov(ref, cur)
    return column_result(name, ColumnKind.NUMERICAL, StatTest.KS, result, sizes, n_unique, config)


def _large(
    names: list[str], rows: list[int], ref: _Block, cur: _Block, config: DriftConfig
) -> dict[str, ColumnDrift]:
    bins = config.histogram_bins
    lo = np.fmin(ref.reduce(rows, "min", "nanmin"), cur.reduce(rows, "min", "nanmin"))
    hi = np.fmax(ref.reduce(rows, "max", "nanmax"), cur.reduce(rows, "max", "nanmax"))
    width = np.where(hi > lo, (hi - lo) / bins, 1.0)
    ref_hist, cur_hist = _binned(ref, rows, lo, width, bins), _binned(cur, rows, lo, width, bins)
    occupied = np.count_nonzero(ref_hist + cur_hist, axis=1)
    ref_cdf = np.cumsum(ref_hist, axis=1) / ref.sizes[rows][:, None]
    cur_cdf = np.cumsum(cur_hist, axis=1) / cur.sizes[rows][:, None]
    norm = np.maximum(ref.reduce(rows, "std", "nanstd"), 0.001)
    estimate = np.abs(ref_cdf - cur_cdf).sum(axis=1) * width / norm
    error = 2 * width / norm
    out: dict[str, ColumnDrift] = {}
    for k, i in enumerate(rows):
        name = names[i]
        if occupied[k] <= config.max_discrete_values:
            # Few occupied bins may still hide many values; only an exact count can say.
            r, c = ref.column(i), cur.column(i)
            if len(np.unique(np.concatenate([r, c]))) <= config.max_discrete_values:
                out[name] = discrete_numeric_drift(name, r, c, config)
                continue
        if abs(estimate[k] - config.wasserstein_threshold) <= error[k]:
            result = wasserstein_normed(ref.column(i), cur.column(i))
        else:
            result = StatResult(float(estimate[k]), None)
        sizes = (int(ref.sizes[i]), int(cur.sizes[i]))
        out[name] = column_result(
            name,
            ColumnKind.NUMERICAL,
            StatTest.WASSERSTEIN,
            result,
            sizes,
            int(occupied[k]),
            config,
        )
    return out


def _binned(
    block: _Block, rows: list[int], lo: FloatArray, width: FloatArray, bins: int
) -> IntArray:
    """Per-column histograms on each column's grid, all in one bincount; NaN go to a spill bin."""
    values = block.values if len(rows) == len(block.values) else block.values[rows]
    index = values - lo[:, None]
    index *= (1.0 / width)[:, None]
    np.clip(index, 0, bins - 1, out=index)
    incomplete = [k for k, i in enumerate(rows) if not block.complete[i]]
    for k in incomplete:
        index[k][np.isnan(index[k])] = bins
    codes = index.astype(np.int64)
    codes += (np.arange(len(rows), dtype=np.int64) * (bins + 1))[:, None]
    counts = np.bincount(codes.ravel(), minlength=len(rows) * (bins + 1))
    return counts.reshape(len(rows), bins + 1)[:, :bins]
