"""Moving a stage's alias, with its deployment record and notification, and rolling back.

Each move points the registry alias first, then records the deployment and emits its event in
one database transaction (the outbox row commits with the history row or not at all), then asks
the configured servers to reload (they also notice by polling the alias).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import sqlalchemy as sa

from truckflow.errors import TruckflowError
from truckflow.events import Event, EventSink, LoggingSink, MultiSink
from truckflow.notify import Notifications
from truckflow.notify.catalogue import model_approved, model_rejected, model_rolled_back
from truckflow.registry import ModelRegistry, ModelVersion
from truckflow.registry.deployments import (
    Deployment,
    DeploymentAction,
    current_deployment,
    deployments,
    record_deployment,
    rollback_target,
)
from truckflow.settings import Settings
from truckflow.store import Database

__all__ = [
    "ReleaseError",
    "approve_version",
    "event_sink",
    "move_stage",
    "reject_version",
    "reload_servers",
    "rollback_stage",
]

log = logging.getLogger(__name__)


class ReleaseError(TruckflowError):
    """A release, promotion or rollback could not be carried out."""


def event_sink(settings: Settings, db: Database) -> EventSink:
    """The sink a step uses when it has no runtime: the log and the notification outbox."""
    return MultiSink(LoggingSink(), Notifications.open(settings, db).sink)


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
    stage: str,
    version: str,
    action: DeploymentAction,
    approved_by: str | None = None,
    reason: str | None = None,
    execution_id: str | None = None,
    event: Callable[[str | None], Event] | None = None,
) -> Deployment:
    """Point ``stage`` at ``version``, record it, emit ``event(previous)`` in the same transaction."""
    registry = ModelRegistry.from_settings(settings)
    registry.set_alias(stage, version)
    with db.begin() as conn:
        deployment = record_deployment(
            conn,
            model_name=registry.model_name,
            stage=stage,
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


def rollback_stage(
    settings: Settings,
    db: Database,
    sink: EventSink,
    *,
    reason: str,
    to: str | None = None,
    stage: str = "production",
    by: str | None = None,
    execution_id: str | None = None,
) -> Deployment | None:
    """Put ``stage`` back on ``to`` (default: the last version it served before, never one that
    was rolled back). With no earlier version, the alias is removed and None returned."""
    registry = ModelRegistry.from_settings(settings)
    current = registry.get_alias(stage)
    if current is None:
        raise ReleaseError(f"nothing to roll back: alias {stage} of {registry.model_name} is unset")
    with db.engine.connect() as conn:
        target = to if to is not None else rollback_target(conn, registry.model_name, stage)
    if target is not None and str(target) == current.version:
        raise ReleaseError(f"{stage} already serves version {current.version}")
    if target is None:
        if to is None and _has_history(db, registry.model_name, stage):
            _retire(settings, db, sink, registry, current, stage, reason)
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


def _retire(
    settings: Settings,
    db: Database,
    sink: EventSink,
    registry: ModelRegistry,
    current: ModelVersion,
    stage: str,
    reason: str,
) -> None:
    """The first version ever promoted failed: no earlier one exists, so the stage is emptied."""
    registry.delete_alias(stage)
    d = deployments
    with db.begin() as conn:
        conn.execute(
            d.update()
            .where(
                d.c.model_name == registry.model_name, d.c.stage == stage, d.c.ended_at.is_(None)
            )
            .values(ended_at=sa.func.now(), outcome="rolled_back")
        )
        sink.emit(
            model_rolled_back(
                registry.model_name,
                stage=stage,
                from_version=current.version,
                to_version="none",
                reason=reason,
            ),
            connection=conn,
        )
    reload_servers(settings)


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
    registry = ModelRegistry.from_settings(settings)
    rejected = registry.reject(version, comment, by=by)
    with db.begin() as conn:
        sink.emit(
            model_rejected(registry.model_name, rejected.version, by=by, reason=comment),
            connection=conn,
        )
    return rejected
