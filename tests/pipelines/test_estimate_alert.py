"""The ``performance.estimated_drop`` alert of the weekly check: raised on the estimate alone,
only on enough trips, told once per week, routable by its type."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.estimate import WeeklyEstimate, estimate_performance
from truckflow.monitoring.report import DriftReport, build_report
from truckflow.notify.service import Notifications
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.estimate import warn_estimated_drop
from truckflow.settings import Settings
from truckflow.store import Database

WEEK = dt.date(2019, 2, 22)
RULES = """
[channels.ml]
url = "json://127.0.0.1:9/ml"

[[routes]]
events = ["performance.estimated_drop"]
channels = ["ml"]
"""


def _report(trips: int, min_trips: int) -> DriftReport:
    rng = np.random.default_rng(3)
    # Probabilities that say most "late" decisions will be wrong: estimated F1 far below 0.6.
    p = rng.uniform(0.05, 0.3, trips)
    estimate = WeeklyEstimate(
        estimated=estimate_performance(p, np.ones(trips, dtype=int)),
        floor=0.6,
        min_trips=min_trips,
    )
    frame = pd.DataFrame({"x": rng.normal(size=50)})
    return build_report(frame, frame, config=DriftConfig(profile="evidently"), estimate=estimate)


def test_the_estimated_drop_goes_out_once_per_week_to_the_routes_that_name_it(
    settings: Settings, db: Database
) -> None:
    settings.ensure_home()
    (settings.home / "notify.toml").write_text(RULES, encoding="utf-8")
    few, enough = _report(50, 200), _report(400, 200)
    assert not few.estimated_drop and enough.estimated_drop
    assert not enough.drift_detected  # a warning, not a retrain
    runtime = Runtime.on(settings, db)
    for _ in range(2):  # the week's check run again: still one alert
        with db.begin() as conn:
            warn_estimated_drop(runtime, conn, enough, WEEK, "3", "report.html")
    rows = [r for r in Notifications.open(settings, db).outbox()]
    assert [(r["event_type"], r["channel"]) for r in rows] == [("performance.estimated_drop", "ml")]
    body = rows[0]["body"]
    assert body["floor"] == 0.6 and body["trips"] == 400 and body["week"] == "2019-02-22"
    assert body["estimated_f1"] < 0.6 and body["interval"][0] <= body["estimated_f1"]
    assert body["model"].endswith("v3") and rows[0]["severity"] == "warning"
