"""The dashboard's entry script: ``streamlit run`` runs this file on every interaction."""

from __future__ import annotations

import streamlit as st

from truckflow.dashboard import SCREENS

st.set_page_config(page_title="truckflow", page_icon=":truck:", layout="wide")

PAGES = [
    ("overview.py", "Overview", ":material/dashboard:"),
    ("pipelines.py", "Pipelines", ":material/account_tree:"),
    ("models.py", "Models", ":material/inventory_2:"),
    ("drift.py", "Drift", ":material/monitoring:"),
    ("predictions.py", "Predictions vs truth", ":material/fact_check:"),
    ("notifications.py", "Notifications", ":material/notifications:"),
    ("predict.py", "Predict a trip", ":material/local_shipping:"),
]

navigation = st.navigation(
    [st.Page(str(SCREENS / name), title=title, icon=icon) for name, title, icon in PAGES]
)
navigation.run()
