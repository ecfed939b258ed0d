"""The ``adaptive`` profile: per-column thresholds from the null distribution at the window's size.

Evidently's fixed thresholds ignore how many trips a week holds, and a week of a few hundred
trips shares its seven days of weather: a stationary world looks drifted every week. Here every
column is scored with a distance (normed Wasserstein for numbers, Jensen-Shannon for categories)
and its threshold is the ``1 - false_alarm_rate`` quantile of that distance between reference
windows of the current window's size and the rest of the reference:

- ``contiguous`` (the reference holds at least twice the current rows): windows are runs of
  consecutive reference rows. Given in time order (the drift check sorts it by departure), a
  window shares its days as a real week does, so the null carries the weather's correlation.
- ``multinomial`` (a reference too short for that): independent trips. Category counts of the
  window and of a reference of the same sizes are drawn from the reference's mix; for numbers,
  the difference of the two empirical CDFs is drawn as its large-sample limit, a Brownian
  bridge over the reference's CDF scaled by sqrt(1/n + 1/N) (thousands of bins make exact
  multinomial draws too slow; this costs one normal draw per bin).

Histograms sit on one grid per column (``histogram_bins`` bins over both samples), so each null
draw costs a bincount; a current distance within two bin widths of its threshold is recomputed
exactly, as in the ``evidently`` profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.results import ColumnDrift
from truckflow.monitoring.stattests import ColumnKind, FloatArray, IntArray, StatTest

__all__ = ["NullPlan", "adaptive_drift"]

# Null histograms are made this many cells (draws x rows or draws x bins) at a time.
_CELLS = 8_000_000


# Points at which the null's Brownian bridge is drawn.
_BRIDGE_POINTS = 512
# Below this many rows in both samples together, independent draws are exact permutations.
PERMUTATION_ROWS = 20_000


@dataclass(frozen=True)
class NullPlan:
    """How the null windows are drawn for a reference of ``reference_rows`` rows."""

    method: str  # contiguous | permutation | multinomial
    starts: IntArray  # first row of each contiguous window (empty for multinomial)
    window: int
    draws: int
    # contiguous: rows left out of the "rest" on each side of a window. Neighbouring days share
    # their weather, so a rest that kept them would look too much like the window (and the
    # null's distances would come out small); the current week has a neighbour on one side only.
    guard: int = 0


def plan(reference_rows: int, current_rows: int, config: DriftConfig) -> NullPlan:
    draws = config.null_windows
    if reference_rows >= 2 * current_rows:
        guard = current_rows // 2 if reference_rows >= 3 * current_rows else 0
        starts = np.linspace(0, reference_rows - current_rows, draws).round().astype(np.int64)
        return NullPlan("contiguous", starts, current_rows, draws, guard)
    if reference_rows + current_rows <= PERMUTATION_ROWS:
        return NullPlan("permutation", np.empty(0, np.int64), current_rows, draws)
    return NullPlan("multinomial", np.empty(0, np.int64), current_rows, draws)


def _window_counts(codes: IntArray, bins: int, all_starts: IntArray, length: int) -> IntArray:
    """(draws x bins) counts of each run of ``length`` rows; code ``bins`` (missing) is dropped."""
    offsets = np.arange(length, dtype=np.int64)
    block = max(1, _CELLS // max(length, 1))
    out = []
    for lo in range(0, len(all_starts), block):
        starts = all_starts[lo : lo + block]
        rows = codes[starts[:, None] + offsets] + (np.arange(len(starts)) * (bins + 1))[:, None]
        counts = np.bincount(rows.ravel(), minlength=len(starts) * (bins + 1))
        out.append(counts.reshape(len(starts), bins + 1)[:, :bins])
    return np.concatenate(out)


def _permuted_counts(codes: IntArray, bins: int, null: NullPlan, seed: int) -> IntArray:
    """(draws x bins) counts of the first ``window`` rows of each shuffle of ``codes``."""
    rng = np.random.default_rng(seed)
    rows = np.stack([rng.permutation(codes)[: null.window] for _ in range(null.draws)])
    rows += (np.arange(null.draws) * (bins + 1))[:, None]
    counts = np.bincount(rows.ravel(), minlength=null.draws * (bins + 1))
    out: IntArray = counts.reshape(null.draws, bins + 1)[:, :bins]
    return out


def _null_pairs(
    codes: IntArray,
    ref_counts: IntArray,
    cur_counts: IntArray,
    null: NullPlan,
    seed: int,
    cur_codes: IntArray | None = None,
) -> tuple[IntArray, IntArray]:
    """Counts of (window, rest-of-reference) for each null draw. Independent draws come from
    the pooled mix of both samples (as a permutation test would): a category only the current
    window has is then as likely in the null's windows as chance makes it."""
    bins = len(ref_counts)
    if null.method == "contiguous":
        windows = _window_counts(codes, bins, null.starts, null.window)
        if not null.guard:
            return windows, ref_counts[None, :] - windows
        span = null.window + 2 * null.guard
        first = np.clip(null.starts - null.guard, 0, len(codes) - span)
        return windows, ref_counts[None, :] - _window_counts(codes, bins, first, span)
    if null.method == "permutation" and cur_codes is not None:
        # Both samples pooled and split again at random: the exact null of "same mix".
        windows = _permuted_counts(np.concatenate([codes, cur_codes]), bins, null, seed)
        return windows, (ref_counts + cur_counts)[None, :] - windows
    rng = np.random.default_rng(seed)
    total = int(ref_counts.sum())
    pooled = ref_counts + cur_counts
    p = pooled / max(int(pooled.sum()), 1)
    return rng.multinomial(null.window, p, size=null.draws), rng.multinomial(
        total, p, size=null.draws
    )


def _wasserstein(a: IntArray, b: IntArray, width: float, norm: float) -> FloatArray:
    cdf_a = np.cumsum(a, axis=-1) / np.maximum(a.sum(axis=-1, keepdims=True), 1)
    cdf_b = np.cumsum(b, axis=-1) / np.maximum(b.sum(axis=-1, keepdims=True), 1)
    out: FloatArray = np.abs(cdf_a - cdf_b).sum(axis=-1) * width / norm
    return out


def _bridge_wasserstein(pooled: IntArray, null: NullPlan, seed: int) -> FloatArray:
    """Sum over bins of |F_window - F_reference| for independent samples, in its Gaussian
    limit: a Brownian bridge at the reference's cumulative probabilities. The bridge is flat
    over empty bins, so it is drawn at the occupied ones only, each weighted by the bins it
    spans up to the next occupied one."""
    total = int(pooled.sum())
    occupied = np.flatnonzero(pooled)
    p = pooled[occupied] / max(total, 1)
    span = np.diff(np.append(occupied, len(pooled))).astype(np.float64)
    if len(p) > _BRIDGE_POINTS:
        # The bridge is continuous: read at most _BRIDGE_POINTS points of it (each group of
        # occupied bins as one step), a Riemann sum of the same integral.
        edges = np.linspace(0, len(p), _BRIDGE_POINTS + 1).round().astype(np.int64)[:-1]
        p, span = np.add.reduceat(p, edges), np.add.reduceat(span, edges)
    total -= null.window  # the reference's own size
    cumulative = np.cumsum(p)
    rng = np.random.default_rng(seed)
    scale = np.sqrt(1 / max(null.window, 1) + 1 / max(total, 1))
    out = []
    block = max(1, _CELLS // max(len(p), 1))
    for lo in range(0, null.draws, block):
        z = rng.standard_normal((min(block, null.draws - lo), len(p)))
        walk = np.cumsum(z * np.sqrt(p), axis=1)
        bridge = walk - cumulative * walk[:, -1:]
        out.append((np.abs(bridge) @ span) * scale)
    return np.concatenate(out)


def _jensen_shannon(a: IntArray, b: IntArray) -> FloatArray:
    p = a / np.maximum(a.sum(axis=-1, keepdims=True), 1)
    q = b / np.maximum(b.sum(axis=-1, keepdims=True), 1)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum(axis=-1)
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum(axis=-1)
    out: FloatArray = np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))
    return out


def _threshold(null_stats: FloatArray, config: DriftConfig) -> float:
    """The larger of two readings of the null's ``1 - false_alarm_rate`` quantile: the order
    statistic a new draw exceeds with probability at most the rate (rank ceil((1 - rate)
    (K + 1)) of K draws), and a log-normal fit's quantile. Overlapping windows of a short
    history hold few independent weeks, too few to reach a 1% tail; the fit extrapolates it."""
    ordered = np.sort(null_stats)
    rank = int(np.ceil((1 - config.false_alarm_rate) * (len(ordered) + 1)))
    empirical = float(ordered[min(rank, len(ordered)) - 1])
    positive = ordered[ordered > 0]
    if len(positive) < len(ordered) // 2 or len(positive) < 2:
        return empirical
    logs = np.log(positive)
    z = float(stats.norm.ppf(1 - config.false_alarm_rate))
    return max(empirical, float(np.exp(logs.mean() + z * logs.std(ddof=1))))


def _numeric(
    name: str, ref: FloatArray, cur: FloatArray, null: NullPlan, config: DriftConfig, seed: int
) -> ColumnDrift:
    ref_ok, cur_ok = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref_ok.size == 0 or cur_ok.size == 0:
        side = "reference" if ref_ok.size == 0 else "current"
        raise MonitoringError(f"drift check: column {name!r} has no values in the {side} frame")
    bins = config.histogram_bins
    lo = float(min(ref_ok.min(), cur_ok.min()))
    hi = float(max(ref_ok.max(), cur_ok.max()))
    width = (hi - lo) / bins if hi > lo else 1.0
    ref_codes = np.where(
        np.isfinite(ref), np.clip((np.nan_to_num(ref) - lo) / width, 0, bins - 1), bins
    ).astype(np.int64)
    cur_codes = np.clip((cur_ok - lo) / width, 0, bins - 1).astype(np.int64)
    ref_counts = np.bincount(ref_codes, minlength=bins + 1)[:bins]
    cur_counts = np.bincount(cur_codes, minlength=bins)
    norm = max(float(np.std(ref_ok)), 0.001)
    if null.method != "multinomial":
        pairs = _null_pairs(ref_codes, ref_counts, cur_counts, null, seed, cur_codes)
        null_stats = _wasserstein(*pairs, width, norm)
    else:
        null_stats = _bridge_wasserstein(ref_counts + cur_counts, null, seed) * width / norm
    threshold = _threshold(null_stats, config)
    statistic = float(_wasserstein(cur_counts, ref_counts, width, norm))
    if abs(statistic - threshold) <= 2 * width / norm:
        statistic = float(stats.wasserstein_distance(ref_ok, cur_ok)) / norm
    return _result(
        name,
        ColumnKind.NUMERICAL,
        StatTest.WASSERSTEIN,
        statistic,
        threshold,
        (ref_ok.size, cur_ok.size),
        int(np.count_nonzero(ref_counts + cur_counts)),
    )


def _categorical(
    name: str, ref: pd.Series, cur: pd.Series, null: NullPlan, seed: int, config: DriftConfig
) -> ColumnDrift:
    codes, keys = pd.factorize(pd.concat([ref, cur], ignore_index=True), use_na_sentinel=True)
    k = len(keys)
    ref_codes = np.where(codes[: len(ref)] >= 0, codes[: len(ref)], k).astype(np.int64)
    cur_codes = np.where(codes[len(ref) :] >= 0, codes[len(ref) :], k).astype(np.int64)
    ref_counts = np.bincount(ref_codes, minlength=k + 1)[:k]
    cur_counts = np.bincount(cur_codes, minlength=k + 1)[:k]
    sizes = (int(ref_counts.sum()), int(cur_counts.sum()))
    if min(sizes) == 0:
        side = "reference" if sizes[0] == 0 else "current"
        raise MonitoringError(f"drift check: column {name!r} has no values in the {side} frame")
    pairs = _null_pairs(ref_codes, ref_counts, cur_counts, null, seed, cur_codes)
    threshold = _threshold(_jensen_shannon(*pairs), config)
    statistic = float(_jensen_shannon(cur_counts, ref_counts))
    return _result(
        name, ColumnKind.CATEGORICAL, StatTest.JENSEN_SHANNON, statistic, threshold, sizes, k
    )


def _result(
    name: str,
    kind: ColumnKind,
    test: StatTest,
    statistic: float,
    threshold: float,
    sizes: tuple[int, int],
    n_unique: int,
) -> ColumnDrift:
    return ColumnDrift(
        column=name,
        kind=kind,
        test=test,
        statistic=statistic,
        p_value=None,
        threshold=threshold,
        # Strictly above: a distance no larger than the null's quantile is not drift (a
        # constant column has a null of zeros and a zero distance).
        drifted=statistic > threshold,
        reference_size=sizes[0],
        current_size=sizes[1],
        n_unique=n_unique,
    )


def adaptive_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, ColumnKind],
    config: DriftConfig,
) -> tuple[dict[str, ColumnDrift], str]:
    """Each column's verdict, and the null method used (``contiguous`` or ``multinomial``)."""
    null = plan(len(reference), len(current), config)
    out: dict[str, ColumnDrift] = {}
    for i, (name, kind) in enumerate(kinds.items()):
        seed = config.null_seed + i
        if kind is ColumnKind.NUMERICAL:
            try:
                ref = reference[name].to_numpy(dtype=np.float64, na_value=np.nan)
                cur = current[name].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise MonitoringError(
                    f"drift check: column {name!r} is not numbers: {exc}"
                ) from exc
            out[name] = _numeric(name, ref, cur, null, config, seed)
        else:
            out[name] = _categorical(name, reference[name], current[name], null, seed, config)
    return out, null.method
