"""Predict one trip: the features' online path and the production model, as ``POST /predict``."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from truckflow.dashboard.context import runtime, stage_model
from truckflow.errors import TruckflowError
from truckflow.features.tables import trip_features
from truckflow.registry import Stage
from truckflow.serving.errors import NoModelDeployedError
from truckflow.serving.single import predict_trip
from truckflow.store import Database
from truckflow.store.tables import truck_schedule

__all__ = ["predict", "scheduled_trips"]

_TYPED = "(type the truck and departure below)"


def scheduled_trips(db: Database, limit: int = 200) -> list[tuple[int, str, datetime]]:
    """The latest scheduled trips whose features could be built (their forecasts are in),
    newest first, as (truck, route, departure): what a form lists."""
    ts, tf = truck_schedule, trip_features
    query = (
        sa.select(ts.c.truck_id, ts.c.route_id, ts.c.departure_date)
        .distinct()
        .select_from(
            ts.join(
                tf,
                sa.and_(tf.c.truck_id == ts.c.truck_id, tf.c.departure_date == ts.c.departure_date),
            )
        )
        .order_by(ts.c.departure_date.desc(), ts.c.truck_id)
        .limit(limit)
    )
    with db.engine.connect() as conn:
        return [(int(t), str(r), d) for t, r, d in conn.execute(query)]


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
        model = stage_model(Stage.PRODUCTION)
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
