"""The adaptive drift profile: thresholds from the null at the current window's size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.drift import detect_drift
from truckflow.monitoring.report import build_report, write_report
from truckflow.monitoring.stattests import StatTest


def _weather_days(
    rng: np.random.Generator, days: int, per_day: int, shift: float = 0.0
) -> pd.DataFrame:
    """Trips that share their day's weather (a day effect much larger than the trip noise),
    in day order, as the drift check hands the reference over."""
    day_temp = rng.normal(0, 1, days).repeat(per_day)
    n = days * per_day
    return pd.DataFrame(
        {
            "temp": day_temp + shift + rng.normal(0, 0.3, n),
            "humidity": -day_temp + shift + rng.normal(0, 0.3, n),
            "distance": rng.lognormal(6, 0.5, n),
            "style": rng.choice(["calm", "hard"], n, p=[0.6, 0.4]),
        }
    )


def test_a_stationary_week_that_shares_its_days_is_no_drift_with_the_default_profile() -> None:
    # A small fleet: a week is 7 days of 30 trips against 60 days of history. Evidently's fixed
    # thresholds read the week's own weather as drift; the adaptive null knows a week of this
    # size swings that much.
    rng = np.random.default_rng(4)
    reference = _weather_days(rng, 60, 30)
    alarms = {"adaptive": 0, "evidently": 0}
    for _ in range(5):
        week = _weather_days(rng, 7, 30)
        for profile in alarms:
            found = detect_drift(reference, week, config=DriftConfig(profile=profile))
            alarms[profile] += found.dataset_drift
    assert alarms["adaptive"] == 0
    assert alarms["evidently"] >= 3

    adaptive = detect_drift(reference, _weather_days(rng, 7, 30))
    assert adaptive.profile == "adaptive" and adaptive.null_method == "contiguous"
    assert {c.test for c in adaptive.columns} == {StatTest.WASSERSTEIN, StatTest.JENSEN_SHANNON}
    # The threshold follows the window's size: a smaller week swings more.
    small = detect_drift(reference, _weather_days(rng, 2, 30))
    assert small.column("distance").threshold > adaptive.column("distance").threshold


def test_a_real_shift_is_caught_and_the_false_alarm_rate_sets_the_thresholds() -> None:
    rng = np.random.default_rng(5)
    reference = _weather_days(rng, 60, 30)
    shifted = detect_drift(reference, _weather_days(rng, 7, 30, shift=3.0))
    assert shifted.dataset_drift and {"temp", "humidity"} <= set(shifted.drifted_columns)
    week = _weather_days(rng, 7, 30)
    strict = detect_drift(reference, week, config=DriftConfig(false_alarm_rate=0.001))
    loose = detect_drift(reference, week, config=DriftConfig(false_alarm_rate=0.2))
    for column in ("temp", "distance"):
        assert strict.column(column).threshold > loose.column(column).threshold


def _sample(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    return pd.DataFrame({"x": rng.normal(shift, 1, n), "c": rng.choice(list("abc"), n)})


def test_independent_draws_when_the_reference_is_short() -> None:
    # A reference under twice the window: exact permutations (small) or the large-sample
    # limit (large); two samples of one distribution are no drift, a moved one is.
    rng = np.random.default_rng(6)
    for n, method in ((400, "permutation"), (30_000, "multinomial")):
        same = detect_drift(_sample(rng, n, 0.0), _sample(rng, n, 0.0))
        assert same.null_method == method and not same.drifted_columns
        moved = detect_drift(_sample(rng, n, 0.0), _sample(rng, n, 0.5))
        assert moved.drifted_columns == ["x"]


def test_the_report_names_the_profile(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    columns = ["temp", "style"]  # two plots a page: the page is what is checked
    reference, week = _weather_days(rng, 30, 20)[columns], _weather_days(rng, 7, 20)[columns]
    for profile, words in (("adaptive", "Profile <b>adaptive</b>"), ("evidently", "Evidently")):
        report = build_report(reference, week, config=DriftConfig(profile=profile))
        paths = write_report(report, reference, week, tmp_path / profile)
        assert words in paths.html.read_text()
        assert f'"profile": "{profile}"' in paths.json.read_text()


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_a_false_alarm_rate_out_of_range_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="false_alarm_rate"):
        DriftConfig(false_alarm_rate=rate)
