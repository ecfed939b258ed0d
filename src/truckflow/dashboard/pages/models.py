"""Models: registered versions, approval status, aliases, deployment history, and the actions.

Approve, reject and rollback are the release flow's manual operations (registry tags, deployment
records and their notifications); promote runs the release flow for the chosen version.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from truckflow.dashboard.context import registry, runtime
from truckflow.dashboard.pages.common import empty_state, when
from truckflow.errors import TruckflowError
from truckflow.pipelines.release.ops import (
    approve_model,
    deployment_history,
    reject_model,
    rollback_model,
)
from truckflow.pipelines.release.pipeline import release_model
from truckflow.registry import APPROVED, PENDING, REJECTED, ModelVersion

__all__ = ["models"]


def models() -> None:
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
    _deployments()


def _deployments() -> None:
    st.subheader("Deployment history")
    history = deployment_history(runtime())
    if not history:
        empty_state(
            "No deployment recorded yet: a release moves a version to staging and production.",
            "truckflow release VERSION --auto-approve",
        )
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "stage": d.stage,
                    "version": d.version,
                    "previous": d.previous_version or "",
                    "action": d.action,
                    "from": when(d.started_at),
                    "until": when(d.ended_at),
                    "outcome": d.outcome,
                    "approved by": d.approved_by or "",
                    "why": d.reason or "",
                }
                for d in history
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def _row(v: ModelVersion) -> dict[str, object]:
    metrics = v.metrics
    return {
        "version": v.version,
        "approval": v.approval_status,
        "aliases": ", ".join(v.aliases),
        "test F1": metrics.get("test_f1"),
        "family": v.metadata.family,
        "data window": v.metadata.data_window,
        "registered": when(v.created_at),
        "comment": v.approval_comment,
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
        _act(
            lambda: _done(
                approve_model(runtime(), version.version, comment=comment or None), "approved"
            )
        )
    if reject.button("Reject", disabled=version.approval_status == REJECTED, key="reject"):
        if not comment.strip():
            st.error("Say why the version is rejected: the comment is required.")
        else:
            _act(
                lambda: _done(reject_model(runtime(), version.version, comment=comment), "rejected")
            )
    if promote.button(
        "Promote",
        disabled=version.approval_status != APPROVED,
        help="Run the release flow for this version: staging, acceptance, production.",
        key="promote",
    ):
        _act(lambda: _released(version.version))
    if rollback.button(
        "Rollback production", help="Put production back on the version before.", key="rollback"
    ):
        _act(lambda: _rolled_back(comment or "rollback from the dashboard"))


def _done(version: ModelVersion, verb: str) -> str:
    return f"Version {version.version} {verb}."


def _released(version: str) -> str:
    result = release_model(runtime(), version)
    reasons = "; ".join(result.reasons)
    return f"Release of version {version}: {result.status}" + (f" ({reasons})" if reasons else "")


def _rolled_back(reason: str) -> str:
    done = rollback_model(runtime(), reason=reason)
    if done is None:
        return "Nothing to roll back to: production has no earlier version."
    return f"Production rolled back to version {done.version}."


def _act(action: Callable[[], str]) -> None:
    try:
        message = action()
    except TruckflowError as exc:
        st.error(str(exc))
        return
    # Shown after the rerun that redraws the tables with the new state.
    st.session_state["model_flash"] = message
    st.rerun()
