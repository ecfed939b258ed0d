"""Rows already in memory (the streaming simulation's daily batch) and labels that come later."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from truckflow.data import IngestError
from truckflow.data.ingest import apply_ground_truth, ingest_directory, ingest_frames
from truckflow.notify import Notifications
from truckflow.notify.tables import notify_outbox as outbox
from truckflow.settings import Settings
from truckflow.store import Database


def _schedule(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "truck_schedule_table.csv", dtype=str)


def test_ingest_frames_validates_and_is_idempotent(
    any_db: Database, small_sample: Path, settings: Settings
) -> None:
    schedule = _schedule(small_sample)
    (small_sample / "truck_schedule_table.csv").unlink()
    ingest_directory(any_db, small_sample)
    day = schedule[schedule["departure_date"].str.startswith("2019-01-07")].head(50).copy()
    day.loc[day.index[3], "route_id"] = "R-nowhere"
    day = pd.concat([day, day.iloc[[10]]], ignore_index=True)  # the same trip sent twice

    sink = Notifications.open(settings, any_db).sink
    first = ingest_frames(any_db, {"truck_schedule": day}, source="stream-2019-01-07", sink=sink)
    # The rejected row is told: data_quality.failed, written with the quarantine.
    with any_db.engine.connect() as conn:
        told = conn.execute(
            sa.select(outbox.c.severity, outbox.c.body).where(
                outbox.c.event_type == "data_quality.failed", outbox.c.channel == "file"
            )
        ).all()
    assert [(r.severity, r.body) for r in told] == [
        (
            "warning",
            {
                "table": "truck_schedule",
                "source": "stream-2019-01-07",
                "rows_checked": 29,  # the 28 trips of 01-07, one sent twice
                "rows_failed": 1,
                "rows_quarantined": 1,
                "failed_checks": ["route_id: 'R-nowhere' not in routes"],
                "quarantine": "truckflow data quarantine --table truck_schedule",
            },
        )
    ]
    again = ingest_frames(any_db, {"truck_schedule": day}, source="stream-2019-01-07")

    # The trip sent twice is the same row twice: already present, not a fault.
    (src,) = first.sources
    counts = (src.read, src.inserted, src.already_present, src.conflicting, src.quarantined)
    assert counts == (29, 27, 1, 0, 1)  # the sample has 28 trips that day
    (src,) = again.sources
    counts = (src.read, src.inserted, src.already_present, src.conflicting, src.quarantined)
    assert counts == (29, 0, 28, 0, 1)
    with any_db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT line_no, reason, source_file FROM quarantine"
                " WHERE table_name = 'truck_schedule' ORDER BY line_no"
            )
        ).all()
        stored = conn.execute(sa.text("SELECT count(*) FROM truck_schedule")).scalar_one()
    assert [tuple(r) for r in rows] == [
        (4, "route_id: 'R-nowhere' not in routes", "stream-2019-01-07"),
    ]
    assert stored == 27


def test_ingest_frames_rejects_unknown_tables_and_missing_columns(db: Database) -> None:
    with pytest.raises(IngestError, match="unknown table"):
        ingest_frames(db, {"lorries": pd.DataFrame()}, source="x")
    with pytest.raises(IngestError, match="accident"):
        ingest_frames(
            db, {"traffic": pd.DataFrame({"route_id": ["R-1"], "date": ["2019-01-01"]})}, source="x"
        )


def test_ground_truth_fills_withheld_labels(any_db: Database, small_sample: Path) -> None:
    ingest_directory(any_db, small_sample, until=dt.date(2019, 1, 1))
    schedule = _schedule(small_sample)
    first_day = schedule[schedule["departure_date"].str.startswith("2019-01-01")]
    labels = first_day[["truck_id", "departure_date", "delay"]].copy()
    extra = pd.DataFrame(
        {
            "truck_id": ["10048865", labels["truck_id"].iloc[0]],
            "departure_date": ["2019-02-01 07:00:00", labels["departure_date"].iloc[0]],
            "delay": ["1", "2"],
        }
    )
    labels = pd.concat([labels, extra], ignore_index=True)
    with any_db.engine.connect() as conn:
        withheld = conn.execute(
            sa.text("SELECT count(*) FROM truck_schedule WHERE delay IS NULL")
        ).scalar_one()
    assert withheld > 0

    report = apply_ground_truth(any_db, labels, source="labels-2019-01-02")
    again = apply_ground_truth(any_db, labels, source="labels-2019-01-02")

    (src,) = report.sources
    assert (src.read, src.inserted, src.already_present, src.quarantined) == (
        len(labels),
        withheld,
        len(first_day) - withheld,
        2,
    )
    (src,) = again.sources
    assert (src.inserted, src.already_present, src.quarantined) == (0, len(first_day), 2)
    with any_db.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT truck_id, delay FROM truck_schedule ORDER BY truck_id")
        ).all()
        reasons = (
            conn.execute(
                sa.text(
                    "SELECT reason FROM quarantine WHERE source_file = 'labels-2019-01-02'"
                    " ORDER BY line_no"
                )
            )
            .scalars()
            .all()
        )
    expected = sorted(
        zip(first_day["truck_id"].astype(int), first_day["delay"].astype(int), strict=True)
    )
    assert sorted((int(t), int(d)) for t, d in stored) == expected
    assert reasons == [
        "no such trip (truck_id, departure_date) in truck_schedule",
        "delay: 2 not one of 0, 1",
    ]
