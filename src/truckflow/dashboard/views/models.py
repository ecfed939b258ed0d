"""Models: registered versions, approval status, aliases, and the approval actions.

Approve and reject go through the registry. Promote and rollback belong to the release flow
(staging, acceptance, deployment history); until it is part of truckflow they are not offered.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from truckflow.dashboard.context import registry
from truckflow.dashboard.views.common import empty_state, when
from truckflow.registry import PENDING, REJECTED, ModelVersion, RegistryError

__all__ = ["render"]

RELEASE_NOTE = (
    "Promote and rollback need the release flow (staging, acceptance, deployment history), "
    "which this installation does not have yet; use `truckflow model approve` and the registry "
    "aliases meanwhile."
)


def render() -> None:
    st.title("Models")
    versions = registry().list_versions()
    if not versions:
        empty_state(
            "No model version is registered yet.",
            "truckflow demo",
            "truckflow pipeline run training",
        )
        return
    st.dataframe(pd.DataFrame([_row(v) for v in versions]), hide_index=True, width="stretch")
    flash = st.session_state.pop("model_flash", None)
    if flash:
        st.success(flash)
    _actions(versions)
    st.subheader("Deployment history")
    st.info(RELEASE_NOTE)


def _row(v: ModelVersion) -> dict[str, object]:
    metrics = v.metrics
    return {
        "version": v.version,
        "approval": v.approval_status,
        "aliases": ", ".join(v.aliases),
        "test F1": metrics.get("test_f1"),
        "family": v.tags.get("family", ""),
        "data window": v.tags.get("data_window", ""),
        "registered": when(v.created_at),
        "comment": v.tags.get("approval_comment", ""),
    }


def _actions(versions: list[ModelVersion]) -> None:
    st.subheader("Approval")
    by_label = {f"version {v.version} ({v.approval_status})": v for v in versions}
    pending = [k for k, v in by_label.items() if v.approval_status == PENDING]
    labels = pending + [k for k in by_label if k not in pending]
    chosen = st.selectbox("Version", labels, key="model_version")
    if chosen is None:
        return
    version = by_label[chosen]
    comment = st.text_input("Comment (required to reject)", key="model_comment")
    approve, reject, promote, rollback = st.columns(4)
    if approve.button("Approve", disabled=version.approval_status != PENDING, key="approve"):
        _act(lambda: registry().approve(version.version, comment or None), "approved")
    if reject.button("Reject", disabled=version.approval_status == REJECTED, key="reject"):
        if not comment.strip():
            st.error("Say why the version is rejected: the comment is required.")
        else:
            _act(lambda: registry().reject(version.version, comment), "rejected")
    promote.button("Promote", disabled=True, help=RELEASE_NOTE, key="promote")
    rollback.button("Rollback", disabled=True, help=RELEASE_NOTE, key="rollback")


def _act(action: Callable[[], ModelVersion], verb: str) -> None:
    try:
        done = action()
    except RegistryError as exc:
        st.error(str(exc))
        return
    # Shown after the rerun that redraws the table with the new status.
    st.session_state["model_flash"] = f"Version {done.version} {verb}."
    st.rerun()
