"""Notifications: the outbox, every event per channel with its delivery status."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from truckflow.dashboard.context import runtime
from truckflow.dashboard.pages.common import empty_state, when
from truckflow.notify.outbox import list_outbox

__all__ = ["notifications"]


def notifications() -> None:
    st.title("Notifications")
    pending_only = st.toggle("Only those not delivered yet", key="pending_only")
    rows = list_outbox(runtime().db, pending_only=pending_only, limit=500)
    if not rows:
        empty_state(
            "The outbox is empty: pipelines, drift checks and releases write events here.",
            "truckflow demo",
            "truckflow notify test",
        )
        return
    frame = pd.DataFrame(
        [
            {
                "id": r["id"],
                "time": when(r["event_time"]),
                "event": r["event_type"],
                "severity": r["severity"],
                "subject": r["subject"],
                "channel": r["channel"],
                "status": r["status"],
                "attempts": r["attempts"],
                "delivered": when(r["delivered_at"]),
                "last error": r["last_error"] or "",
            }
            for r in rows
        ]
    )
    counts = frame.groupby("status").size()
    for column, (status, n) in zip(st.columns(len(counts)), counts.items(), strict=True):
        column.metric(str(status), int(n))
    st.dataframe(frame, hide_index=True, width="stretch")
