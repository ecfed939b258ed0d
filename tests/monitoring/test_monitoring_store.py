from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.quality import model_quality
from truckflow.monitoring.report import Window, build_report
from truckflow.monitoring.store import (
    list_drift_runs,
    load_daily_metrics,
    load_drift_columns,
    load_drift_run,
    save_daily_metrics,
    save_drift_run,
)
from truckflow.store import Database

WEEK = dt.date(2019, 2, 22)


def _report() -> object:
    rng = np.random.default_rng(21)
    ref = pd.DataFrame(
        {
            "temp": rng.normal(30, 8, 1500),
            "fuel": rng.choice(np.array(["gas", "diesel"], dtype=object), 1500),
        }
    )
    cur = pd.DataFrame(
        {
            "temp": rng.normal(38, 8, 600),
            "fuel": rng.choice(np.array(["gas", "diesel", "lpg"], dtype=object), 600),
        }
    )
    preds = (
        pd.Series(rng.random(1500), name="probability"),
        pd.Series(rng.random(600), name="probability"),
    )
    return build_report(
        ref,
        cur,
        predictions=preds,
        labels=([1, 1, 1, 0], [1, 0, 0, 0]),  # precision 1, recall 1/3: F1 0.5
        reference_window=Window(start=dt.date(2019, 1, 1), end=dt.date(2019, 2, 14)),
        current_window=Window(start=dt.date(2019, 2, 15), end=dt.date(2019, 2, 21)),
        config=DriftConfig(profile="evidently"),  # its fixed thresholds are asserted below
    )


def test_drift_runs_and_daily_metrics_round_trip(any_db: Database, tmp_path: Path) -> None:
    report = _report()
    save_drift_run(any_db, WEEK, report, model_version="3", html_path=tmp_path / "r.html")  # type: ignore[arg-type]
    # saving the week again (a rerun) replaces it instead of adding a second one
    save_drift_run(any_db, WEEK, report, model_version="3", html_path=tmp_path / "r.html")  # type: ignore[arg-type]
    runs = list_drift_runs(any_db)
    assert len(runs) == 1
    run = load_drift_run(any_db, WEEK)
    assert run is not None
    assert run.reference_start == dt.date(2019, 1, 1) and run.current_end == dt.date(2019, 2, 21)
    assert run.dataset_drift and run.drift_detected and run.model_drift is True
    assert run.prediction_drift is report.prediction_drift  # type: ignore[attr-defined]
    assert run.share_drifted == 1.0 and run.drift_share == 0.1
    assert run.f1 == 0.5 and run.model_version == "3"
    assert run.html_path == str(tmp_path / "r.html") and run.json_path is None
    assert load_drift_run(any_db, dt.date(2019, 3, 1)) is None

    columns = {c.column_name: c for c in load_drift_columns(any_db, WEEK)}
    assert set(columns) == {"temp", "fuel"}
    assert columns["temp"].test == "wasserstein" and columns["temp"].p_value is None
    assert columns["temp"].statistic == report.data.column("temp").statistic  # type: ignore[attr-defined]
    assert columns["fuel"].test == "jensenshannon" and columns["fuel"].drifted
    assert columns["temp"].threshold == 0.1 and columns["temp"].column_type == "numerical"
    predicted = load_drift_columns(any_db, WEEK, scope="prediction")
    assert [c.column_name for c in predicted] == ["probability"]

    for day, truth, pred in [
        (dt.date(2019, 2, 16), [1, 0, 1, 0], [1, 0, 0, 0]),
        (dt.date(2019, 2, 17), [1, 1, 0], [1, 1, 0]),
    ]:
        save_daily_metrics(any_db, day, model_quality(truth, pred), model_version="3")
    with any_db.begin() as conn:  # in the caller's transaction, replacing the day
        save_daily_metrics(
            conn, dt.date(2019, 2, 16), model_quality([1, 0], [1, 0]), model_version="4"
        )
    metrics = load_daily_metrics(any_db)
    assert [m.day for m in metrics] == [dt.date(2019, 2, 16), dt.date(2019, 2, 17)]
    assert metrics[0].count == 2 and metrics[0].f1 == 1.0 and metrics[0].model_version == "4"
    assert metrics[1].accuracy == 1.0
    assert [m.day for m in load_daily_metrics(any_db, start=dt.date(2019, 2, 17))] == [
        dt.date(2019, 2, 17)
    ]


def test_infinite_statistic_survives_storage(db: Database) -> None:
    rng = np.random.default_rng(22)
    ref = pd.DataFrame({"c": rng.choice(np.array(["a", "b", "c"], dtype=object), 300)})
    cur = pd.DataFrame({"c": rng.choice(np.array(["a", "b", "new"], dtype=object), 200)})
    report = build_report(ref, cur, config=DriftConfig(profile="evidently"))
    assert math.isinf(report.data.column("c").statistic)
    save_drift_run(db, WEEK, report)
    (column,) = load_drift_columns(db, WEEK)
    assert math.isinf(column.statistic) and column.test == "chisquare" and column.p_value == 0.0
