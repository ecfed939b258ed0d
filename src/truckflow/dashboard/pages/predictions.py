"""Predictions vs ground truth, by day: captured predictions joined with the labels that arrived,
and the daily metrics the streaming days computed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from truckflow.dashboard.context import runtime
from truckflow.dashboard.pages.common import empty_state
from truckflow.monitoring.store import load_daily_metrics
from truckflow.serving.outcomes import prediction_outcomes

__all__ = ["predictions"]


def predictions() -> None:
    st.title("Predictions vs ground truth")
    db = runtime().db
    st.subheader("Daily metrics (trips that arrived that day)")
    metrics = load_daily_metrics(db)
    if not metrics:
        empty_state("No daily metrics yet: the streaming days compute them.", "truckflow demo")
    else:
        frame = pd.DataFrame([m.__dict__ for m in metrics])
        st.line_chart(frame.set_index("day")[["accuracy", "precision", "recall", "f1"]])
        st.dataframe(frame, hide_index=True, width="stretch")
    st.subheader("Captured predictions by departure day")
    outcomes = prediction_outcomes(db)
    if outcomes.empty:
        empty_state(
            "No prediction has been captured yet.",
            "truckflow serve --stage production   # then POST /predict",
            "truckflow demo",
        )
        return
    labelled = int(outcomes["labelled"].sum())
    correct = int(outcomes["correct"].sum())
    st.caption(
        f"{int(outcomes['predictions'].sum())} predictions, {labelled} with ground truth, "
        f"{correct} right"
    )
    st.dataframe(outcomes, hide_index=True, width="stretch")
