"""Delivery through real receivers: e-mail over SMTP (aiosmtpd) and a JSON webhook (http.server)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from notify_servers import WEBHOOK_TOKEN, Clock, SmtpServer, WebhookServer
from pydantic import SecretStr

from truckflow.notify import Notifications, notify_outbox
from truckflow.notify.catalogue import drift_detected, pipeline_failed, pipeline_started
from truckflow.settings import Settings
from truckflow.store import Database

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def _open(settings: Settings, db: Database, clock: Clock, **channels: str) -> Notifications:
    routes = [{"events": ["*"], "min_severity": "info", "channels": sorted(channels)}]
    configured = settings.updated(
        notify={
            "channels": {name: SecretStr(url) for name, url in channels.items()},
            "routes": routes,
            "retry_base_s": 10.0,
            "retry_max_s": 80.0,
        }
    )
    return Notifications.open(configured, db, clock=clock)


def _rows(db: Database) -> list[dict[str, object]]:
    with db.engine.connect() as conn:
        query = sa.select(notify_outbox).order_by(notify_outbox.c.id)
        return [dict(r._mapping) for r in conn.execute(query)]


def test_email_arrives_with_subject_and_body(
    settings: Settings, db: Database, clock: Clock, smtp_server: SmtpServer
) -> None:
    notes = _open(settings, db, clock, ops=smtp_server.url())
    event = pipeline_failed(
        "training", "exec-42", step="evaluate", error="AUC 0.51 below 0.7", log="logs/exec-42.log"
    )
    notes.sink.emit(event)

    report = notes.dispatch()

    assert report.delivered == 1 and report.errors == {}
    [mail] = smtp_server.messages
    assert mail["Subject"] == "[truckflow ERROR] pipeline training failed at step evaluate"
    assert mail["To"] == "ops@example.com"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "step: evaluate" in text
    assert "error: AUC 0.51 below 0.7" in text
    assert "log: logs/exec-42.log" in text
    assert smtp_server.inbox.logins == [("alerts", "ok")]  # the password from settings was used
    [row] = _rows(db)
    assert row["status"] == "delivered" and row["attempts"] == 1


def test_webhook_receives_json_posts(
    settings: Settings, db: Database, clock: Clock, webhook: WebhookServer
) -> None:
    notes = _open(settings, db, clock, hook=webhook.url)
    notes.sink.emit(
        drift_detected({"distance": 0.41, "temp": 0.33}, threshold=0.2, report="r.html")
    )

    assert notes.dispatch().delivered == 1

    [payload] = webhook.received
    assert payload["title"] == "[truckflow WARNING] drift detected in 2 column(s): distance, temp"
    assert "report: r.html" in payload["message"]
    assert payload["type"] == "warning"
    assert webhook.paths == [f"/hooks/{WEBHOOK_TOKEN}"]


def test_smtp_outage_keeps_events_then_delivers_each_once_in_order(
    settings: Settings, db: Database, clock: Clock, smtp_server: SmtpServer
) -> None:
    notes = _open(settings, db, clock, ops=smtp_server.url())
    smtp_server.stop()
    for i in range(3):
        notes.sink.emit(pipeline_started(f"daily-{i}", f"exec-{i}"))

    first = notes.dispatch()
    assert first.delivered == 0 and "ops" in first.errors
    rows = _rows(db)
    assert [r["status"] for r in rows] == ["pending"] * 3
    # Only the head was tried: the rows behind it wait, to keep the order.
    assert [r["attempts"] for r in rows] == [1, 0, 0]
    assert rows[0]["last_error"] and "127.0.0.1" in str(rows[0]["last_error"])
    assert rows[0]["next_attempt_at"] == clock.now + timedelta(seconds=10)  # base delay

    # Still down, and the backoff has passed twice: attempts grow, nothing is lost.
    clock.advance(seconds=11)
    assert notes.dispatch().delivered == 0
    clock.advance(seconds=21)
    assert notes.dispatch().delivered == 0
    rows = _rows(db)
    assert [r["attempts"] for r in rows] == [3, 0, 0]
    assert rows[0]["next_attempt_at"] == clock.now + timedelta(seconds=40)  # doubled twice

    smtp_server.start()  # same port
    assert notes.dispatch().delivered == 0  # backing off (40 s after the third failure)
    clock.advance(seconds=41)
    assert notes.dispatch().delivered == 3
    assert notes.dispatch().delivered == 0  # nothing twice

    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects == [f"[truckflow INFO] pipeline daily-{i} started" for i in range(3)]
    assert {r["status"] for r in _rows(db)} == {"delivered"}


def test_a_failing_channel_blocks_only_itself(
    settings: Settings, db: Database, clock: Clock, webhook: WebhookServer, smtp_server: SmtpServer
) -> None:
    notes = _open(settings, db, clock, hook=webhook.url, ops=smtp_server.url())
    smtp_server.stop()
    for i in range(2):
        notes.sink.emit(pipeline_started(f"p{i}", f"e{i}"))

    report = notes.dispatch()

    assert report.channels["hook"].delivered == 2
    assert report.channels["ops"].delivered == 0 and report.channels["ops"].error
    assert [p["title"] for p in webhook.received] == [
        "[truckflow INFO] pipeline p0 started",
        "[truckflow INFO] pipeline p1 started",
    ]


def test_core_delivery_on_every_database(
    any_db: Database, tmp_path: Path, clock: Clock, webhook: WebhookServer
) -> None:
    """On SQLite, PostgreSQL and MySQL: outage, recovery, two dispatchers racing, once each."""
    settings = Settings(home=tmp_path / "home")
    notes = _open(settings, any_db, clock, hook=webhook.url)
    webhook.stop()
    for i in range(12):
        with any_db.begin() as conn:
            notes.sink.emit(pipeline_started(f"p{i:02d}", f"e{i}"), conn)
    assert notes.dispatch().delivered == 0
    head = _rows(any_db)[0]
    assert head["attempts"] == 1 and head["last_error"] and head["status"] == "pending"

    webhook.start()
    clock.advance(seconds=60)
    reports = []

    def run() -> None:
        reports.append(_open(settings, any_db, clock, hook=webhook.url).dispatch())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    notes.dispatch()  # whatever a racing dispatcher left behind

    titles = [p["title"] for p in webhook.received]
    assert titles == [f"[truckflow INFO] pipeline p{i:02d} started" for i in range(12)]
    assert {r["status"] for r in _rows(any_db)} == {"delivered"}
    assert sum(r.delivered for r in reports) <= 12
