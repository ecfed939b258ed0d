"""Outbox cost: emitting through OutboxSink vs a bare insert, dispatching vs bare file appends.

    python benchmarks/notify_outbox.py [--events 500] [--repeat 3] [--db URL]

Prints medians over the repeats and the ratio to each baseline:
- emit: ``OutboxSink.emit`` for N events (routing, scrubbing, one row per channel, 2 channels)
  in one transaction, against a plain Core insert of the same rows in one transaction;
- dispatch: the dispatcher delivering those rows to the JSONL ``file`` channel (claims, one
  message per row, delivery marks), against appending the same messages with ``FileChannel``
  alone (no database).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from pydantic import SecretStr

from truckflow.notify import Notifications, notify_outbox
from truckflow.notify.catalogue import pipeline_started
from truckflow.notify.channels import FileChannel
from truckflow.notify.render import OutboxEvent, render_event
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade


def _fresh(url: str | None, home: Path) -> tuple[Settings, Database]:
    settings = Settings(home=home, database_url=SecretStr(url) if url else None)
    db = connect(settings)
    upgrade(db)
    with db.begin() as conn:
        conn.execute(notify_outbox.delete())
    return settings, db


def _configured(settings: Settings) -> Settings:
    return settings.updated(
        notify={
            "channels": {"copy": SecretStr("file://copy.jsonl")},
            "routes": [{"events": ["*"], "channels": ["file", "copy"]}],
        }
    )


def _one_round(url: str | None, n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings, db = _fresh(url, Path(tmp) / "home")
        notes = Notifications.open(_configured(settings), db)
        events = [pipeline_started(f"p{i}", f"e{i}") for i in range(n)]

        start = time.perf_counter()
        with db.begin() as conn:
            for event in events:
                notes.sink.emit(event, conn)
        emit_s = time.perf_counter() - start

        with db.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(sa.select(notify_outbox))]
        for row in rows:
            del row["id"]

        start = time.perf_counter()
        report = notes.dispatch()
        dispatch_s = time.perf_counter() - start
        assert report.delivered == 2 * n, report.to_dict()

        with db.begin() as conn:
            conn.execute(notify_outbox.delete())
        start = time.perf_counter()
        with db.begin() as conn:
            for row in rows:
                conn.execute(notify_outbox.insert().values(**row))
        insert_s = time.perf_counter() - start

        messages = [
            render_event(
                OutboxEvent(i, e.type, e.severity, e.subject, e.body, e.time.replace(tzinfo=None))
            )
            for i, e in enumerate(events)
        ]
        plain = FileChannel("plain", Path(tmp) / "plain.jsonl")
        start = time.perf_counter()
        for message in messages * 2:
            plain.send(message)
        append_s = time.perf_counter() - start
        db.dispose()
    return {"emit": emit_s, "insert": insert_s, "dispatch": dispatch_s, "append": append_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default=None, help="database URL (default SQLite in a temp home)")
    args = parser.parse_args()
    rounds = [_one_round(args.db, args.events) for _ in range(args.repeat)]
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    rows = 2 * args.events
    print(f"{args.events} events x 2 channels = {rows} outbox rows, median of {args.repeat}")
    print(f"emit via OutboxSink      {med['emit']:.3f} s  ({rows / med['emit']:,.0f} rows/s)")
    print(f"baseline: bare insert    {med['insert']:.3f} s  ({rows / med['insert']:,.0f} rows/s)")
    print(f"  ratio emit/insert      {med['emit'] / med['insert']:.2f}")
    print(
        f"dispatch to file         {med['dispatch']:.3f} s  ({rows / med['dispatch']:,.0f} msg/s)"
    )
    print(f"baseline: bare appends   {med['append']:.3f} s  ({rows / med['append']:,.0f} msg/s)")
    print(f"  ratio dispatch/append  {med['dispatch'] / med['append']:.2f}")


if __name__ == "__main__":
    main()
