"""The release flow's manual operations, at the library level: approve, reject, roll back, and
the deployment history. Each emits its notification through the runtime's sink and delivers it.
"""

from __future__ import annotations

import getpass

from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.deploy import approve_version, reject_version, rollback_stage
from truckflow.registry import ModelRegistry, ModelVersion, Stage
from truckflow.registry.deployments import Deployment, list_deployments

__all__ = ["approve_model", "deployment_history", "reject_model", "rollback_model", "who"]


def who() -> str:
    """The person at the keyboard, for the approval and deployment records."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"


def approve_model(
    runtime: Runtime, version: str, *, comment: str | None = None, by: str | None = None
) -> ModelVersion:
    """Approve a version waiting in ``PendingManualApproval`` (``truckflow release VERSION``
    then carries it to production)."""
    approved = approve_version(
        runtime.settings, runtime.db, runtime.sink, version, comment=comment, by=by or who()
    )
    runtime.notifications.dispatch()
    return approved


def reject_model(
    runtime: Runtime, version: str, *, comment: str, by: str | None = None
) -> ModelVersion:
    rejected = reject_version(
        runtime.settings, runtime.db, runtime.sink, version, comment=comment, by=by or who()
    )
    runtime.notifications.dispatch()
    return rejected


def rollback_model(
    runtime: Runtime,
    *,
    to: str | None = None,
    reason: str = "manual rollback",
    stage: Stage | str = Stage.PRODUCTION,
    by: str | None = None,
) -> Deployment | None:
    """Put ``stage`` back on ``to`` (default: the version it served before)."""
    done = rollback_stage(
        runtime.settings,
        runtime.db,
        runtime.sink,
        reason=reason,
        to=to,
        stage=stage,
        by=by or who(),
    )
    runtime.notifications.dispatch()
    return done


def deployment_history(
    runtime: Runtime, *, stage: str | None = None, limit: int = 200
) -> list[Deployment]:
    """The deployments of the configured model, newest first."""
    name = ModelRegistry.from_settings(runtime.settings).model_name
    return list_deployments(runtime.db, model_name=name, stage=stage, limit=limit)
