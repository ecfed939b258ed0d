from __future__ import annotations

import numpy as np
import pytest

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.quality import model_quality


def test_metrics_of_a_known_confusion_matrix() -> None:
    # 3 true positives, 1 false negative, 2 false positives, 4 true negatives
    truth = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    pred = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]
    q = model_quality(truth, pred)
    assert q.count == 10 and q.positives == 4
    assert q.accuracy == pytest.approx(0.7)
    assert q.precision == pytest.approx(3 / 5)
    assert q.recall == pytest.approx(3 / 4)
    assert q.f1 == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert not q.drifted  # F1 0.667 >= 0.6


def test_f1_below_floor_is_model_drift() -> None:
    truth = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    pred = np.array([1, 0, 0, 0, 0, 0, 0, 1])  # precision 1/2, recall 1/4: F1 1/3
    q = model_quality(truth, pred)
    assert q.f1 == pytest.approx(1 / 3)
    assert q.drifted
    assert not model_quality(truth, pred, DriftConfig(min_f1=0.3)).drifted


def test_no_positive_predictions_scores_zero_not_an_error() -> None:
    q = model_quality([1, 0, 1], [0, 0, 0])
    assert q.precision == 0.0 and q.f1 == 0.0 and q.drifted


@pytest.mark.parametrize(
    ("truth", "pred", "message"),
    [
        ([], [], "no labelled trips"),
        ([1, 0], [1], "2 labels but 1 predictions"),
        ([2, 0], [1, 0], "0/1"),
    ],
)
def test_bad_labels_are_refused(truth: list[int], pred: list[int], message: str) -> None:
    with pytest.raises(MonitoringError, match=message):
        model_quality(truth, pred)
