"""The dashboard's entry script: ``streamlit run`` runs this file on every interaction."""

from __future__ import annotations

import streamlit as st

from truckflow.dashboard.pages.drift import drift
from truckflow.dashboard.pages.models import models
from truckflow.dashboard.pages.notifications import notifications
from truckflow.dashboard.pages.overview import overview
from truckflow.dashboard.pages.pipelines import pipelines
from truckflow.dashboard.pages.predict import predict
from truckflow.dashboard.pages.predictions import predictions

st.set_page_config(page_title="truckflow", page_icon=":truck:", layout="wide")

# Each page's URL path is its function's name; the first is the default, at the root.
PAGES = [
    (overview, "Overview", ":material/dashboard:"),
    (pipelines, "Pipelines", ":material/account_tree:"),
    (models, "Models", ":material/inventory_2:"),
    (drift, "Drift", ":material/monitoring:"),
    (predictions, "Predictions vs truth", ":material/fact_check:"),
    (notifications, "Notifications", ":material/notifications:"),
    (predict, "Predict a trip", ":material/local_shipping:"),
]

navigation = st.navigation([st.Page(page, title=title, icon=icon) for page, title, icon in PAGES])
navigation.run()
