"""Moving a stage's alias, with its deployment record and notification, and rolling back.

Every alias move goes through here: ``move_stage`` (deploy, promote, roll back) and
``clear_stage`` (a rejection or a rollback with nothing to go back to empties the stage). Each
points (or removes) the registry alias first, then records the deployment and emits its event in
one database transaction (the outbox row commits with the history row or not at all), then asks
the configured servers to reload (they also notice by polling the alias).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from truckflow.errors import TruckflowError
from truckflow.events import Event, EventSink
from truckflow.notify.catalogue import (
    model_approved,
    model_promoted,
    model_rejected,
    model_rolled_back,
)
from truckflow.pipelines.runtime import Runtime
from truckflow.registry import ModelRegistry, ModelVersion, Stage
from truckflow.registry.deployments import (
    Deployment,
    DeploymentAction,
    EndOutcome,
    current_deployment,
    end_deployment,
    record_deployment,
    rollback_target,
)
from truckflow.settings import Settings
from truckflow.store import Database

__all__ = [
    "ReleaseError",
    "approve_version",
    "clear_stage",
    "move_stage",
    "promote_directly",
    "reject_version",
    "reload_servers",
    "rollback_stage",
]

log = logging.getLogger(__name__)


class ReleaseError(TruckflowError):
    """A release, promotion or rollback could not be carried out."""


def reload_servers(settings: Settings) -> list[str]:
    """Ask each configured server to reload its alias now; returns what failed (not fatal:
    servers poll their alias anyway)."""
    problems: list[str] = []
    if not settings.release.reload_urls:
        return problems
    token = settings.serving.admin_token.get_secret_value() if settings.serving.admin_token else ""
    for url in settings.release.reload_urls:
        try:
            response = httpx.post(
                url.rstrip("/") + "/admin/reload",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            problems.append(f"reload of {url} failed: {exc}")
            log.warning("reload of %s failed: %s", url, exc)
    return problems


def move_stage(
    settings: Settings,
    db: Database,
    sink: EventSink,
    *,
    stage: Stage | str,
    version: str,
    action: DeploymentAction,
    approved_by: str | None = None,
    reason: str | None = None,
    execution_id: str | None = None,
    event: Callable[[str | None], Event] | None = None,
) -> Deployment:
    """Point ``stage`` at ``version``, record it, emit ``event(previous)`` in the same
    transaction. Every alias move goes through here or ``clear_stage``."""
    chosen = Stage.parse(stage)
    registry = ModelRegistry.from_settings(settings)
    registry.set_alias(chosen, version)
    with db.begin() as conn:
        deployment = record_deployment(
            conn,
            model_name=registry.model_name,
            stage=chosen,
            version=version,
            action=action,
            approved_by=approved_by,
            reason=reason,
            execution_id=execution_id,
        )
        if event is not None:
            sink.emit(event(deployment.previous_version), connection=conn)
    reload_servers(settings)
    return deployment


def promote_directly(runtime: Runtime, version: str, *, reason: str) -> Deployment:
    """Put ``version`` in production without a release (the streaming simulation's first model,
    the demo's fallback), through the same record and event as a release's promotion."""
    registry = ModelRegistry.from_settings(runtime.settings)

    def event(previous: str | None) -> Event:
        return model_promoted(
            registry.model_name, version, stage=Stage.PRODUCTION, previous=previous
        )

    return move_stage(
        runtime.settings,
        runtime.db,
        runtime.sink,
        stage=Stage.PRODUCTION,
        version=version,
        action="promote",
        reason=reason,
        event=event,
    )


def clear_stage(
    settings: Settings,
    db: Database,
    sink: EventSink,
    *,
    stage: Stage | str,
    outcome: EndOutcome,
    event: Event,
    reason: str | None = None,
    by: str | None = None,
) -> Deployment | None:
    """Empty ``stage``: remove its alias, end its period with ``outcome`` and emit ``event`` in
    the same transaction. None (and nothing done) when the stage is empty already."""
    chosen = Stage.parse(stage)
    registry = ModelRegistry.from_settings(settings)
    current = registry.get_alias(chosen)
    if current is None:
        return None
    registry.delete_alias(chosen)
    with db.begin() as conn:
        ended = end_deployment(
            conn,
            model_name=registry.model_name,
            stage=chosen,
            version=current.version,
            outcome=outcome,
            reason=reason,
            by=by,
        )
        sink.emit(event, connection=conn)
    reload_servers(settings)
    return ended


def rollback_stage(
    settings: Settings,
    db: Database,
    sink: EventSink,
    *,
    reason: str,
    to: str | None = None,
    stage: Stage | str = Stage.PRODUCTION,
    by: str | None = None,
    execution_id: str | None = None,
) -> Deployment | None:
    """Put ``stage`` back on ``to`` (default: the last version it served before, never one that
    was rolled back). With no earlier version, the stage is emptied and None returned."""
    registry = ModelRegistry.from_settings(settings)
    current = registry.get_alias(stage := Stage.parse(stage))
    if current is None:
        raise ReleaseError(f"nothing to roll back: alias {stage} of {registry.model_name} is unset")
    with db.engine.connect() as conn:
        target = to if to is not None else rollback_target(conn, registry.model_name, stage)
    if target is not None and str(target) == current.version:
        raise ReleaseError(f"{stage} already serves version {current.version}")
    if target is None:
        if to is None and _has_history(db, registry.model_name, stage):
            # The first version ever promoted failed: no earlier one exists.
            gone = model_rolled_back(
                registry.model_name,
                stage=stage,
                from_version=current.version,
                to_version="none",
                reason=reason,
            )
            clear_stage(settings, db, sink, stage=stage, outcome="rolled_back", event=gone)
            return None
        raise ReleaseError(
            f"no earlier {stage} version of {registry.model_name} to roll back to",
            hint="name one with --to VERSION",
        )
    registry.get(target)  # an unknown version fails here, before anything moves

    def event(previous: str | None) -> Event:
        return model_rolled_back(
            registry.model_name,
            stage=stage,
            from_version=previous or current.version,
            to_version=str(target),
            reason=reason,
        )

    return move_stage(
        settings,
        db,
        sink,
        stage=stage,
        version=str(target),
        action="rollback",
        approved_by=by,
        reason=reason,
        execution_id=execution_id,
        event=event,
    )


def _has_history(db: Database, model_name: str, stage: str) -> bool:
    with db.engine.connect() as conn:
        return current_deployment(conn, model_name, stage) is not None


def approve_version(
    settings: Settings,
    db: Database,
    sink: EventSink,
    version: str,
    *,
    comment: str | None,
    by: str,
) -> ModelVersion:
    """Approve a pending version (the user-feedback step) and announce it."""
    registry = ModelRegistry.from_settings(settings)
    approved = registry.approve(version, comment, by=by)
    with db.begin() as conn:
        sink.emit(
            model_approved(registry.model_name, approved.version, by=by, reason=comment),
            connection=conn,
        )
    return approved


def reject_version(
    settings: Settings, db: Database, sink: EventSink, version: str, *, comment: str, by: str
) -> ModelVersion:
    """Reject a version (the user-feedback step) and announce it. A version on staging leaves
    it: the stage is emptied, recorded (outcome ``rejected``) with the event."""
    registry = ModelRegistry.from_settings(settings)
    rejected = registry.reject(version, comment, by=by)
    staging = registry.get_alias(Stage.STAGING)
    if staging is not None and staging.version == rejected.version:
        event = model_rejected(
            registry.model_name,
            rejected.version,
            by=by,
            reason=comment,
            cleared_stage=Stage.STAGING,
        )
        clear_stage(
            settings,
            db,
            sink,
            stage=Stage.STAGING,
            outcome="rejected",
            event=event,
            reason=comment,
            by=by,
        )
        return rejected
    with db.begin() as conn:
        sink.emit(
            model_rejected(registry.model_name, rejected.version, by=by, reason=comment),
            connection=conn,
        )
    return rejected
