from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from truckflow.monitoring.config import DriftConfig
from truckflow.settings import Settings


def test_defaults_are_evidentlys_except_the_courses_drift_share() -> None:
    config = DriftConfig()
    assert (config.ks_alpha, config.chi2_alpha, config.z_alpha) == (0.05, 0.05, 0.05)
    assert (config.wasserstein_threshold, config.jensenshannon_threshold) == (0.1, 0.1)
    assert config.small_sample_rows == 1000 and config.max_discrete_values == 5
    assert config.drift_share == 0.1 and config.min_f1 == 0.6
    # The default profile knows the sample size; Evidently's fixed thresholds are a profile.
    assert config.profile == "adaptive" and config.false_alarm_rate == 0.005


def test_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCKFLOW_DRIFT__SHARE", "0.3")
    monkeypatch.setenv("TRUCKFLOW_DRIFT__MIN_F1", "0.55")
    monkeypatch.setenv("TRUCKFLOW_DRIFT__PROFILE", "evidently")
    monkeypatch.setenv("TRUCKFLOW_DRIFT__FALSE_ALARM_RATE", "0.02")
    config = DriftConfig.from_settings(Settings(home=tmp_path))
    assert config.drift_share == 0.3 and config.min_f1 == 0.55
    assert config.profile == "evidently" and config.false_alarm_rate == 0.02


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValidationError):
        DriftConfig(drift_share=0)
    with pytest.raises(ValidationError):
        DriftConfig(ks_alpha=1.5)
    with pytest.raises(ValidationError):
        DriftConfig(unknown_option=1)  # type: ignore[call-arg]
