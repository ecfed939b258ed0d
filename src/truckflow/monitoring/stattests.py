"""The drift tests, as plain numpy/scipy functions over values or category counts.

Each returns a ``StatResult``: the statistic, the p-value for hypothesis tests (``None`` for
distances), and the number the verdict is taken on (``score``). The choice of test follows
Evidently's default algorithm; ``select_test`` is that rule and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import stats

from truckflow.monitoring.config import DriftConfig

__all__ = [
    "ColumnKind",
    "StatResult",
    "StatTest",
    "chi_squared",
    "jensen_shannon",
    "kolmogorov_smirnov",
    "select_test",
    "wasserstein_normed",
    "z_proportions",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ColumnKind(StrEnum):
    NUMERICAL = "numerical"
    CATEGORICAL = "categorical"


class StatTest(StrEnum):
    KS = "ks"
    CHI_SQUARED = "chisquare"
    Z = "z"
    WASSERSTEIN = "wasserstein"
    JENSEN_SHANNON = "jensenshannon"

    @property
    def is_distance(self) -> bool:
        return self in (StatTest.WASSERSTEIN, StatTest.JENSEN_SHANNON)

    def threshold(self, config: DriftConfig) -> float:
        return {
            StatTest.KS: config.ks_alpha,
            StatTest.CHI_SQUARED: config.chi2_alpha,
            StatTest.Z: config.z_alpha,
            StatTest.WASSERSTEIN: config.wasserstein_threshold,
            StatTest.JENSEN_SHANNON: config.jensenshannon_threshold,
        }[self]

    def drifted(self, score: float, threshold: float) -> bool:
        """The verdict, with Evidently's comparisons (K-S is the one that uses <=)."""
        if self.is_distance:
            return score >= threshold
        if self is StatTest.KS:
            return score <= threshold
        return score < threshold


@dataclass(frozen=True)
class StatResult:
    statistic: float
    p_value: float | None

    @property
    def score(self) -> float:
        return self.statistic if self.p_value is None else self.p_value


def select_test(
    kind: ColumnKind, reference_size: int, n_unique: int, config: DriftConfig
) -> StatTest:
    """Evidently's default rule: by type, distinct values (both samples) and reference size."""
    discrete = kind is ColumnKind.CATEGORICAL or n_unique <= config.max_discrete_values
    if reference_size <= config.small_sample_rows:
        if not discrete:
            return StatTest.KS
        return StatTest.CHI_SQUARED if n_unique > 2 else StatTest.Z
    return StatTest.JENSEN_SHANNON if discrete else StatTest.WASSERSTEIN


def kolmogorov_smirnov(reference: FloatArray, current: FloatArray) -> StatResult:
    result = stats.ks_2samp(reference, current)
    return StatResult(float(result.statistic), float(result.pvalue))


def wasserstein_normed(reference: FloatArray, current: FloatArray) -> StatResult:
    """Exact W1 distance over the reference's standard deviation (floored at 0.001)."""
    norm = max(float(np.std(reference)), 0.001)
    return StatResult(float(stats.wasserstein_distance(reference, current)) / norm, None)


def chi_squared(reference_counts: IntArray, current_counts: IntArray) -> StatResult:
    """Goodness of fit of the current counts to the reference proportions.

    A category absent from the reference but present now makes the statistic infinite
    (p = 0), as in Evidently: a new category is drift.
    """
    n_ref, n_cur = reference_counts.sum(), current_counts.sum()
    expected = reference_counts * (n_cur / n_ref)
    observed = current_counts.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (observed - expected) ** 2 / expected, np.inf)
    terms = np.where((expected == 0) & (observed == 0), 0.0, terms)
    statistic = float(terms.sum())
    dof = max(len(reference_counts) - 1, 1)
    return StatResult(statistic, float(stats.chi2.sf(statistic, dof)))


def z_proportions(reference_counts: IntArray, current_counts: IntArray) -> StatResult:
    """Two-sided z-test of equal proportions for a column with at most two values."""
    if len(reference_counts) < 2:
        return StatResult(0.0, 1.0)
    n1, n2 = float(reference_counts.sum()), float(current_counts.sum())
    p1, p2 = reference_counts[1] / n1, current_counts[1] / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return StatResult(0.0, 1.0)
    z = float((p1 - p2) / spread)
    return StatResult(z, float(2 * stats.norm.sf(abs(z))))


def jensen_shannon(reference_counts: IntArray, current_counts: IntArray) -> StatResult:
    """Jensen-Shannon distance (natural log, so at most sqrt(ln 2)) between the two mixes."""
    p = reference_counts / reference_counts.sum()
    q = current_counts / current_counts.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum()
    return StatResult(float(np.sqrt(max((kl_p + kl_q) / 2, 0.0))), None)
