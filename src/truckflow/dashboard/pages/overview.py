"""Overview: the production model, the F1 trend, the latest drift verdict, the last notifications."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from truckflow.dashboard.context import registry, runtime
from truckflow.dashboard.pages.common import empty_state, when
from truckflow.monitoring.store import list_drift_runs, load_daily_metrics
from truckflow.notify.outbox import list_outbox
from truckflow.registry import Stage

__all__ = ["overview"]


def overview() -> None:
    st.title("truckflow overview")
    db = runtime().db
    _production()
    left, right = st.columns(2)
    with left:
        st.subheader("Daily F1")
        metrics = load_daily_metrics(db)
        if not metrics:
            empty_state(
                "No daily metrics yet: they come from the streaming days' ground truth.",
                "truckflow demo",
            )
        else:
            frame = pd.DataFrame([m.__dict__ for m in metrics]).set_index("day")
            st.line_chart(frame[["f1", "accuracy"]])
            st.caption(f"{len(metrics)} days, last {metrics[-1].day}: F1 {metrics[-1].f1:.3f}")
    with right:
        st.subheader("Drift")
        runs = list_drift_runs(db)
        if not runs:
            empty_state("No drift check has run yet.", "truckflow demo")
        else:
            last = runs[-1]
            verdict = "DRIFT detected" if last.drift_detected else "no drift"
            (st.error if last.drift_detected else st.success)(
                f"Week of {last.week_start}: {verdict} "
                f"({last.share_drifted:.0%} of columns drifted, threshold {last.drift_share:.0%})"
            )
            st.caption(f"{len(runs)} week(s) checked; model version {last.model_version or '-'}")
    st.subheader("Last notifications")
    rows = list_outbox(db, limit=10)
    if not rows:
        empty_state("No notifications yet: pipelines, drift and releases write them.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "time": when(r["event_time"]),
                        "event": r["event_type"],
                        "severity": r["severity"],
                        "subject": r["subject"],
                        "channel": r["channel"],
                        "status": r["status"],
                    }
                    for r in rows
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def _production() -> None:
    version = registry().get_alias(Stage.PRODUCTION)
    if version is None:
        empty_state(
            "No model is in production yet.",
            "truckflow demo",
            "# or: truckflow pipeline run training, then approve and release a version",
        )
        return
    st.subheader(f"Production model: {version.name} version {version.version}")
    metrics = version.metrics
    preferred: tuple[str, ...] = ("test_f1", "test_precision", "test_recall", "test_roc_auc")
    shown = [k for k in preferred if k in metrics]
    shown = shown or sorted(metrics)[:4]
    for column, key in zip(st.columns(max(len(shown), 1)), shown, strict=False):
        column.metric(key, f"{metrics[key]:.3f}")
    st.caption(
        f"approval: {version.approval_status}; registered {when(version.created_at)}; "
        f"data window {version.tags.get('data_window', '-')}; family {version.tags.get('family', '-')}"
    )
