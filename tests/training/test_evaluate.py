"""Test metrics against scikit-learn's on known arrays, and the F1-maximising threshold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from truckflow.training.evaluate import best_threshold, classification_metrics, reliability_bins

Y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
S = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.65, 0.55, 0.3, 0.05])


def test_metrics_at_a_threshold_are_those_worked_by_hand() -> None:
    m = classification_metrics(Y, S, 0.5)
    # Predicted delayed at 0.5: 0.8, 0.9, 0.65, 0.55 -> tp 3 (0.8, 0.9, 0.55), fp 1 (0.65).
    assert m["confusion_matrix"] == {"tn": 4, "fp": 1, "fn": 2, "tp": 3}
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["recall"] == pytest.approx(3 / 5)
    assert m["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert (m["rows"], m["positives"], m["threshold"]) == (10, 5, 0.5)


def test_metrics_are_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1)
    m = classification_metrics(y, s, 0.45)
    p = (s >= 0.45).astype(int)
    assert m["f1"] == f1_score(y, p)
    assert m["precision"] == precision_score(y, p)
    assert m["recall"] == recall_score(y, p)
    assert m["roc_auc"] == roc_auc_score(y, s)
    assert m["pr_auc"] == average_precision_score(y, s)
    assert m["brier"] == brier_score_loss(y, s)
    # A score equal to the threshold counts as delayed.
    assert classification_metrics(Y, S, 0.55)["confusion_matrix"]["tp"] == 3


def test_the_threshold_maximises_f1_on_the_known_arrays() -> None:
    threshold, f1 = best_threshold(Y, S)
    # Cutting at 0.3 catches all five delays with two false alarms (0.4, 0.65): F1 10/12.
    assert threshold == 0.3
    assert f1 == pytest.approx(f1_score(Y, (threshold <= S).astype(int)))
    assert f1 == pytest.approx(10 / 12)


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.floats(0, 1, allow_nan=False)), min_size=2, max_size=40
    ).filter(lambda pairs: {y for y, _ in pairs} == {0, 1})
)
def test_no_cut_scores_a_higher_f1(pairs: list[tuple[int, float]]) -> None:
    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs])
    threshold, f1 = best_threshold(y, s)
    assert f1 == pytest.approx(f1_score(y, (s >= threshold).astype(int)))
    every_cut = max(f1_score(y, (s >= t).astype(int)) for t in np.unique(s))
    assert f1 == pytest.approx(every_cut)


def test_reliability_bins_count_every_score_once_in_its_bin() -> None:
    bins = reliability_bins(Y, S, bins=4)
    assert [b["count"] for b in bins] == [3.0, 3.0, 2.0, 2.0]
    assert [b["observed_rate"] for b in bins] == pytest.approx([0.0, 2 / 3, 0.5, 1.0])
    assert bins[1]["mean_predicted"] == pytest.approx((0.4 + 0.35 + 0.3) / 3)
    # A score on an edge goes up; 1.0 stays in the last bin; an empty bin says None.
    edges = reliability_bins(np.array([0, 1, 1]), np.array([0.25, 1.0, 0.8]), bins=4)
    assert [b["count"] for b in edges] == [0.0, 1.0, 0.0, 2.0]
    assert edges[0]["mean_predicted"] is None and edges[0]["observed_rate"] is None
