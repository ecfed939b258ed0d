"""The outbox sink: events become outbox rows in the transaction of the state change they report.

``OutboxSink.emit(event, connection)`` inserts one row per channel the routing rules pick, on the
caller's connection: if the caller's transaction rolls back, the event was never emitted. Without
a connection the rows get a transaction of their own. Emitting never touches a channel, so a
channel that is down can never fail the pipeline that emitted the event; the ``Dispatcher``
delivers later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from truckflow.clock import naive_utc, utcnow
from truckflow.events import Event
from truckflow.notify.config import ChannelSpec, NotifyConfig
from truckflow.notify.errors import NotifyError
from truckflow.notify.secrets import scrub
from truckflow.notify.tables import notify_outbox
from truckflow.store import Database

__all__ = ["OutboxSink", "abandon", "list_outbox"]

_log = logging.getLogger("truckflow.notify")
_SUBJECT_MAX = 512


class OutboxSink:
    """An ``EventSink`` that writes routed events to the outbox.

    ``after_commit``, when given, is called with the channel names after an emit that ran in a
    transaction of its own (no caller connection): the hook for best-effort inline delivery.
    It is never allowed to raise into the emitter.
    """

    def __init__(
        self,
        db: Database,
        config: NotifyConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        after_commit: Callable[[list[str]], object] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self._clock = clock
        self._after_commit = after_commit
        self._secrets = config.secrets()

    def __repr__(self) -> str:
        return f"OutboxSink({self.db.safe_url!r}, channels={sorted(self.config.channels)})"

    def emit(self, event: Event, connection: sa.Connection | None = None) -> None:
        self.enqueue(event, connection)

    def enqueue(
        self,
        event: Event,
        connection: sa.Connection | None = None,
        *,
        channels: Sequence[ChannelSpec] | None = None,
    ) -> list[int]:
        """Write the event for ``channels`` (default: those its routes pick); returns row ids."""
        targets = list(channels) if channels is not None else self.config.channels_for(event)
        if not targets:
            return []
        rows = [self._row(event, spec) for spec in targets]
        try:
            if connection is not None:
                return self._insert(connection, rows)
            with self.db.begin() as conn:
                ids = self._insert(conn, rows)
        except sa.exc.SQLAlchemyError as exc:
            raise NotifyError(
                f"cannot write event {event.type} to the outbox table {notify_outbox.name}: "
                f"{scrub(str(getattr(exc, 'orig', None) or exc), self._secrets)}",
                hint="run `truckflow init` to create the table",
            ) from None
        if self._after_commit is not None:
            try:
                self._after_commit([spec.name for spec in targets])
            except Exception as exc:  # inline delivery is best effort; the dispatcher retries
                _log.warning(
                    "inline delivery of %s failed: %s", event.type, scrub(str(exc), self._secrets)
                )
        return ids

    def _row(self, event: Event, spec: ChannelSpec) -> dict[str, Any]:
        now = self._clock()
        when = naive_utc(event.time)
        # Event bodies are written by others; a channel secret that slipped in is masked here.
        body = json.loads(scrub(json.dumps(event.body, default=str), self._secrets))
        return {
            "channel": spec.name,
            "channel_url": spec.redacted_url[:512],
            "event_type": event.type,
            "event_key": None if event.key is None else event.key[:200],
            "severity": str(event.severity),
            "subject": scrub(event.subject, self._secrets)[:_SUBJECT_MAX],
            "body": body,
            "event_time": when,
            "digest_day": when.date() if spec.digest == "daily" else None,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }

    @staticmethod
    def _insert(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[int]:
        # One statement per row: the ids give the per-channel delivery order.
        ids: list[int] = []
        for row in rows:
            if row["event_key"] is not None and _known(conn, row["channel"], row["event_key"]):
                continue
            result = conn.execute(notify_outbox.insert().values(**row))
            key = result.inserted_primary_key
            if key is not None:
                ids.append(int(key[0]))
        return ids


def _known(conn: sa.Connection, channel: str, key: str) -> bool:
    t = notify_outbox
    found = conn.execute(
        sa.select(t.c.id).where(t.c.channel == channel, t.c.event_key == key).limit(1)
    ).first()
    return found is not None


def list_outbox(
    db: Database,
    *,
    pending_only: bool = False,
    limit: int = 100,
    ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Outbox rows, newest first; ``pending_only`` keeps those not yet delivered."""
    t = notify_outbox
    query = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    if pending_only:
        query = query.where(t.c.status.in_(("pending", "sending")))
    with db.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def abandon(db: Database, ids: Sequence[int], reason: str) -> int:
    """Mark rows that can never be delivered as failed, so that they stop blocking a channel."""
    if not ids:
        return 0
    t = notify_outbox
    with db.begin() as conn:
        result = conn.execute(
            sa.update(t)
            .where(t.c.id.in_(list(ids)), t.c.status.in_(("pending", "sending")))
            .values(status="failed", last_error=reason, claim_token=None)
        )
    return int(result.rowcount)
