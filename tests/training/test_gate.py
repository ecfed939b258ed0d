"""The registration gate refuses a model below the bar or worse than production, saying why."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from truckflow.training.gate import check_gate

F1 = st.floats(0.0, 1.0, allow_nan=False)


def test_the_bar_itself_passes_and_just_below_it_does_not() -> None:
    assert check_gate(0.6, min_f1=0.6).passed
    below = check_gate(0.5999, min_f1=0.6)
    assert not below.passed
    assert below.failed == ["test F1 0.5999 is below min_f1 0.6000"]
    assert below.to_dict() == {"passed": False, "failed": below.failed, "message": below.message}
    assert check_gate(0.7, min_f1=0.6).message == "all gate conditions hold"


def test_a_model_worse_than_production_beyond_the_tolerance_is_refused() -> None:
    assert check_gate(0.68, min_f1=0.5, production_f1=0.70, tolerance=0.02).passed
    worse = check_gate(0.67, min_f1=0.5, production_f1=0.70, tolerance=0.02)
    assert not worse.passed
    assert worse.message == (
        "test F1 0.6700 is worse than the production model's 0.7000 on the same test set by "
        "0.0300, more than the tolerance 0.0200"
    )


def test_both_failures_are_stated() -> None:
    result = check_gate(0.4, min_f1=0.6, production_f1=0.7, production_version="12")
    assert not result.passed and len(result.failed) == 2
    assert "below min_f1" in result.failed[0] and "version 12's 0.7000" in result.failed[1]
    assert result.message == "; ".join(result.failed)


def test_a_missing_score_never_passes() -> None:
    result = check_gate(math.nan, min_f1=0.0)
    assert not result.passed and "below min_f1" in result.message


@settings(max_examples=100, deadline=None, database=None)
@given(f1=F1, bar=F1, production=st.none() | F1, tolerance=st.floats(0.0, 0.2))
def test_the_gate_passes_exactly_when_both_conditions_hold(
    f1: float, bar: float, production: float | None, tolerance: float
) -> None:
    result = check_gate(f1, bar, production_f1=production, tolerance=tolerance)
    expected = f1 >= bar and (production is None or f1 >= production - tolerance)
    assert result.passed is expected
    assert bool(result.failed) is not expected
