"""Time series as sorted int64 keys, and the window reads ``compute_features`` makes on them.

Every time series (route weather, traffic, city weather) becomes one sorted int64 key array,
``code * 2**32 + time index``, where ``code`` numbers the route or city and the time index counts
hours (6-hour slots for route weather) since the epoch. A trip's window is then two
``np.searchsorted`` calls and its completeness a count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "KeyedSeries",
    "epoch_hours",
    "epoch_hours_of_day",
    "lookup",
    "positions",
    "values_at",
    "window_mean",
    "window_mode",
]

_SHIFT = np.int64(1 << 32)


def epoch_hours(values: pd.Series) -> np.ndarray:
    """Whole hours since the epoch (values are already on the hour)."""
    hours: np.ndarray = (
        values.to_numpy(dtype="datetime64[ns]").astype("datetime64[h]").astype(np.int64)
    )
    return hours


def epoch_hours_of_day(frame: pd.DataFrame, what: str) -> np.ndarray:
    """Hours since the epoch from a ``date`` column and an HHMM ``hour`` column."""
    hhmm = pd.to_numeric(frame["hour"]).to_numpy(dtype=np.int64)
    bad = (hhmm % 100 != 0) | (hhmm < 0) | (hhmm > 2300)
    if bad.any():
        from truckflow.features.inputs import FeatureError

        raise FeatureError(f"{what}.hour: {int(bad.sum())} value(s) not HHMM on the hour")
    hours: np.ndarray = epoch_hours(frame["date"]) + hhmm // 100
    return hours


@dataclass(frozen=True)
class KeyedSeries:
    """One time-indexed table as sorted unique keys plus its columns in the same order."""

    keys: np.ndarray
    frame: pd.DataFrame

    @classmethod
    def build(cls, codes: np.ndarray, times: np.ndarray, frame: pd.DataFrame) -> KeyedSeries:
        known = codes >= 0
        keys = codes[known].astype(np.int64) * _SHIFT + times[known]
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        # Duplicates on the natural key: the first one read wins, as the course's drop_duplicates.
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        rows = frame.loc[known].iloc[order[first]].reset_index(drop=True)
        return cls(keys[first], rows)

    def window(self, codes: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, ...]:
        """Row ranges [lo, hi) of each [t0, t1] window, and how many of its times are absent."""
        base = codes.astype(np.int64) * _SHIFT
        lo = np.searchsorted(self.keys, base + t0, side="left")
        hi = np.searchsorted(self.keys, base + t1, side="right")
        absent = (t1 - t0 + 1) - (hi - lo)
        return lo, hi, np.where(codes >= 0, absent, t1 - t0 + 1)

    def at(self, codes: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row position of each exact (code, time), and whether it exists."""
        query = codes.astype(np.int64) * _SHIFT + times
        pos = np.searchsorted(self.keys, query, side="left")
        clipped = np.minimum(pos, max(len(self.keys) - 1, 0))
        found = (pos < len(self.keys)) & (codes >= 0)
        if len(self.keys):
            found &= self.keys[clipped] == query
        return clipped, found


def window_mean(values: pd.Series, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mean of each window, blanks skipped (pandas' mean); NaN when a window has no value."""
    raw = pd.to_numeric(values).to_numpy(dtype=np.float64)
    present = ~np.isnan(raw)
    counts = np.concatenate(([0], np.cumsum(present)))
    n = counts[hi] - counts[lo]
    # Each window summed on its own values (not as a difference of running sums, whose rounding
    # depends on the rows before it): a trip's features are then the same bits whichever other
    # trips were computed with it, so a stored row equals the same trip computed on demand.
    # reduceat over the interleaved bounds sums [lo, hi) at even positions; a trailing zero
    # keeps a bound equal to the length in range.
    padded = np.append(np.where(present, raw, 0.0), 0.0)
    bounds = np.column_stack([lo, hi]).ravel()
    sums = np.add.reduceat(padded, bounds)[::2] if len(bounds) else np.zeros(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, sums / np.maximum(n, 1), np.nan)


def window_mode(values: pd.Series, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Most frequent value of each window; ties go to the first in sort order (pandas' mode)."""
    codes, uniques = pd.factorize(values, sort=True)
    lengths = hi - lo
    trip = np.repeat(np.arange(len(lo)), lengths)
    starts = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
    picked = codes[starts + np.arange(int(lengths.sum()))]
    keep = picked >= 0
    k = max(len(uniques), 1)
    counts = np.bincount(trip[keep] * k + picked[keep], minlength=len(lo) * k).reshape(len(lo), k)
    out = np.full(len(lo), None, dtype=object)
    has = counts.max(axis=1, initial=0) > 0
    out[has] = np.asarray(uniques, dtype=object)[counts.argmax(axis=1)[has]]
    return out


def values_at(
    frame: pd.DataFrame, name: str, pos: np.ndarray, found: np.ndarray, *, text: bool = False
) -> np.ndarray:
    """``frame[name]`` at ``pos``: floats (NaN) or, for ``text``, objects (None) where not found."""
    series = frame[name]
    values: np.ndarray
    if text:
        values = series.to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        out = np.full(len(pos), None, dtype=object)
    else:
        values = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.full(len(pos), np.nan)
    if len(values):
        out[found] = values[pos[found]]
    return out


def positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value in ``index``, -1 if absent; hashes only the distinct values."""
    factor, uniques = pd.factorize(values)
    mapping = np.append(index.get_indexer(pd.Index(uniques)), -1)
    codes: np.ndarray = mapping[factor]  # factor -1 (a blank) picks the appended -1
    return codes


def lookup(index: pd.Index, keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    pos = positions(index, keys)
    return np.maximum(pos, 0), pos >= 0
