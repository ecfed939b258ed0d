"""The bookkeeping tables of ingestion: quarantine rows, the ingest log, and known keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from truckflow.clock import utcnow
from truckflow.data.ingest.report import SourceReport
from truckflow.data.ingest.validate import QuarantineEntry
from truckflow.store import Database
from truckflow.store.tables import cities, ingest_log, quarantine, routes, trucks

__all__ = [
    "QuarantinedRow",
    "insert_ignoring_duplicates",
    "known_keys",
    "list_quarantine",
    "log_sources",
    "write_quarantine",
]


def insert_ignoring_duplicates(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]
) -> None:
    """Insert through SQLAlchemy (types and all), skipping rows that break a unique key."""
    if not rows:
        return
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    elif dialect == "mysql":
        stmt = mysql.insert(table).prefix_with("IGNORE")
    else:  # pragma: no cover - connect() only makes the three above
        raise ValueError(dialect)
    conn.execute(stmt, rows)


def write_quarantine(
    conn: sa.Connection, run_id: str, table: str, source: str, entries: Iterable[QuarantineEntry]
) -> None:
    rows = []
    for entry in entries:
        raw = json.dumps(entry.raw, sort_keys=True, default=str)
        rows.append(
            {
                "run_id": run_id,
                "table_name": table,
                "source_file": source,
                "line_no": entry.line_no,
                "row_hash": hashlib.sha256(raw.encode()).hexdigest(),
                "raw": raw,
                "reason": entry.reason,
            }
        )
    insert_ignoring_duplicates(conn, quarantine, rows)


def log_sources(
    conn: sa.Connection,
    run_id: str,
    started_at: datetime,
    until: date | None,
    sources: Iterable[SourceReport],
    *,
    status: str,
    error: str | None = None,
) -> None:
    rows = [
        {
            "run_id": run_id,
            "started_at": started_at,
            "finished_at": utcnow(),
            "source_file": src.source,
            "table_name": src.table,
            "until": until,
            "rows_read": src.read,
            "rows_inserted": src.inserted,
            "rows_present": src.already_present,
            "rows_quarantined": src.quarantined,
            "rows_conflicting": src.conflicting,
            "status": status,
            "error": error,
        }
        for src in sources
    ]
    if rows:
        conn.execute(ingest_log.insert(), rows)


def known_keys(conn: sa.Connection) -> dict[str, pd.Index[Any]]:
    """The keys that references may point at, as they are in the database now."""
    return {
        "trucks": pd.Index(
            conn.execute(sa.select(trucks.c.truck_id)).scalars().all(), dtype="float64"
        ),
        "routes": pd.Index(
            conn.execute(sa.select(routes.c.route_id)).scalars().all(), dtype=object
        ),
        "cities": pd.Index(conn.execute(sa.select(cities.c.city_id)).scalars().all(), dtype=object),
    }


@dataclass(frozen=True)
class QuarantinedRow:
    """A quarantined row as listed to people."""

    table: str
    source_file: str
    line_no: int
    reason: str
    raw: dict[str, Any]
    run_id: str
    created_at: datetime


def list_quarantine(
    db: Database, *, table: str | None = None, limit: int = 50
) -> list[QuarantinedRow]:
    """The most recent quarantined rows, optionally of one table."""
    query = sa.select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
    if table:
        query = query.where(quarantine.c.table_name == table)
    with db.engine.connect() as conn:
        found = conn.execute(query).mappings().all()
    return [
        QuarantinedRow(
            table=r["table_name"],
            source_file=r["source_file"],
            line_no=r["line_no"],
            reason=r["reason"],
            raw=json.loads(r["raw"]),
            run_id=r["run_id"],
            created_at=r["created_at"],
        )
        for r in found
    ]
