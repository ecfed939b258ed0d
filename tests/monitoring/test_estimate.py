"""The performance estimate from calibrated probabilities, against outcomes drawn from them."""

from __future__ import annotations

import numpy as np
import pytest

from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.estimate import estimate_performance
from truckflow.monitoring.quality import model_quality


def test_the_estimate_matches_the_realized_quality_when_probabilities_are_calibrated() -> None:
    rng = np.random.default_rng(0)
    errors, covered = [], 0
    for _ in range(20):
        p = rng.beta(1.5, 3, 1500)
        decided = (p >= 0.35).astype(int)
        truth = (rng.random(p.size) < p).astype(int)  # outcomes as the probabilities say
        estimate = estimate_performance(p, decided, draws=400)
        realized = model_quality(truth, decided)
        errors.append(abs(estimate.f1 - realized.f1))
        covered += estimate.f1_low <= realized.f1 <= estimate.f1_high
        assert estimate.accuracy == pytest.approx(realized.accuracy, abs=0.05)
        assert estimate.precision == pytest.approx(realized.precision, abs=0.06)
        assert estimate.recall == pytest.approx(realized.recall, abs=0.06)
    assert np.mean(errors) < 0.02
    assert covered >= 17  # a 95% interval


def test_the_expected_confusion_matrix_by_hand() -> None:
    # Decided late with p 0.8 and 0.6: tp 1.4, fp 0.6; on time with p 0.2: fn 0.2, tn 0.8.
    e = estimate_performance([0.8, 0.6, 0.2], [1, 1, 0], draws=50)
    assert e.precision == pytest.approx(0.7) and e.recall == pytest.approx(1.4 / 1.6)
    assert e.f1 == pytest.approx(2.8 / (2.8 + 0.6 + 0.2))
    assert e.accuracy == pytest.approx(2.2 / 3) and e.expected_positives == pytest.approx(1.6)


def test_bad_inputs_are_refused_by_name() -> None:
    with pytest.raises(MonitoringError, match="no predicted trips"):
        estimate_performance([], [])
    with pytest.raises(MonitoringError, match="2 probabilities, 1 decisions"):
        estimate_performance([0.1, 0.2], [1])
    with pytest.raises(MonitoringError, match=r"in \[0, 1\]"):
        estimate_performance([1.5], [1])
