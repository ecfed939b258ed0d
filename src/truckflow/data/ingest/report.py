"""What an ingest did, per source and per table:
read = inserted + already present + conflicting + quarantined."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from truckflow.data.errors import IngestError

__all__ = ["IngestReport", "SourceReport", "TableCounts"]


@dataclass
class TableCounts:
    """Row counts; ``read`` counts the rows considered (those dated after ``until`` are not)."""

    read: int = 0
    inserted: int = 0
    already_present: int = 0
    conflicting: int = 0  # same key as a kept row, other values: recorded in ingest_conflicts
    quarantined: int = 0

    def check(self, what: str) -> None:
        """The accounting invariant: every row read is inserted, already there, conflicting
        or quarantined."""
        if self.read != (
            self.inserted + self.already_present + self.conflicting + self.quarantined
        ):
            raise IngestError(
                f"{what}: counts do not add up: read {self.read} != inserted {self.inserted}"
                f" + already present {self.already_present} + conflicting {self.conflicting}"
                f" + quarantined {self.quarantined}"
            )

    def add(self, other: TableCounts) -> None:
        self.read += other.read
        self.inserted += other.inserted
        self.already_present += other.already_present
        self.conflicting += other.conflicting
        self.quarantined += other.quarantined


@dataclass
class SourceReport(TableCounts):
    """The counts of one source (a file, or a named batch of frames) for one table."""

    table: str = ""
    source: str = ""
    beyond_until: int = 0  # rows dated after ``until``: not read this time
    labels_withheld: int = 0  # schedule rows loaded with ``delay`` NULL because of ``until``
    labels_filled: int = 0  # schedule rows already present whose withheld ``delay`` was set


@dataclass
class IngestReport:
    """The outcome of one ingest run."""

    run_id: str
    until: date | None = None
    sources: list[SourceReport] = field(default_factory=list)
    # Orphans (rows quarantined for an unknown parent) tried again, and loaded, per table.
    orphans_retried: dict[str, int] = field(default_factory=dict)
    orphans_loaded: dict[str, int] = field(default_factory=dict)

    def tables(self) -> dict[str, TableCounts]:
        """Counts per table, summed over its sources (historical and streaming files)."""
        out: dict[str, TableCounts] = {}
        for src in self.sources:
            out.setdefault(src.table, TableCounts()).add(src)
        return out

    def total(self) -> TableCounts:
        out = TableCounts()
        for src in self.sources:
            out.add(src)
        return out

    def check(self) -> None:
        for src in self.sources:
            src.check(f"{src.source} -> {src.table}")
        for table, counts in self.tables().items():
            counts.check(table)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "until": self.until.isoformat() if self.until else None,
            "sources": [asdict(s) for s in self.sources],
            "tables": {t: asdict(c) for t, c in self.tables().items()},
            "total": asdict(self.total()),
            "orphans": {"retried": self.orphans_retried, "loaded": self.orphans_loaded},
        }
