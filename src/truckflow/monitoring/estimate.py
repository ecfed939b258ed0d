"""Performance estimated before the labels arrive (confidence-based, as NannyML's CBPE).

For trips with a calibrated probability ``p`` of delay and the decision the model took (score at
or above its threshold), the expected confusion matrix is

    tp = sum(p | decided late)    fp = sum(1 - p | decided late)
    fn = sum(p | decided on time) tn = sum(1 - p | decided on time)

and precision, recall, F1 and accuracy follow from it. The interval is that of the realized F1
if the calibrated probabilities are right: outcomes drawn as Bernoulli(p), F1 of each draw.

What it cannot see: a concept shift (P(delay | features) changing) leaves the probabilities,
and so the estimate, where they were; only the labels show it (``quality.model_quality``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, computed_field

from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.quality import ModelQuality

__all__ = ["CONCEPT_SHIFT_NOTE", "EstimatedPerformance", "WeeklyEstimate", "estimate_performance"]

CONCEPT_SHIFT_NOTE = (
    "The estimate comes from the model's calibrated probabilities: it follows a change in the "
    "trips (covariate shift) but cannot see a concept shift, where the same features come to "
    "mean a different delay risk. The label-based check (model quality on labelled trips) "
    "covers that, days later."
)
# Draws of outcomes are made this many cells at a time.
_CELLS = 4_000_000


class EstimatedPerformance(BaseModel):
    """Expected quality of decisions on ``count`` trips, with a (low, high) interval for F1."""

    model_config = ConfigDict(frozen=True)

    count: int
    expected_positives: float
    precision: float
    recall: float
    f1: float
    accuracy: float
    f1_low: float
    f1_high: float
    confidence: float


def _ratio(num: npt.NDArray[np.float64], den: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return out


def _f1_draws(p: np.ndarray, decided: np.ndarray, draws: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    block = max(1, _CELLS // max(p.size, 1))
    out = []
    for lo in range(0, draws, block):
        y = rng.random((min(block, draws - lo), p.size)) < p
        tp = (y & decided).sum(axis=1).astype(np.float64)
        fp = (~y & decided).sum(axis=1).astype(np.float64)
        fn = (y & ~decided).sum(axis=1).astype(np.float64)
        out.append(_ratio(2 * tp, 2 * tp + fp + fn))
    return np.concatenate(out)


def estimate_performance(
    probabilities: npt.ArrayLike,
    decisions: npt.ArrayLike,
    *,
    draws: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> EstimatedPerformance:
    """The expected confusion matrix of ``decisions`` (0/1) given calibrated ``probabilities``."""
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    decided = np.asarray(decisions).astype(np.int64).ravel() == 1
    if p.size == 0:
        raise MonitoringError("performance estimate: no predicted trips")
    if p.shape != decided.shape:
        raise MonitoringError(
            f"performance estimate: {p.size} probabilities, {decided.size} decisions"
        )
    if not np.all((p >= 0) & (p <= 1)):
        raise MonitoringError("performance estimate: probabilities must lie in [0, 1]")
    tp, fp = float(p[decided].sum()), float((1 - p[decided]).sum())
    fn, tn = float(p[~decided].sum()), float((1 - p[~decided]).sum())
    f1s = _f1_draws(p, decided, draws, seed)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(f1s, [alpha, 1 - alpha])
    return EstimatedPerformance(
        count=int(p.size),
        expected_positives=tp + fn,
        precision=tp / (tp + fp) if tp + fp > 0 else 0.0,
        recall=tp / (tp + fn) if tp + fn > 0 else 0.0,
        f1=2 * tp / (2 * tp + fp + fn) if tp + fn + fp > 0 else 0.0,
        accuracy=(tp + tn) / p.size,
        f1_low=float(low),
        f1_high=float(high),
        confidence=confidence,
    )


class WeeklyEstimate(BaseModel):
    """The week's estimate, the realized quality of its trips labelled so far, and the alert
    rule: estimated F1 below ``floor`` on at least ``min_trips`` trips."""

    model_config = ConfigDict(frozen=True)

    estimated: EstimatedPerformance
    realized: ModelQuality | None = None
    floor: float
    min_trips: int
    note: str = CONCEPT_SHIFT_NOTE

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dropped(self) -> bool:
        return self.estimated.count >= self.min_trips and self.estimated.f1 < self.floor
