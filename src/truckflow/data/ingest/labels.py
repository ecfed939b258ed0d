"""Ground truth that arrives after the trips: setting ``delay`` on schedule rows already loaded.

The labels go through the same validation and quarantine as any ingest; a label for a trip
that is not in the database is quarantined. Idempotent: a label already set is left alone.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.data.course_format import ColumnSpec, TableSpec
from truckflow.data.ingest.batch import batch_from_frame, raw_records
from truckflow.data.ingest.records import log_sources, write_quarantine
from truckflow.data.ingest.report import IngestReport, SourceReport
from truckflow.data.ingest.validate import QuarantineEntry, validate
from truckflow.store import Database
from truckflow.store.tables import truck_schedule

__all__ = ["LABELS", "apply_ground_truth", "fill_missing_labels"]

LABELS = TableSpec(
    table="truck_schedule",
    files=(),
    columns=(
        ColumnSpec("truck_id", "int", minimum=1),
        ColumnSpec("departure_date", "datetime"),
        ColumnSpec("delay", "int", allowed=frozenset({0.0, 1.0})),
    ),
    key=("truck_id", "departure_date"),
)


def _existing(conn: sa.Connection, good: pd.DataFrame) -> pd.DataFrame:
    """The schedule rows of the trucks and departure window the labels are about."""
    ts = truck_schedule.c
    query = sa.select(ts.truck_id, ts.departure_date, ts.delay).where(
        ts.departure_date >= good["departure_date"].min().to_pydatetime(),
        ts.departure_date <= good["departure_date"].max().to_pydatetime(),
    )
    found = pd.DataFrame(
        conn.execute(query).all(), columns=["truck_id", "departure_date", "current"]
    )
    found["truck_id"] = found["truck_id"].astype("float64")
    found["departure_date"] = pd.to_datetime(found["departure_date"]).astype("datetime64[ns]")
    return found


def apply_ground_truth(db: Database, labels: pd.DataFrame, *, source: str) -> IngestReport:
    """Set ``delay`` of existing trips from ``labels`` (truck_id, departure_date, delay).

    In the report, ``inserted`` counts labels set or changed, ``already_present`` labels that
    were already so, ``quarantined`` invalid labels and labels of unknown trips."""
    run_id = str(uuid.uuid4())
    started_at = utcnow()
    batch = batch_from_frame(LABELS, labels, source)
    result = validate(batch, {})
    entries = list(result.quarantined)
    src = SourceReport(table="truck_schedule", source=source, read=result.read)
    with db.begin() as conn:
        good = result.good.assign(position=result.positions)
        if not good.empty:
            merged = good.merge(
                _existing(conn, good), on=["truck_id", "departure_date"], how="left", indicator=True
            )
            missing = merged["_merge"].to_numpy() == "left_only"
            positions = merged.loc[missing, "position"].to_numpy(dtype=np.int64)
            for pos, raw in zip(positions.tolist(), raw_records(batch, positions), strict=True):
                entries.append(
                    QuarantineEntry(
                        int(batch.line_no[pos]),
                        raw,
                        "no such trip (truck_id, departure_date) in truck_schedule",
                    )
                )
            found = merged.loc[~missing]
            change = found.loc[found["current"].isna() | (found["current"] != found["delay"])]
            _update(conn, change)
            src.inserted = len(change)
            src.already_present = len(found) - len(change)
        src.quarantined = len(entries)
        write_quarantine(conn, run_id, "truck_schedule", source, entries)
        report = IngestReport(run_id=run_id, sources=[src])
        report.check()
        log_sources(conn, run_id, started_at, None, report.sources, status="ok")
    return report


def fill_missing_labels(conn: sa.Connection, rows: pd.DataFrame) -> int:
    """Set ``delay`` from ``rows`` on trips stored without one (withheld by an earlier
    ``until``); a label already stored is left alone. Returns how many were filled."""
    known = rows.loc[rows["delay"].notna(), ["truck_id", "departure_date", "delay"]]
    return _update(conn, known, only_missing=True)


def _update(conn: sa.Connection, change: pd.DataFrame, *, only_missing: bool = False) -> int:
    if change.empty:
        return 0
    ts = truck_schedule.c
    where = [ts.truck_id == sa.bindparam("k_truck"), ts.departure_date == sa.bindparam("k_dep")]
    if only_missing:
        where.append(ts.delay.is_(None))
    stmt = truck_schedule.update().where(*where).values(delay=sa.bindparam("v_delay"))
    rows: list[dict[str, Any]] = [
        {"k_truck": int(t), "k_dep": d.to_pydatetime(), "v_delay": int(v)}
        for t, d, v in zip(
            change["truck_id"], change["departure_date"], change["delay"], strict=True
        )
    ]
    return int(conn.execute(stmt, rows).rowcount)
