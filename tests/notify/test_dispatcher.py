"""Dispatchers side by side: a claimed channel is left alone, a dead dispatcher's claim lapses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from notify_servers import Clock, WebhookServer
from pydantic import SecretStr

from truckflow.notify import DispatchReport, Notifications, list_outbox
from truckflow.notify.catalogue import pipeline_started
from truckflow.settings import Settings
from truckflow.store import Database

_CHILD = (
    "from truckflow.settings import Settings\n"
    "from truckflow.notify import Notifications\n"
    "Notifications.open(Settings()).dispatch()\n"
)


def _configured(settings: Settings, url: str) -> Settings:
    return settings.updated(
        notify={
            "channels": {"hook": SecretStr(url)},
            "routes": [{"events": ["*"], "channels": ["hook"]}],
        }
    )


def _titles(webhook: WebhookServer) -> list[str]:
    return [p["title"] for p in webhook.received]


def test_a_channel_being_sent_is_left_alone_by_another_dispatcher(
    settings: Settings, db: Database, clock: Clock, webhook: WebhookServer
) -> None:
    configured = _configured(settings, webhook.url)
    notes = Notifications.open(configured, db, clock=clock)
    for i in range(3):
        notes.sink.emit(pipeline_started(f"p{i}", f"e{i}"))
    webhook.hold = threading.Event()
    reports: list[DispatchReport] = []
    first = threading.Thread(target=lambda: reports.append(notes.dispatch()))
    first.start()
    try:
        assert webhook.arrived.wait(timeout=30)  # the first dispatcher is inside a send
        other = Notifications.open(configured, db, clock=clock).dispatch()
        assert other.delivered == 0 and other.channels["hook"].messages == 0
        assert [r["status"] for r in list_outbox(db)] == ["sending"] * 3
    finally:
        webhook.hold.set()
        first.join(timeout=60)
    assert reports[0].delivered == 3
    assert _titles(webhook) == [f"[truckflow INFO] pipeline p{i} started" for i in range(3)]


def test_a_dead_dispatchers_claim_lapses_and_nothing_is_lost(
    settings: Settings, db: Database, clock: Clock, webhook: WebhookServer
) -> None:
    configured = _configured(settings, webhook.url)
    notes = Notifications.open(configured, db, clock=clock)
    for i in range(2):
        notes.sink.emit(pipeline_started(f"p{i}", f"e{i}"))
    webhook.hold, webhook.drop_held = threading.Event(), True
    env = {
        **os.environ,
        "TRUCKFLOW_HOME": str(settings.home),
        "TRUCKFLOW_NOTIFY__CHANNELS": json.dumps({"hook": webhook.url}),
        "TRUCKFLOW_NOTIFY__ROUTES": json.dumps(configured.notify.routes),
    }
    child = subprocess.Popen([sys.executable, "-c", _CHILD], env=env)
    try:
        assert webhook.arrived.wait(timeout=60)
    finally:
        child.kill()  # dies in the middle of its first send
        child.wait()
        webhook.hold.set()
    webhook.hold = None
    assert [r["status"] for r in list_outbox(db)] == ["sending", "sending"]

    assert notes.dispatch().delivered == 0  # the claim is still fresh: maybe it is only slow
    clock.advance(seconds=configured.notify.claim_timeout_s + 120)
    assert notes.dispatch().delivered == 2
    assert _titles(webhook) == [
        "[truckflow INFO] pipeline p0 started",
        "[truckflow INFO] pipeline p1 started",
    ]
    assert {r["status"] for r in list_outbox(db)} == {"delivered"}
