"""Deployment history: which model version served which stage, from when to when, and why.

One row per period of a version on a stage. Recording a new deployment closes the stage's open
row (``ended_at``, and ``outcome`` ``replaced`` or ``rolled_back``) and opens a new one, in the
caller's transaction, so that the notification announcing it can share that transaction.
Generic: knows model names, stages and versions, nothing about trucks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal

import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.registry.tables import deployments
from truckflow.registry.versions import Stage
from truckflow.store import Database

__all__ = [
    "Deployment",
    "DeploymentAction",
    "EndOutcome",
    "current_deployment",
    "end_deployment",
    "list_deployments",
    "record_deployment",
    "rollback_target",
]

DeploymentAction = Literal["deploy", "promote", "rollback"]
# How a period ends: another version took the stage, a rollback, or the stage was emptied
# (``rejected``: the version on it was rejected; ``rolled_back``: nothing earlier to go back to).
EndOutcome = Literal["replaced", "rolled_back", "rejected"]


@dataclass(frozen=True)
class Deployment:
    id: int
    model_name: str
    stage: str
    version: str
    previous_version: str | None
    action: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str
    approved_by: str | None
    reason: str | None
    execution_id: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["started_at"] = self.started_at.isoformat()
        out["ended_at"] = None if self.ended_at is None else self.ended_at.isoformat()
        return out


def _row(row: sa.Row[Any]) -> Deployment:
    return Deployment(**{c: getattr(row, c) for c in Deployment.__dataclass_fields__})


def record_deployment(
    conn: sa.Connection,
    *,
    model_name: str,
    stage: str,
    version: str,
    action: DeploymentAction,
    approved_by: str | None = None,
    reason: str | None = None,
    execution_id: str | None = None,
) -> Deployment:
    """Close the stage's open period and open one for ``version``, in ``conn``'s transaction."""
    d = deployments
    now = utcnow(seconds=True)
    open_row = conn.execute(
        sa.select(d.c.id, d.c.version)
        .where(d.c.model_name == model_name, d.c.stage == stage, d.c.ended_at.is_(None))
        .order_by(d.c.id.desc())
    ).first()
    previous = None if open_row is None else str(open_row.version)
    conn.execute(
        d.update()
        .where(d.c.model_name == model_name, d.c.stage == stage, d.c.ended_at.is_(None))
        .values(ended_at=now, outcome="rolled_back" if action == "rollback" else "replaced")
    )
    result = conn.execute(
        d.insert().values(
            model_name=model_name,
            stage=stage,
            version=str(version),
            previous_version=previous,
            action=action,
            started_at=now,
            ended_at=None,
            outcome="active",
            approved_by=approved_by,
            reason=reason,
            execution_id=execution_id,
        )
    )
    key = result.inserted_primary_key
    row = conn.execute(sa.select(d).where(d.c.id == int(key[0] if key else 0))).one()
    return _row(row)


def end_deployment(
    conn: sa.Connection,
    *,
    model_name: str,
    stage: str,
    version: str,
    outcome: EndOutcome,
    reason: str | None = None,
    by: str | None = None,
) -> Deployment:
    """Record that ``stage`` was emptied (its alias removed), in ``conn``'s transaction: its open
    period ends with ``outcome``. A stage whose alias was set without a record (before the
    history existed) gets its period recorded, ended at once, so the emptying is never silent."""
    d = deployments
    now = utcnow(seconds=True)
    where = (d.c.model_name == model_name, d.c.stage == stage, d.c.ended_at.is_(None))
    open_row = conn.execute(sa.select(d.c.id).where(*where).order_by(d.c.id.desc())).first()
    if open_row is not None:
        conn.execute(d.update().where(*where).values(ended_at=now, outcome=outcome))
        key = int(open_row.id)
    else:
        inserted = conn.execute(
            d.insert().values(
                model_name=model_name,
                stage=stage,
                version=str(version),
                previous_version=None,
                action="promote" if stage == Stage.PRODUCTION else "deploy",
                started_at=now,
                ended_at=now,
                outcome=outcome,
                approved_by=by,
                reason=reason,
                execution_id=None,
            )
        )
        primary = inserted.inserted_primary_key
        key = int(primary[0] if primary else 0)
    return _row(conn.execute(sa.select(d).where(d.c.id == key)).one())


def list_deployments(
    db: Database, *, model_name: str | None = None, stage: str | None = None, limit: int = 200
) -> list[Deployment]:
    """The history, newest first."""
    d = deployments
    query = sa.select(d).order_by(d.c.id.desc()).limit(limit)
    if model_name is not None:
        query = query.where(d.c.model_name == model_name)
    if stage is not None:
        query = query.where(d.c.stage == stage)
    with db.engine.connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def current_deployment(conn: sa.Connection, model_name: str, stage: str) -> Deployment | None:
    d = deployments
    row = conn.execute(
        sa.select(d)
        .where(d.c.model_name == model_name, d.c.stage == stage, d.c.ended_at.is_(None))
        .order_by(d.c.id.desc())
    ).first()
    return None if row is None else _row(row)


def rollback_target(conn: sa.Connection, model_name: str, stage: str) -> str | None:
    """The version to go back to: the latest one that left the stage by being replaced (never a
    version that was itself rolled back), other than the one serving now."""
    d = deployments
    current = current_deployment(conn, model_name, stage)
    query = (
        sa.select(d.c.version)
        .where(d.c.model_name == model_name, d.c.stage == stage, d.c.outcome == "replaced")
        .order_by(d.c.id.desc())
    )
    if current is not None:
        query = query.where(d.c.version != current.version)
    row = conn.execute(query).first()
    return None if row is None else str(row.version)
