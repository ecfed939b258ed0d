"""Bootstrap intervals of F1: one model's, and the paired difference of two models' on the
same trips (resampling trips, both models scored on each resample).

Vectorised: a block of resamples is one (resamples x trips) index matrix, and F1 comes from the
confusion counts summed along it. ``F1 = 2 tp / (2 tp + fp + fn)``, 0 when there is no positive
at all (scikit-learn's ``zero_division=0``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from truckflow.monitoring.errors import MonitoringError

__all__ = ["F1Difference", "f1_interval", "paired_f1_difference"]

# Index matrices are built this many cells at a time (8 bytes each).
_CELLS = 4_000_000


def _f1(y: np.ndarray, p: np.ndarray, axis: int = -1) -> np.ndarray:
    tp: np.ndarray = np.asarray(np.sum(y & p, axis=axis))
    fp: np.ndarray = np.asarray(np.sum(~y & p, axis=axis))
    fn: np.ndarray = np.asarray(np.sum(y & ~p, axis=axis))
    denominator = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1: np.ndarray = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    return f1


def _resampled(n: int, resamples: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    block = max(1, _CELLS // max(n, 1))
    return [
        rng.integers(0, n, size=(min(block, resamples - lo), n))
        for lo in range(0, resamples, block)
    ]


def _check(y: np.ndarray, *predictions: np.ndarray) -> None:
    if y.size == 0:
        raise MonitoringError("bootstrap: no trips to resample")
    for p in predictions:
        if p.shape != y.shape:
            raise MonitoringError(f"bootstrap: {y.size} labels but {p.size} predictions")


def _bool(values: npt.ArrayLike) -> np.ndarray:
    flags: np.ndarray = np.asarray(values).astype(np.int64).ravel() == 1
    return flags


def f1_interval(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of F1 over the trips."""
    y, p = _bool(y_true), _bool(y_pred)
    _check(y, p)
    scores = np.concatenate([_f1(y[i], p[i]) for i in _resampled(len(y), resamples, seed)])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(scores, [alpha, 1 - alpha])
    return float(low), float(high)


@dataclass(frozen=True)
class F1Difference:
    """Challenger F1 minus champion F1 on the same trips, with its paired bootstrap interval."""

    trips: int
    challenger_f1: float
    champion_f1: float
    difference: float
    low: float
    high: float
    confidence: float
    resamples: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def paired_f1_difference(
    y_true: npt.ArrayLike,
    challenger: npt.ArrayLike,
    champion: npt.ArrayLike,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> F1Difference:
    """F1(challenger) - F1(champion), both on each resample of the same trips (paired)."""
    y, a, b = _bool(y_true), _bool(challenger), _bool(champion)
    _check(y, a, b)
    diffs = np.concatenate(
        [_f1(y[i], a[i]) - _f1(y[i], b[i]) for i in _resampled(len(y), resamples, seed)]
    )
    alpha = (1 - confidence) / 2
    low, high = np.quantile(diffs, [alpha, 1 - alpha])
    fa, fb = float(_f1(y, a)), float(_f1(y, b))
    return F1Difference(
        trips=int(y.size),
        challenger_f1=fa,
        champion_f1=fb,
        difference=fa - fb,
        low=float(low),
        high=float(high),
        confidence=confidence,
        resamples=resamples,
    )
