"""One object for callers: the sink to emit to, the dispatcher to run after, the outbox to read."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from truckflow.clock import utcnow
from truckflow.notify.catalogue import notify_test
from truckflow.notify.config import ChannelSpec, NotifyConfig, load_config
from truckflow.notify.dispatcher import Dispatcher, DispatchReport
from truckflow.notify.outbox import OutboxSink, abandon, list_outbox
from truckflow.settings import Settings
from truckflow.store import Database, connect

__all__ = ["Notifications", "SendTestResult"]


@dataclass(frozen=True)
class SendTestResult:
    """What ``send_test`` did: the outbox rows, the channels (URLs redacted when shown), the
    delivery report, and whether every row was delivered."""

    outbox_ids: list[int]
    channels: list[ChannelSpec]
    report: DispatchReport
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "outbox_ids": self.outbox_ids,
            "channels": [s.public() for s in self.channels],
            "report": self.report.to_dict(),
            "ok": self.ok,
        }


@dataclass
class Notifications:
    """The notification subsystem wired from settings.

    ``inline=True`` makes emits that run in a transaction of their own try to deliver at once
    (best effort: a failure stays in the outbox for the next ``dispatch``).
    """

    db: Database
    config: NotifyConfig
    sink: OutboxSink
    dispatcher: Dispatcher

    @classmethod
    def open(
        cls,
        settings: Settings,
        db: Database | None = None,
        *,
        config: NotifyConfig | None = None,
        inline: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> Notifications:
        database = db if db is not None else connect(settings)
        rules = config if config is not None else load_config(settings)
        dispatcher = Dispatcher.from_settings(settings, database, rules, clock=clock)

        def deliver_now(channels: list[str]) -> None:
            dispatcher.dispatch(channels=channels)

        sink = OutboxSink(
            database, rules, clock=clock, after_commit=deliver_now if inline else None
        )
        return cls(database, rules, sink, dispatcher)

    def dispatch(self, *, force: bool = False) -> DispatchReport:
        return self.dispatcher.dispatch(force=force)

    def outbox(self, *, pending_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
        return list_outbox(self.db, pending_only=pending_only, limit=limit)

    def send_test(self, url: SecretStr | None = None) -> SendTestResult:
        """Send a test event through the outbox and dispatch it at once.

        With ``url``, only to that one-off channel (named ``test-<hash>``; its row is marked
        failed if it does not go through, since no later run could resolve the URL); without,
        to every configured channel.
        """
        if url is None:
            specs = list(self.config.channels.values())
            config = self.config
        else:
            digest = hashlib.sha256(url.get_secret_value().encode()).hexdigest()[:8]
            spec = ChannelSpec(name=f"test-{digest}", url=url)
            specs, config = [spec], self.config.with_channel(spec)
        sink = OutboxSink(self.db, config)
        ids = sink.enqueue(notify_test(), channels=specs)
        dispatcher = Dispatcher(
            self.db,
            config,
            self.dispatcher.home,
            retry_base_s=self.dispatcher.retry_base_s,
            retry_max_s=self.dispatcher.retry_max_s,
            claim_timeout_s=self.dispatcher.claim_timeout_s,
        )
        report = dispatcher.dispatch(channels=[s.name for s in specs], force=True)
        rows = list_outbox(self.db, ids=ids, limit=len(ids))
        delivered = [row for row in rows if row["status"] == "delivered"]
        if url is not None and len(delivered) < len(ids):
            reason = next(iter(report.errors.values()), "not delivered by the test run")
            abandon(self.db, ids, reason)
        # Delivered, not merely free of errors: another dispatcher may hold a channel.
        return SendTestResult(ids, specs, report, ok=len(delivered) == len(ids))
