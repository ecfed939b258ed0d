"""Looking at what ingestion set aside: quarantine counts by reason, a CSV export, the conflicts,
and retrying the orphans outside an ingest."""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from truckflow.data.errors import IngestError
from truckflow.data.ingest.orphans import Released, retry_orphans
from truckflow.store import Database
from truckflow.store.tables import ingest_conflicts, quarantine

__all__ = [
    "ConflictRow",
    "QuarantineCount",
    "export_quarantine",
    "list_conflicts",
    "quarantine_counts",
    "retry_quarantine",
]

# Values in a reason (quoted text, numbers, dates) give way to "…": rows rejected for the same
# rule count together.
_VALUE = re.compile(r"'[^']*'|-?\d[\d,.:\- ]*\d|-?\d")


def reason_kind(reason: str) -> str:
    """The rule behind ``reason``, its values left out."""
    return _VALUE.sub("…", reason)


@dataclass(frozen=True)
class QuarantineCount:
    """How many rows of one table were quarantined for one kind of reason."""

    table: str
    reason: str
    rows: int


def quarantine_counts(db: Database) -> list[QuarantineCount]:
    """Quarantined rows per table and kind of reason, most first."""
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(quarantine.c.table_name, quarantine.c.reason)).all()
    counts = Counter((r.table_name, reason_kind(r.reason)) for r in rows)
    return [
        QuarantineCount(table, reason, n)
        for (table, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def export_quarantine(db: Database, path: Path, *, table: str | None = None) -> int:
    """Write every quarantined row (of ``table``) to ``path`` as CSV; returns how many."""
    query = sa.select(quarantine).order_by(quarantine.c.id)
    if table:
        query = query.where(quarantine.c.table_name == table)
    columns = ["table", "source_file", "line_no", "reason", "raw", "run_id", "created_at"]
    n = 0
    try:
        with db.engine.connect() as conn, Path(path).open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            for r in conn.execute(query).mappings():
                writer.writerow(
                    [
                        r["table_name"],
                        r["source_file"],
                        r["line_no"],
                        r["reason"],
                        r["raw"],
                        r["run_id"],
                        r["created_at"],
                    ]
                )
                n += 1
    except OSError as exc:
        raise IngestError(f"{path}: cannot write the export: {exc.strerror or exc}") from exc
    return n


def retry_quarantine(db: Database) -> Released:
    """Load the quarantined rows whose parents have come since (one transaction)."""
    with db.begin() as conn:
        return retry_orphans(conn, str(uuid.uuid4()))


@dataclass(frozen=True)
class ConflictRow:
    """A row not loaded because its key was taken by a row with other values."""

    table: str
    source_file: str
    line_no: int
    key: dict[str, Any]
    kept: dict[str, Any]
    kept_from: str
    rejected: dict[str, Any]
    run_id: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_conflicts(db: Database, *, table: str | None = None, limit: int = 50) -> list[ConflictRow]:
    """The most recent conflicts, optionally of one table."""
    query = sa.select(ingest_conflicts).order_by(ingest_conflicts.c.id.desc()).limit(limit)
    if table:
        query = query.where(ingest_conflicts.c.table_name == table)
    with db.engine.connect() as conn:
        found = conn.execute(query).mappings().all()
    return [
        ConflictRow(
            table=r["table_name"],
            source_file=r["source_file"],
            line_no=r["line_no"],
            key=json.loads(r["key"]),
            kept=json.loads(r["kept"]),
            kept_from=r["kept_from"],
            rejected=json.loads(r["rejected"]),
            run_id=r["run_id"],
        )
        for r in found
    ]
