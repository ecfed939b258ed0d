"""Data drift per column and for the whole frame, vectorised over the numeric columns.

Numeric columns with a large reference (the usual case: a training window against a week) are
binned all at once (one ``np.bincount`` over every column); the normed Wasserstein distance is
read off the binned CDFs, whose error is at most two bin widths. Only a column whose estimate
lies within that error of the threshold is recomputed exactly, so every verdict is the exact
one. Small samples and categorical columns go through the plain tests of ``stattests``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, computed_field

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.stattests import (
    ColumnKind,
    FloatArray,
    IntArray,
    StatResult,
    StatTest,
    chi_squared,
    jensen_shannon,
    kolmogorov_smirnov,
    select_test,
    wasserstein_normed,
    z_proportions,
)

__all__ = ["ColumnDrift", "DataDrift", "column_kinds", "detect_drift", "prediction_drift"]


class ColumnDrift(BaseModel):
    """The verdict on one column, with everything needed to explain it."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    column: str
    kind: ColumnKind
    test: StatTest
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    reference_size: int
    current_size: int
    n_unique: int

    @property
    def score(self) -> float:
        """The number the verdict compares with ``threshold``: p-value or distance."""
        return self.statistic if self.p_value is None else self.p_value


class DataDrift(BaseModel):
    """Per-column verdicts and the dataset verdict (drifted share >= ``drift_share``)."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    columns: list[ColumnDrift]
    drift_share: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share_drifted(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dataset_drift(self) -> bool:
        return bool(self.columns) and self.share_drifted >= self.drift_share

    def column(self, name: str) -> ColumnDrift:
        for col in self.columns:
            if col.column == name:
                return col
        raise KeyError(name)


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
    """Test every column of ``current`` against ``reference``; missing values are left out."""
    config = config or DriftConfig()
    names = list(reference.columns if columns is None else columns)
    for side, frame in (("reference", reference), ("current", current)):
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise MonitoringError(f"drift check: the {side} frame has no column(s) {missing}")
    kinds = column_kinds(reference, names, categorical, numerical)
    numeric = [n for n in names if kinds[n] is ColumnKind.NUMERICAL]
    results = _numeric_drift(reference, current, numeric, config)
    for name in names:
        if kinds[name] is ColumnKind.CATEGORICAL:
            results[name] = _categorical_drift(name, reference[name], current[name], config)
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


def _result(
    name: str,
    kind: ColumnKind,
    test: StatTest,
    result: StatResult,
    sizes: tuple[int, int],
    n_unique: int,
    config: DriftConfig,
) -> ColumnDrift:
    threshold = test.threshold(config)
    return ColumnDrift(
        column=name,
        kind=kind,
        test=test,
        statistic=result.statistic,
        p_value=result.p_value,
        threshold=threshold,
        drifted=test.drifted(result.score, threshold),
        reference_size=sizes[0],
        current_size=sizes[1],
        n_unique=n_unique,
    )


def _counts_test(test: StatTest, ref_counts: IntArray, cur_counts: IntArray) -> StatResult:
    if test is StatTest.CHI_SQUARED:
        return chi_squared(ref_counts, cur_counts)
    if test is StatTest.Z:
        return z_proportions(ref_counts, cur_counts)
    return jensen_shannon(ref_counts, cur_counts)


def _categorical_drift(
    name: str, reference: pd.Series, current: pd.Series, config: DriftConfig
) -> ColumnDrift:
    # Each side is factorised on its own (Arrow strings encode fast, no object copy), then the
    # current categories are placed after the reference ones in one union of keys.
    ref_codes, ref_keys = pd.factorize(reference, use_na_sentinel=True)
    cur_codes, cur_keys = pd.factorize(current, use_na_sentinel=True)
    ref_counts = np.bincount(ref_codes[ref_codes >= 0], minlength=len(ref_keys))
    cur_counts_own = np.bincount(cur_codes[cur_codes >= 0], minlength=len(cur_keys))
    position = pd.Index(ref_keys).get_indexer(pd.Index(cur_keys))
    new = position < 0
    position[new] = len(ref_keys) + np.arange(int(new.sum()))
    n_unique = len(ref_keys) + int(new.sum())
    ref_counts = np.concatenate([ref_counts, np.zeros(n_unique - len(ref_keys), np.int64)])
    cur_counts = np.zeros(n_unique, np.int64)
    cur_counts[position] = cur_counts_own
    return _discrete_result(name, ColumnKind.CATEGORICAL, ref_counts, cur_counts, n_unique, config)


def _discrete_result(
    name: str,
    kind: ColumnKind,
    ref_counts: IntArray,
    cur_counts: IntArray,
    n_unique: int,
    config: DriftConfig,
) -> ColumnDrift:
    sizes = (int(ref_counts.sum()), int(cur_counts.sum()))
    if min(sizes) == 0:
        side = "reference" if sizes[0] == 0 else "current"
        raise MonitoringError(f"drift check: column {name!r} has no values in the {side} frame")
    test = select_test(kind, sizes[0], n_unique, config)
    return _result(
        name, kind, test, _counts_test(test, ref_counts, cur_counts), sizes, n_unique, config
    )


def _discrete_numeric(
    name: str, ref: FloatArray, cur: FloatArray, config: DriftConfig
) -> ColumnDrift:
    uniques, inverse = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    ref_counts = np.bincount(inverse[: len(ref)], minlength=len(uniques))
    cur_counts = np.bincount(inverse[len(ref) :], minlength=len(uniques))
    return _discrete_result(
        name, ColumnKind.NUMERICAL, ref_counts, cur_counts, len(uniques), config
    )


def _as_matrix(frame: pd.DataFrame, names: list[str]) -> FloatArray:
    try:
        matrix = frame[names].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise MonitoringError(
            f"drift check: numeric columns {names} are not numbers: {exc}"
        ) from exc
    finite = np.isfinite(matrix)
    if not finite.all():  # Evidently drops +-inf with the missing values; never write in place
        matrix = np.where(finite, matrix, np.nan)
    return matrix


def _numeric_drift(
    reference: pd.DataFrame, current: pd.DataFrame, names: list[str], config: DriftConfig
) -> dict[str, ColumnDrift]:
    if not names:
        return {}
    ref, cur = _as_matrix(reference, names), _as_matrix(current, names)
    ref_sizes = (~np.isnan(ref)).sum(axis=0)
    cur_sizes = (~np.isnan(cur)).sum(axis=0)
    for j, name in enumerate(names):
        if ref_sizes[j] == 0 or cur_sizes[j] == 0:
            side = "reference" if ref_sizes[j] == 0 else "current"
            raise MonitoringError(f"drift check: column {name!r} has no values in the {side} frame")
    out: dict[str, ColumnDrift] = {}
    large = [j for j in range(len(names)) if ref_sizes[j] > config.small_sample_rows]
    for j in range(len(names)):
        if j not in large:
            out[names[j]] = _small_numeric(names[j], _values(ref, j), _values(cur, j), config)
    if large:
        out.update(_large_numeric(names, large, ref, cur, config))
    return out


def _values(matrix: FloatArray, j: int) -> FloatArray:
    column = matrix[:, j]
    return column[~np.isnan(column)]


def _small_numeric(name: str, ref: FloatArray, cur: FloatArray, config: DriftConfig) -> ColumnDrift:
    n_unique = len(np.unique(np.concatenate([ref, cur])))
    if n_unique <= config.max_discrete_values:
        return _discrete_numeric(name, ref, cur, config)
    return _result(
        name,
        ColumnKind.NUMERICAL,
        StatTest.KS,
        kolmogorov_smirnov(ref, cur),
        (len(ref), len(cur)),
        n_unique,
        config,
    )


def _large_numeric(
    names: list[str],
    large: list[int],
    ref_all: FloatArray,
    cur_all: FloatArray,
    config: DriftConfig,
) -> dict[str, ColumnDrift]:
    ref, cur = ref_all[:, large], cur_all[:, large]
    bins = config.histogram_bins
    lo = np.fmin(np.nanmin(ref, axis=0), np.nanmin(cur, axis=0))
    hi = np.fmax(np.nanmax(ref, axis=0), np.nanmax(cur, axis=0))
    width = np.where(hi > lo, (hi - lo) / bins, 1.0)
    ref_hist, cur_hist = _binned(ref, lo, width, bins), _binned(cur, lo, width, bins)
    ref_n, cur_n = ref_hist.sum(axis=1), cur_hist.sum(axis=1)
    occupied = np.count_nonzero(ref_hist + cur_hist, axis=1)
    cdf_gap = np.abs(
        np.cumsum(ref_hist, axis=1) / ref_n[:, None] - np.cumsum(cur_hist, axis=1) / cur_n[:, None]
    )
    norm = np.maximum(np.nanstd(ref, axis=0), 0.001)
    estimate = cdf_gap.sum(axis=1) * width / norm
    error = 2 * width / norm
    threshold = config.wasserstein_threshold
    out: dict[str, ColumnDrift] = {}
    for i, j in enumerate(large):
        name = names[j]
        if occupied[i] <= config.max_discrete_values:
            # Few occupied bins may still hide many values; only an exact count can say.
            r, c = _values(ref_all, j), _values(cur_all, j)
            if len(np.unique(np.concatenate([r, c]))) <= config.max_discrete_values:
                out[name] = _discrete_numeric(name, r, c, config)
                continue
        if abs(estimate[i] - threshold) <= error[i]:
            result = wasserstein_normed(_values(ref_all, j), _values(cur_all, j))
        else:
            result = StatResult(float(estimate[i]), None)
        # Distinct values are at least the occupied bins; the exact count is not worth a sort.
        out[name] = _result(
            name,
            ColumnKind.NUMERICAL,
            StatTest.WASSERSTEIN,
            result,
            (int(ref_n[i]), int(cur_n[i])),
            int(occupied[i]),
            config,
        )
    return out


def _binned(matrix: FloatArray, lo: FloatArray, width: FloatArray, bins: int) -> IntArray:
    """Per-column histograms on a shared grid, all columns in one bincount; NaN go to a spill bin."""
    index = (matrix - lo) / width
    np.clip(index, 0, bins - 1, out=index)
    index[np.isnan(index)] = bins
    codes = index.astype(np.int64) + np.arange(matrix.shape[1], dtype=np.int64) * (bins + 1)
    counts = np.bincount(codes.ravel(), minlength=matrix.shape[1] * (bins + 1))
    return counts.reshape(matrix.shape[1], bins + 1)[:, :bins]
