"""The outbox: transactional emits, pipelines that survive broken channels, daily digests."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from notify_servers import Clock, WebhookServer, free_port
from pydantic import SecretStr

from truckflow.events import EventSink
from truckflow.notify import Notifications, NotifyError, OutboxSink, list_outbox
from truckflow.notify.catalogue import (
    metrics_daily,
    pipeline_failed,
    pipeline_started,
    pipeline_succeeded,
)
from truckflow.settings import Settings
from truckflow.store import Database, connect

# A stand-in for the engine's execution table: the state change an event reports.
_runs_metadata = sa.MetaData()
runs = sa.Table(
    "sim_pipeline_runs",
    _runs_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
)


def run_pipeline(db: Database, sink: EventSink, name: str, *, fail_inside: bool = False) -> str:
    """Record a run and emit its events in the same transactions, as the engine does."""
    with db.begin() as conn:
        run_id = conn.execute(
            runs.insert().values(pipeline=name, status="running")
        ).inserted_primary_key
        assert run_id is not None
        sink.emit(pipeline_started(name, str(run_id[0])), conn)
    with db.begin() as conn:
        conn.execute(runs.update().where(runs.c.id == run_id[0]).values(status="succeeded"))
        sink.emit(pipeline_succeeded(name, str(run_id[0]), duration_s=1.5), conn)
        if fail_inside:
            raise RuntimeError("the state change failed after the emit")
    return "succeeded"


def _settings(settings: Settings, channels: dict[str, str]) -> Settings:
    routes = [{"events": ["*"], "channels": sorted(channels)}]
    return settings.updated(
        notify={"channels": {k: SecretStr(v) for k, v in channels.items()}, "routes": routes}
    )


@pytest.fixture
def state_db(db: Database) -> Database:
    _runs_metadata.create_all(db.engine)
    return db


def test_notifications_sink_is_an_event_sink(settings: Settings, db: Database) -> None:
    assert isinstance(Notifications.open(settings, db).sink, EventSink)


def test_a_rolled_back_state_change_emits_nothing(settings: Settings, state_db: Database) -> None:
    notes = Notifications.open(settings, state_db)
    with pytest.raises(RuntimeError, match="state change failed"):
        run_pipeline(state_db, notes.sink, "training", fail_inside=True)

    rows = list_outbox(state_db)
    # The first transaction committed: its run row and its event exist; the second left nothing.
    assert [r["event_type"] for r in rows] == ["pipeline.started"]
    with state_db.engine.connect() as conn:
        assert conn.execute(sa.select(runs.c.status)).scalars().all() == ["running"]


def test_emit_without_connection_uses_its_own_transaction(settings: Settings, db: Database) -> None:
    notes = Notifications.open(settings, db)
    notes.sink.emit(pipeline_started("p", "e1"))
    assert [(r["channel"], r["status"]) for r in list_outbox(db)] == [("file", "pending")]


def test_pipeline_with_broken_channels_still_succeeds(
    settings: Settings, state_db: Database, clock: Clock
) -> None:
    configured = _settings(
        settings,
        {
            "down": f"mailto://u:pw123456@127.0.0.1:{free_port()}?to=a@example.com&mode=insecure",
            "bogus": "notascheme://whatever",
        },
    )
    # Inline delivery too: the failed attempts happen inside emit, and must not escape it.
    notes = Notifications.open(configured, state_db, inline=True, clock=clock)

    assert run_pipeline(state_db, notes.sink, "training") == "succeeded"
    notes.sink.emit(pipeline_failed("training", "x", step="fit", error="boom"))  # inline attempt

    with state_db.engine.connect() as conn:
        assert conn.execute(sa.select(runs.c.status)).scalars().all() == ["succeeded"]
    report = notes.dispatch(force=True)
    assert set(report.errors) == {"down", "bogus"}
    assert "apprise does not accept the URL" in report.errors["bogus"]
    rows = list_outbox(state_db)
    assert len(rows) == 6 and {r["status"] for r in rows} == {"pending"}


def test_daily_digest_sends_one_message_per_day(
    settings: Settings, db: Database, clock: Clock, webhook: WebhookServer
) -> None:
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    (home / "notify.toml").write_text(
        "[channels.daily]\n"
        'digest = "daily"\n'
        "[channels.now]\n"
        f'url = "{webhook.url}"\n'
        "[[routes]]\n"
        'events = ["metrics.*", "pipeline.*"]\n'
        'channels = ["daily", "now"]\n',
        encoding="utf-8",
    )
    configured = settings.updated(notify={"channels": {"daily": SecretStr(webhook.url)}})
    notes = Notifications.open(configured, db, clock=clock)
    yesterday = clock.now - timedelta(days=1)
    for i, event in enumerate(
        [
            metrics_daily("d1", {"mae": 3.5}),
            pipeline_started("p", "e"),
            metrics_daily("d2", {"mae": 3.1}),
        ]
    ):
        notes.sink.emit(dataclasses.replace(event, time=yesterday + timedelta(minutes=i)))
    notes.sink.emit(pipeline_started("today", "e2"))

    notes.dispatch()  # yesterday's digest is due, today's is not; "now" gets every event
    digests = [p for p in webhook.received if p["title"].startswith("[truckflow digest]")]
    assert len(digests) == 1
    assert digests[0]["title"].endswith(": 3 event(s) (3 info)")
    assert "metrics.daily: daily metrics for d1" in digests[0]["message"]
    assert "pipeline.started: pipeline p started" in digests[0]["message"]
    assert len(webhook.received) == 5  # 4 single messages + 1 digest

    clock.advance(days=1)
    notes.dispatch()
    digests = [p for p in webhook.received if p["title"].startswith("[truckflow digest]")]
    assert len(digests) == 2 and digests[1]["title"].endswith(": 1 event(s) (1 info)")
    assert {r["status"] for r in list_outbox(db)} == {"delivered"}


def test_default_channels_write_jsonl_in_the_home_and_log(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="truckflow.notify.channel")
    notes = Notifications.open(settings, db)
    notes.sink.emit(pipeline_failed("daily", "e9", step="ingest", error="bad row", log="l.txt"))
    assert notes.dispatch().delivered == 2  # file (info+) and log (warning+) by default
    [record] = [r for r in caplog.records if r.name == "truckflow.notify.channel"]
    assert record.levelno == logging.ERROR
    assert "pipeline daily failed at step ingest" in record.getMessage()
    [line] = (settings.home / "notifications.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["events"][0]["type"] == "pipeline.failed"
    assert record["events"][0]["body"] == {
        "pipeline": "daily",
        "execution_id": "e9",
        "step": "ingest",
        "error": "bad row",
        "log": "l.txt",
    }


def test_outbox_sink_repr_and_row_hold_channel_name_not_url(
    settings: Settings, db: Database
) -> None:
    configured = _settings(settings, {"hook": "json://127.0.0.1:9/h/tok-ABCDEFGH"})
    notes = Notifications.open(configured, db)
    assert isinstance(notes.sink, OutboxSink)
    notes.sink.emit(pipeline_started("p", "e"))
    [row] = list_outbox(db)
    assert row["channel"] == "hook"
    assert row["channel_url"] == "json://127.0.0.1:9/***"


def test_database_problems_are_named(settings: Settings, tmp_path: Path) -> None:
    bare = connect(f"sqlite:///{tmp_path / 'unmigrated.db'}")  # no outbox table
    notes = Notifications.open(settings, bare)
    with pytest.raises(NotifyError, match=r"cannot write event pipeline\.started to the outbox"):
        notes.sink.emit(pipeline_started("p", "e"))
    with pytest.raises(NotifyError, match=r"dispatching the outbox of sqlite:///.*unmigrated\.db"):
        notes.dispatch()
    bare.dispose()


def test_an_event_with_a_key_is_written_once_per_channel(settings: Settings, db: Database) -> None:
    notes = Notifications.open(settings, db)
    told_once = metrics_daily("2019-02-16", {"f1": 0.7}, model="3")
    assert told_once.key == "metrics.daily:2019-02-16"
    for _ in range(2):
        notes.sink.emit(told_once)
        notes.sink.emit(pipeline_failed("daily", "e9", step="ingest", error="bad row"))
    rows = list_outbox(db)
    keyed = [r for r in rows if r["event_type"] == "metrics.daily"]
    assert len(keyed) == len({r["channel"] for r in keyed}) >= 1  # once per channel
    # Events without a key are a log: each emission is written.
    assert len([r for r in rows if r["event_type"] == "pipeline.failed"]) == 2 * len(
        {r["channel"] for r in rows if r["event_type"] == "pipeline.failed"}
    )
