"""Drift: the weekly verdicts, estimated against realized F1 by prediction day, per-column
scores by week, and reference vs current distributions.

Scores and verdicts come from the monitoring store; the distributions are drawn from the stored
feature rows of the week's two windows, with the verdict read from the report's JSON twin.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from truckflow.dashboard.context import runtime
from truckflow.dashboard.pages.common import empty_state
from truckflow.features.fill import load_features
from truckflow.monitoring.estimate import CONCEPT_SHIFT_NOTE
from truckflow.monitoring.estimate_store import load_estimated_metrics
from truckflow.monitoring.plots import distribution_png
from truckflow.monitoring.report import DriftReport
from truckflow.monitoring.store import DriftRunRecord, list_drift_runs, load_drift_columns
from truckflow.store import Database

__all__ = ["drift"]


def drift() -> None:
    st.title("Drift")
    db = runtime().db
    runs = list_drift_runs(db)
    if not runs:
        empty_state(
            "No drift check has run yet: the weekly drift pipeline stores one per week.",
            "truckflow demo",
        )
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "week": r.week_start,
                    "drift": r.drift_detected,
                    "dataset drift": r.dataset_drift,
                    "share drifted": round(r.share_drifted, 3),
                    "drift share": r.drift_share,
                    "prediction drift": r.prediction_drift,
                    "model drift": r.model_drift,
                    "F1": r.f1,
                    "model version": r.model_version,
                }
                for r in runs
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    _estimates(db)
    st.subheader("Per-column scores by week")
    st.caption("p-value (statistical tests) or distance; a * marks a drifted column")
    st.dataframe(_scores(db, runs), width="stretch")
    _distributions(db, runs)


def _estimates(db: Database) -> None:
    """F1 estimated from calibrated probabilities on each day's predictions, beside the F1
    realized on those trips as their labels arrive."""
    st.subheader("Estimated vs realized F1")
    days = load_estimated_metrics(db)
    if not days:
        st.info("No estimate yet: the daily pipeline estimates each day's predictions.")
        return
    table = pd.DataFrame(
        [
            {
                "day": d.day,
                "predicted": d.count,
                "estimated F1": round(d.estimated_f1, 3),
                "low": round(d.estimated_f1_low, 3),
                "high": round(d.estimated_f1_high, 3),
                "labelled": d.labelled,
                "realized F1": None if d.realized_f1 is None else round(d.realized_f1, 3),
                "model version": d.model_version,
            }
            for d in days
        ]
    )
    st.line_chart(table.set_index("day")[["estimated F1", "low", "high", "realized F1"]])
    st.caption(CONCEPT_SHIFT_NOTE)
    st.dataframe(table, hide_index=True, width="stretch")


def _scores(db: Database, runs: list[DriftRunRecord]) -> pd.DataFrame:
    cells: dict[str, dict[str, str]] = {}
    for run in runs:
        week = str(run.week_start)
        for col in load_drift_columns(db, run.week_start):
            score = col.statistic if col.p_value is None else col.p_value
            mark = " *" if col.drifted else ""
            cells.setdefault(week, {})[col.column_name] = f"{score:.4g} ({col.test}){mark}"
    return pd.DataFrame(cells).sort_index()


def _distributions(db: Database, runs: list[DriftRunRecord]) -> None:
    st.subheader("Reference vs current")
    by_week = {str(r.week_start): r for r in runs}
    week = st.selectbox("Week", list(reversed(by_week)), key="drift_week")
    if week is None:
        return
    run = by_week[week]
    columns = [c.column_name for c in load_drift_columns(db, run.week_start)]
    drifted = [c.column_name for c in load_drift_columns(db, run.week_start) if c.drifted]
    column = st.selectbox("Column", drifted + [c for c in columns if c not in drifted])
    report = _report(run)
    if column is None or report is None or None in (run.reference_start, run.current_start):
        st.info("This week's report JSON or windows are not available, so no plot.")
        return
    reference = _window(db, run.reference_start, run.reference_end)
    current = _window(db, run.current_start, run.current_end)
    if column not in reference.columns:
        st.info(f"The feature table has no column {column!r} to plot.")
        return
    png = distribution_png(reference[column], current[column], report.data.column(column))
    st.image(
        base64.b64decode(png),
        caption=f"{column}: reference {run.reference_start}.."
        f"{run.reference_end}, current {run.current_start}..{run.current_end}",
    )
    if run.html_path and Path(run.html_path).is_file():
        st.caption(f"The full report with every column: {run.html_path}")


def _report(run: DriftRunRecord) -> DriftReport | None:
    if not run.json_path or not Path(run.json_path).is_file():
        return None
    return DriftReport.from_json(Path(run.json_path).read_text(encoding="utf-8"))


def _window(db: Database, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """Feature rows departing from ``start`` through ``end`` (both days included)."""
    assert start is not None and end is not None
    begin = dt.datetime.combine(start, dt.time())
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    return load_features(db, begin, stop)
