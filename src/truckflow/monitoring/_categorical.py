"""Columns tested on category counts: categorical columns and numeric ones with few values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.results import ColumnDrift, column_result
from truckflow.monitoring.stattests import (
    ColumnKind,
    FloatArray,
    IntArray,
    StatResult,
    StatTest,
    chi_squared,
    jensen_shannon,
    select_test,
    z_proportions,
)

__all__ = ["categorical_drift", "discrete_numeric_drift"]


def _counts_test(test: StatTest, ref_counts: IntArray, cur_counts: IntArray) -> StatResult:
    if test is StatTest.CHI_SQUARED:
        return chi_squared(ref_counts, cur_counts)
    if test is StatTest.Z:
        return z_proportions(ref_counts, cur_counts)
    return jensen_shannon(ref_counts, cur_counts)


def _from_counts(
    name: str,
    kind: ColumnKind,
    ref_counts: IntArray,
    cur_counts: IntArray,
    config: DriftConfig,
) -> ColumnDrift:
    sizes = (int(ref_counts.sum()), int(cur_counts.sum()))
    if min(sizes) == 0:
        side = "reference" if sizes[0] == 0 else "current"
        raise MonitoringError(f"drift check: column {name!r} has no values in the {side} frame")
    n_unique = len(ref_counts)
    test = select_test(kind, sizes[0], n_unique, config)
    result = _counts_test(test, ref_counts, cur_counts)
    return column_result(name, kind, test, result, sizes, n_unique, config)


def categorical_drift(
    name: str, reference: pd.Series, current: pd.Series, config: DriftConfig
) -> ColumnDrift:
    # Each side is factorised on its own (Arrow strings encode fast, no object copy), then the
    # current categories are placed after the reference ones in one union of keys.
    ref_codes, ref_keys = pd.factorize(reference, use_na_sentinel=True)
    cur_codes, cur_keys = pd.factorize(current, use_na_sentinel=True)
    ref_counts = np.bincount(ref_codes[ref_codes >= 0], minlength=len(ref_keys))
    cur_own = np.bincount(cur_codes[cur_codes >= 0], minlength=len(cur_keys))
    position = pd.Index(ref_keys).get_indexer(pd.Index(cur_keys))
    new = position < 0
    position[new] = len(ref_keys) + np.arange(int(new.sum()))
    n_unique = len(ref_keys) + int(new.sum())
    ref_counts = np.concatenate([ref_counts, np.zeros(n_unique - len(ref_keys), np.int64)])
    cur_counts = np.zeros(n_unique, np.int64)
    cur_counts[position] = cur_own
    return _from_counts(name, ColumnKind.CATEGORICAL, ref_counts, cur_counts, config)


def discrete_numeric_drift(
    name: str, ref: FloatArray, cur: FloatArray, config: DriftConfig
) -> ColumnDrift:
    """A numeric column with few distinct values, tested on the counts of each value."""
    uniques, inverse = _distinct(np.concatenate([ref, cur]))
    ref_counts = np.bincount(inverse[: len(ref)], minlength=len(uniques))
    cur_counts = np.bincount(inverse[len(ref) :], minlength=len(uniques))
    return _from_counts(name, ColumnKind.NUMERICAL, ref_counts, cur_counts, config)


def _distinct(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct values and each value's index among them.

    Columns sent here usually hold a handful of values: a strided sample finds them and one
    binary search per value confirms it (no full sort); anything else falls back to np.unique.
    """
    sample = np.unique(values[:: max(1, len(values) // 1024)])
    index = np.minimum(np.searchsorted(sample, values), len(sample) - 1)
    if np.array_equal(sample[index], values):
        return sample, index.astype(np.int64)
    uniques, inverse = np.unique(values, return_inverse=True)
    return uniques, inverse.astype(np.int64)
