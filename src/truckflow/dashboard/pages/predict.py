"""Predict one trip: the features' online path and the production model, as ``POST /predict``."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from truckflow.dashboard.context import runtime, stage_model
from truckflow.errors import TruckflowError
from truckflow.serving.errors import NoModelDeployedError
from truckflow.serving.single import predict_trip, scheduled_trips

__all__ = ["predict"]

_TYPED = "(type the truck and departure below)"


def _trips() -> dict[str, tuple[int, datetime]]:
    """The latest scheduled trips by label: what the form lists."""
    return {
        f"truck {truck} on {route}, departing {moment:%Y-%m-%d %H:%M}": (truck, moment)
        for truck, route, moment in scheduled_trips(runtime().db)
    }


def predict() -> None:
    st.title("Predict a trip")
    st.caption(
        "A scheduled trip (truck and departure as in truck_schedule); features come from the "
        "database through the same feature code as training and serving."
    )
    trips = _trips()
    with st.form("trip"):
        picked = st.selectbox(
            "Scheduled trip (the latest first)",
            [_TYPED, *trips],
            key="scheduled",
            help="Pick a trip of truck_schedule, or type its truck and departure below.",
        )
        truck_id = st.number_input("Truck id", min_value=0, step=1, format="%d", key="truck_id")
        departure = st.text_input(
            "Departure (YYYY-MM-DD HH:MM)", placeholder="2019-02-14 07:00", key="departure"
        )
        submitted = st.form_submit_button("Predict")
    if not submitted:
        return
    if picked != _TYPED:
        truck_id, moment = trips[picked]
    else:
        try:
            moment = datetime.fromisoformat(departure.strip())
        except ValueError:
            st.error(f"Departure {departure!r} is not a date and time like 2019-02-14 07:00.")
            return
    try:
        model = stage_model("production")
        result = predict_trip(runtime().db, model, int(truck_id), moment)
    except TruckflowError as exc:
        st.error(str(exc))
        if isinstance(exc, NoModelDeployedError):
            st.markdown("Put a model in production first, for example with:")
            st.code("truckflow demo", language="bash")
        return
    verdict = "DELAYED" if result.delayed else "on time"
    (st.warning if result.delayed else st.success)(
        f"Truck {result.truck_id} departing {result.departure:%Y-%m-%d %H:%M}: {verdict} "
        f"(P(delay) {result.probability:.3f}, threshold {result.threshold:.3f}, "
        f"model version {result.model_version} on {result.stage})"
    )
    if result.reasons:
        st.subheader("Why")
        for reason in result.reasons:
            st.markdown(f"- {reason['text']}")
    with st.expander("Features"):
        st.dataframe(
            pd.DataFrame(
                {
                    "feature": list(result.features),
                    "value": [str(v) for v in result.features.values()],
                }
            ),
            hide_index=True,
        )
