from __future__ import annotations

import numpy as np
import pytest

from truckflow.training import TrainingError
from truckflow.training.calibration import (
    CALIBRATION_TAG,
    MAX_KNOTS,
    Calibrator,
    choose_calibrator,
    from_tags,
)


def _scores(kind: str, n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose true probability is a known function of the score."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.01, 0.99, n)
    if kind == "logistic":  # overconfident in logit space: Platt's exact family
        truth = 1 / (1 + np.exp(-0.5 * np.log(s / (1 - s)) + 0.3))
    else:  # a step: no logistic curve fits it, isotonic does
        truth = np.where(s < 0.5, 0.1, 0.8)
    return (rng.uniform(size=n) < truth).astype(int), s


def test_a_logistic_distortion_is_calibrated_by_platt_and_a_step_by_isotonic() -> None:
    y, s = _scores("logistic")
    platt = choose_calibrator(y, s)
    assert platt.method == "platt"
    assert platt.params[0] == pytest.approx(0.5, abs=0.1)
    assert platt.brier is not None and platt.brier_raw is not None
    assert platt.brier < platt.brier_raw

    y, s = _scores("step")
    iso = choose_calibrator(y, s)
    assert iso.method == "isotonic"
    assert 2 <= len(iso.knots_x) <= MAX_KNOTS
    assert iso.apply([0.2, 0.9]) == pytest.approx([0.1, 0.8], abs=0.05)
    assert np.all(np.diff(iso.apply(np.linspace(0, 1, 101))) >= 0)


def test_the_calibration_round_trips_through_a_version_tag() -> None:
    for kind in ("logistic", "step"):
        y, s = _scores(kind)
        chosen = choose_calibrator(y, s)
        text = chosen.to_json()
        assert len(text) < 2000  # a model-version tag, beside the others in one run tag
        back = from_tags({CALIBRATION_TAG: text})
        assert back.method == chosen.method
        assert back.apply(s) == pytest.approx(chosen.apply(s), abs=1e-4)
    # A version registered before calibration existed: the scores as they are.
    assert from_tags({}).apply([0.3, 0.7]) == pytest.approx([0.3, 0.7])


def test_bad_calibrations_are_refused_by_name() -> None:
    with pytest.raises(TrainingError, match="cannot be read"):
        Calibrator.from_json('{"method": "magic"}')
    with pytest.raises(TrainingError, match="two numbers"):
        Calibrator.from_json('{"method": "platt", "params": [1]}')
    with pytest.raises(TrainingError, match="at least 5 delayed"):
        choose_calibrator([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.9])
