"""Pipelines: executions, each step's status with cache hits and reasons, and the graph."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from truckflow.dashboard.context import runtime
from truckflow.dashboard.graph import definition_dot
from truckflow.dashboard.pages.common import empty_state, when
from truckflow.pipeline import ExecutionResult, get_execution, list_executions
from truckflow.pipeline.history import get_definition
from truckflow.store import Database

__all__ = ["pipelines"]


def pipelines() -> None:
    st.title("Pipeline executions")
    db = runtime().db
    executions = list_executions(db, limit=200)
    if not executions:
        empty_state("No pipeline has run yet.", "truckflow demo", "truckflow pipeline run training")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "execution": e.execution_id,
                    "pipeline": e.pipeline,
                    "status": e.shown_status,
                    "started": when(e.started_at),
                    "finished": when(e.finished_at),
                    "runner": e.runner,
                    "error": e.error or "",
                }
                for e in executions
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    labels = {
        f"{e.pipeline} {e.execution_id[:8]} ({e.shown_status})": e.execution_id for e in executions
    }
    chosen = st.selectbox("Execution", list(labels))
    if chosen is None:
        return
    _execution_detail(db, get_execution(db, labels[chosen]))


def _execution_detail(db: Database, execution: ExecutionResult) -> None:
    """One execution's verdict, its steps (cache hits and reasons) and its graph."""
    if execution.outcome:
        # The pipeline's own verdict (a release refused by acceptance ran fine but is no success).
        tell = {"promoted": st.success, "pending_approval": st.info}.get(
            execution.outcome, st.error
        )
        tell(f"{execution.outcome}: {execution.outcome_summary or ''}")
    st.subheader(f"Steps of {execution.pipeline} {execution.execution_id[:8]}")
    steps = list(execution.steps.values())
    hits = sum(s.cache_hit for s in steps)
    st.caption(
        f"{len(steps)} steps recorded, {hits} from the cache; parameters {execution.parameters}"
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "step": s.name,
                    "kind": s.kind,
                    "status": s.status,
                    "cache": "hit" if s.cache_hit else "miss",
                    "cache reason": s.cache_reason or "",
                    "reused from": s.reused_from or "",
                    "attempts": s.attempts,
                    "seconds": None if s.duration_s is None else round(s.duration_s, 2),
                    "error": s.error or "",
                }
                for s in steps
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.subheader("Graph")
    definition = get_definition(db, execution.execution_id)
    st.graphviz_chart(definition_dot(definition, {s.name: s.status for s in steps}))
