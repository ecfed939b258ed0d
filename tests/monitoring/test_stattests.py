from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.stattests import (
    ColumnKind,
    StatTest,
    chi_squared,
    jensen_shannon,
    select_test,
    z_proportions,
)

NUM, CAT = ColumnKind.NUMERICAL, ColumnKind.CATEGORICAL


@pytest.mark.parametrize(
    ("kind", "reference_size", "n_unique", "expected"),
    [
        (NUM, 1000, 6, StatTest.KS),  # 1,000 rows is still "small" (<=)
        (NUM, 1001, 6, StatTest.WASSERSTEIN),
        (NUM, 500, 5, StatTest.CHI_SQUARED),  # few values: tested as categories
        (NUM, 500, 2, StatTest.Z),
        (NUM, 5000, 5, StatTest.JENSEN_SHANNON),
        (CAT, 500, 3, StatTest.CHI_SQUARED),
        (CAT, 500, 2, StatTest.Z),
        (CAT, 500, 40, StatTest.CHI_SQUARED),
        (CAT, 5000, 2, StatTest.JENSEN_SHANNON),
        (CAT, 5000, 40, StatTest.JENSEN_SHANNON),
    ],
)
def test_select_test_follows_evidently_defaults(
    kind: ColumnKind, reference_size: int, n_unique: int, expected: StatTest
) -> None:
    assert select_test(kind, reference_size, n_unique, DriftConfig()) is expected


def test_select_test_uses_configured_limits() -> None:
    config = DriftConfig(small_sample_rows=100, max_discrete_values=10)
    assert select_test(NUM, 101, 8, config) is StatTest.JENSEN_SHANNON
    assert select_test(NUM, 100, 11, config) is StatTest.KS


def test_verdict_comparisons() -> None:
    assert StatTest.KS.drifted(0.05, 0.05)  # K-S drifts at p <= alpha
    assert not StatTest.CHI_SQUARED.drifted(0.05, 0.05)  # the others at p < alpha
    assert StatTest.WASSERSTEIN.drifted(0.1, 0.1)  # distances at >= threshold
    assert not StatTest.JENSEN_SHANNON.drifted(0.0999, 0.1)


def test_chi_squared_matches_scipy() -> None:
    ref = np.array([500, 300, 200])
    cur = np.array([90, 60, 50])
    expected = stats.chisquare(cur, ref * cur.sum() / ref.sum())
    result = chi_squared(ref, cur)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)


def test_chi_squared_new_category_is_drift() -> None:
    result = chi_squared(np.array([50, 50, 0]), np.array([40, 40, 20]))
    assert result.statistic == np.inf
    assert result.p_value == 0.0


def test_jensen_shannon_matches_scipy() -> None:
    ref, cur = np.array([70, 20, 10, 0]), np.array([30, 30, 30, 10])
    assert jensen_shannon(ref, cur).statistic == pytest.approx(distance.jensenshannon(ref, cur))
    assert jensen_shannon(ref, ref * 3).statistic == pytest.approx(0.0, abs=1e-7)


def test_z_test_matches_two_proportion_formula() -> None:
    ref, cur = np.array([600, 400]), np.array([120, 180])
    p1, p2 = 0.4, 0.6
    pooled = (400 + 180) / 1300
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 300))
    result = z_proportions(ref, cur)
    assert result.statistic == pytest.approx(z)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert z_proportions(np.array([10]), np.array([5])).p_value == 1.0
