"""Bootstrap intervals of F1 and of the paired F1 difference."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.intervals import f1_interval, paired_f1_difference


def _labels(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, n)


def test_f1_interval_holds_the_f1_and_narrows_with_more_trips() -> None:
    y = _labels(4000)
    noisy = np.where(np.random.default_rng(1).random(4000) < 0.8, y, 1 - y)
    f1 = f1_score(y, noisy)
    wide = f1_interval(y[:200], noisy[:200])
    narrow = f1_interval(y, noisy)
    assert narrow[0] < f1 < narrow[1]
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


def test_same_predictions_differ_by_exactly_zero() -> None:
    y = _labels(600)
    p = _labels(600, seed=2)
    diff = paired_f1_difference(y, p, p)
    assert diff.difference == diff.low == diff.high == 0.0
    assert diff.trips == 600


def test_a_clearly_better_challenger_has_an_interval_above_zero() -> None:
    y = _labels(800)
    rng = np.random.default_rng(3)
    good = np.where(rng.random(800) < 0.9, y, 1 - y)
    poor = np.where(rng.random(800) < 0.6, y, 1 - y)
    diff = paired_f1_difference(y, good, poor, seed=5)
    assert diff.low > 0 and diff.low <= diff.difference <= diff.high
    assert diff.difference == pytest.approx(f1_score(y, good) - f1_score(y, poor))
    worse = paired_f1_difference(y, poor, good, seed=5)
    assert worse.high < 0


def test_mismatched_or_empty_input_is_refused() -> None:
    with pytest.raises(MonitoringError, match="no trips"):
        f1_interval([], [])
    with pytest.raises(MonitoringError, match="3 labels but 2"):
        paired_f1_difference([0, 1, 1], [0, 1], [1, 1])
