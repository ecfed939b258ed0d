"""Delivering the outbox: per channel, in id order, each row once, retried with backoff.

A dispatcher run takes each channel with undelivered rows and claims the rows at the head of
that channel's queue: it flips them from ``pending`` to ``sending`` with its own claim token in
one short transaction, and keeps them only if the update changed exactly the rows it saw (a
second dispatcher that got there first makes the counts differ; PostgreSQL and MySQL also lock
the head rows ``FOR UPDATE`` while deciding; not ``SKIP LOCKED``, which would let a second
dispatcher jump to the rows behind a locked head and send them out of order). A row another
dispatcher holds blocks the channel, which is what keeps the order. Messages are sent outside any transaction; a failure puts the
failed message back to ``pending`` with ``attempts``, ``last_error`` and an exponentially later
``next_attempt_at``, and releases the rest of the claim untouched, so later rows of that channel
wait behind it while other channels go on.

Exactly once holds unless a dispatcher dies between sending and recording the delivery; its claim
then lapses after ``claim_timeout_s`` and the message is sent again (at least once).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.events import Severity
from truckflow.notify.channels import build_channel
from truckflow.notify.config import NotifyConfig
from truckflow.notify.errors import DeliveryError, NotifyError
from truckflow.notify.render import Message, OutboxEvent, render_digest, render_event
from truckflow.notify.secrets import scrub
from truckflow.notify.tables import notify_outbox
from truckflow.settings import Settings
from truckflow.store import Database

__all__ = ["ChannelReport", "DispatchReport", "Dispatcher"]

_log = logging.getLogger("truckflow.notify")
_t = notify_outbox


@dataclass
class ChannelReport:
    channel: str
    delivered: int = 0
    messages: int = 0
    error: str | None = None
    retry_at: datetime | None = None


@dataclass
class DispatchReport:
    channels: dict[str, ChannelReport] = field(default_factory=dict)
    pending: int = 0

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.channels.values())

    @property
    def errors(self) -> dict[str, str]:
        return {name: r.error for name, r in self.channels.items() if r.error}

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "pending": self.pending,
            "channels": {
                name: {
                    "delivered": r.delivered,
                    "messages": r.messages,
                    "error": r.error,
                    "retry_at": r.retry_at,
                }
                for name, r in sorted(self.channels.items())
            },
        }


class _RacedError(Exception):
    """The claim lost a race with another dispatcher; its transaction is rolled back."""


@dataclass(frozen=True)
class _Row:
    event: OutboxEvent
    digest_day: date | None


class Dispatcher:
    """Delivers pending outbox rows; safe to run from several processes at once."""

    def __init__(
        self,
        db: Database,
        config: NotifyConfig,
        home: Path,
        *,
        retry_base_s: float = 30.0,
        retry_max_s: float = 3600.0,
        claim_timeout_s: float = 300.0,
        batch: int = 50,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.home = home
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.claim_timeout_s = claim_timeout_s
        self.batch = batch
        self._clock = clock
        self._secrets = config.secrets()

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, config: NotifyConfig, **kwargs: Any
    ) -> Dispatcher:
        return cls(
            db,
            config,
            settings.home,
            retry_base_s=settings.notify.retry_base_s,
            retry_max_s=settings.notify.retry_max_s,
            claim_timeout_s=settings.notify.claim_timeout_s,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"Dispatcher({self.db.safe_url!r}, channels={sorted(self.config.channels)})"

    def backoff(self, attempts: int) -> timedelta:
        """Delay after the ``attempts``-th failed attempt: base, 2 x base, 4 x base, ... capped."""
        seconds = self.retry_base_s * 2 ** max(0, min(attempts - 1, 30))
        return timedelta(seconds=min(seconds, self.retry_max_s))

    def dispatch(
        self, *, force: bool = False, channels: Iterable[str] | None = None
    ) -> DispatchReport:
        """Deliver what is due. ``force`` ignores backoff delays and sends today's digests too."""
        try:
            return self._dispatch(force, channels)
        except sa.exc.SQLAlchemyError as exc:
            # Claimed rows stay claimed; they lapse after claim_timeout_s and are sent then.
            raise NotifyError(
                f"dispatching the outbox of {self.db.safe_url} failed: "
                f"{scrub(str(getattr(exc, 'orig', None) or exc), self._secrets)}"
            ) from None

    def _dispatch(self, force: bool, channels: Iterable[str] | None) -> DispatchReport:
        report = DispatchReport()
        wanted = set(channels) if channels is not None else None
        for name in self._channels_with_work():
            if wanted is not None and name not in wanted:
                continue
            report.channels[name] = self._dispatch_channel(name, force)
        with self.db.engine.connect() as conn:
            report.pending = int(
                conn.execute(
                    sa.select(sa.func.count()).where(_t.c.status.in_(("pending", "sending")))
                ).scalar_one()
            )
        return report

    def _channels_with_work(self) -> list[str]:
        query = sa.select(_t.c.channel).where(_t.c.status.in_(("pending", "sending"))).distinct()
        with self.db.engine.connect() as conn:
            return sorted(str(name) for name in conn.execute(query).scalars())

    def _dispatch_channel(self, name: str, force: bool) -> ChannelReport:
        report = ChannelReport(name)
        while True:
            token = str(uuid.uuid4())
            rows = self._claim(name, token, force)
            if not rows:
                return report
            spec = self.config.channel(name)
            groups = _groups(rows)
            if spec is None:
                error = f"channel {name} is not configured any more"
                report.error, report.retry_at = error, self._fail(groups, token, error)
                return report
            channel = build_channel(spec, self.home)
            for i, group in enumerate(groups):
                try:
                    channel.send(_message(group))
                except Exception as exc:
                    error = (
                        str(exc)
                        if isinstance(exc, DeliveryError)
                        else f"{type(exc).__name__}: {exc}"
                    )
                    error = scrub(error, self._secrets)
                    _log.warning("notification channel %s: %s", name, error)
                    report.error, report.retry_at = error, self._fail(groups[i:], token, error)
                    return report
                self._delivered(group, token)
                report.delivered += len(group)
                report.messages += 1

    def _claim(self, name: str, token: str, force: bool) -> list[_Row]:
        now = self._clock()
        try:
            with self.db.begin() as conn:
                if not self._claim_head(conn, name, token, now, force):
                    return []
        except _RacedError:
            return []  # someone claimed part of the head between our read and our write
        return self._claimed(token)

    def _claim_head(
        self, conn: sa.Connection, name: str, token: str, now: datetime, force: bool
    ) -> bool:
        lapsed = now - timedelta(seconds=self.claim_timeout_s)
        head = (
            sa.select(_t.c.id, _t.c.status, _t.c.next_attempt_at, _t.c.digest_day, _t.c.claimed_at)
            .where(_t.c.channel == name, _t.c.status.in_(("pending", "sending")))
            .order_by(_t.c.id)
            .limit(self.batch)
        )
        if self.db.dialect != "sqlite":
            head = head.with_for_update()
        ids: list[int] = []
        for row in conn.execute(head):
            if row.status == "sending" and row.claimed_at is not None and row.claimed_at > lapsed:
                break  # another dispatcher holds the head of this channel
            if not force and row.next_attempt_at > now:
                break  # backing off: the rows behind wait too, to keep the order
            if row.digest_day is not None and not force and row.digest_day >= now.date():
                break  # today's digest is not due before the day is over
            ids.append(int(row.id))
        if not ids:
            return False
        claimable = sa.or_(
            _t.c.status == "pending",
            sa.and_(_t.c.status == "sending", _t.c.claimed_at <= lapsed),
        )
        if not force:
            claimable = sa.and_(claimable, _t.c.next_attempt_at <= now)
        result = conn.execute(
            sa.update(_t)
            .where(_t.c.id.in_(ids), claimable)
            .values(status="sending", claim_token=token, claimed_at=now)
        )
        if result.rowcount != len(ids):
            raise _RacedError
        return True

    def _claimed(self, token: str) -> list[_Row]:
        query = sa.select(_t).where(_t.c.claim_token == token).order_by(_t.c.id)
        with self.db.engine.connect() as conn:
            return [
                _Row(
                    OutboxEvent(
                        id=int(r.id),
                        type=r.event_type,
                        severity=Severity(r.severity),
                        subject=r.subject,
                        body=r.body or {},
                        time=r.event_time,
                    ),
                    r.digest_day,
                )
                for r in conn.execute(query)
            ]

    def _delivered(self, group: Sequence[_Row], token: str) -> None:
        ids = [row.event.id for row in group]
        with self.db.begin() as conn:
            result = conn.execute(
                sa.update(_t)
                .where(_t.c.id.in_(ids), _t.c.claim_token == token)
                .values(
                    status="delivered",
                    delivered_at=self._clock(),
                    attempts=_t.c.attempts + 1,
                    last_error=None,
                    claim_token=None,
                )
            )
        if result.rowcount != len(ids):
            _log.warning("outbox rows %s were delivered after their claim lapsed", ids)

    def _fail(self, groups: Sequence[Sequence[_Row]], token: str, error: str) -> datetime:
        """Record a failed attempt on the first group; release the rest of the claim as it was."""
        failed = [row.event.id for row in groups[0]]
        rest = [row.event.id for group in groups[1:] for row in group]
        now = self._clock()
        with self.db.begin() as conn:
            attempts = int(
                conn.execute(
                    sa.select(sa.func.max(_t.c.attempts)).where(_t.c.id.in_(failed))
                ).scalar_one()
                or 0
            )
            retry_at = now + self.backoff(attempts + 1)
            conn.execute(
                sa.update(_t)
                .where(_t.c.id.in_(failed), _t.c.claim_token == token)
                .values(
                    status="pending",
                    attempts=_t.c.attempts + 1,
                    last_error=error[:4000],
                    next_attempt_at=retry_at,
                    claim_token=None,
                    claimed_at=None,
                )
            )
            if rest:
                conn.execute(
                    sa.update(_t)
                    .where(_t.c.id.in_(rest), _t.c.claim_token == token)
                    .values(status="pending", claim_token=None, claimed_at=None)
                )
        return retry_at


def _groups(rows: Sequence[_Row]) -> list[list[_Row]]:
    """One message per row, except digest rows: one message per channel and day."""
    groups: list[list[_Row]] = []
    for row in rows:
        if row.digest_day is not None and groups and groups[-1][0].digest_day == row.digest_day:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _message(group: Sequence[_Row]) -> Message:
    day = group[0].digest_day
    if day is None:
        return render_event(group[0].event)
    return render_digest(day, [row.event for row in group])
