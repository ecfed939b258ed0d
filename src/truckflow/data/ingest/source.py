"""One source of an ingest run (a file, or a named batch of frames), a piece at a time.

Each piece is cut to ``until``, validated against the keys known so far, checked against the
stored rows, and loaded; its counts add up to the source's one report. A file of several pieces
going into an empty PostgreSQL table is loaded with the table's key built after the last piece
(``deferred_key``); if that finds a key repeated across pieces, the file is read and loaded
again the ordinary way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.data.errors import IngestError
from truckflow.data.ingest.batch import Batch, as_objects
from truckflow.data.ingest.conflicts import Conflict, check_stored, write_conflicts
from truckflow.data.ingest.deferred_key import (
    KeyRepeatedError,
    can_build_key_after,
    key_built_after,
)
from truckflow.data.ingest.labels import fill_missing_labels
from truckflow.data.ingest.loader import insert_ignore, lock_for_load
from truckflow.data.ingest.records import write_quarantine
from truckflow.data.ingest.report import SourceReport
from truckflow.data.ingest.validate import Validated, validate

__all__ = ["ReadFailedError", "Source", "load_source"]

_log = logging.getLogger("truckflow.ingest")


@dataclass
class Source:
    """One file (or named batch of frames) on its way in: its batches, read as they are
    needed, so that a large file is held one piece at a time."""

    table: str
    name: str
    batches: Iterable[Batch]
    # The batches read again from the start (a file can be; frames handed in may not), and
    # whether they come in more than one piece: what a load with the key built after needs.
    again: Callable[[], Iterable[Batch]] | None = None
    several_pieces: bool = False


class ReadFailedError(Exception):
    """A source that could not be read part-way: the run fails as if it failed up front."""

    def __init__(self, source: Source, error: IngestError) -> None:
        super().__init__(str(error))
        self.source, self.error = source, error


def load_source(
    conn: sa.Connection,
    run_id: str,
    source: Source,
    known: dict[str, pd.Index[Any]],
    until: date | None,
) -> tuple[list[SourceReport], set[str]]:
    """Validate and load a source piece by piece; its counts summed into one report, and the
    reasons its quarantined rows failed."""
    again = source.again
    if again is not None and source.several_pieces and can_build_key_after(conn, source.table):
        try:
            with key_built_after(conn, source.table):
                loaded = _pieces(conn, run_id, source, source.batches, known, until, key_later=True)
            _log.debug(
                "%s: loaded into an empty %s, its key built after", source.name, source.table
            )
            return loaded
        except KeyRepeatedError:
            _log.info(
                "%s: a key repeats across its pieces; loading it again, key kept", source.name
            )
            return _pieces(conn, run_id, source, again(), known, until)
    return _pieces(conn, run_id, source, source.batches, known, until)


def _pieces(
    conn: sa.Connection,
    run_id: str,
    source: Source,
    batches: Iterable[Batch],
    known: dict[str, pd.Index[Any]],
    until: date | None,
    *,
    key_later: bool = False,
) -> tuple[list[SourceReport], set[str]]:
    total = SourceReport(table=source.table, source=source.name)
    extras: dict[str, SourceReport] = {}
    reasons: set[str] = set()
    cities: set[Any] = set()
    pieces = iter(batches)
    while (batch := _next_piece(source, pieces)) is not None:
        batch, withheld = _apply_until(batch, until)
        result = validate(batch, known)
        _add_known(known, result)
        piece = SourceReport(
            table=batch.spec.table,
            source=batch.source,
            read=result.read,
            quarantined=len(result.quarantined),
            beyond_until=batch.beyond_until,
            labels_withheld=withheld,
        )
        reasons |= {part for e in result.quarantined for part in e.reason.split("; ")}
        loaded, *extra = _load(conn, run_id, result, piece, cities, key_later=key_later)
        _sum_into(total, loaded)
        for more in extra:
            _sum_into(
                extras.setdefault(more.table, SourceReport(table=more.table, source=more.source)),
                more,
            )
    return [total, *extras.values()], reasons


def _next_piece(source: Source, pieces: Iterator[Batch]) -> Batch | None:
    """The source's next batch; a piece that cannot be read fails the run as that file's."""
    try:
        return next(pieces, None)
    except IngestError as exc:
        raise ReadFailedError(source, exc) from exc


def _apply_until(batch: Batch, until: date | None) -> tuple[Batch, int]:
    """Rows dated after ``until`` are left out; schedule labels not known by then are withheld."""
    if until is None:
        return batch, 0
    limit = np.datetime64(until) + np.timedelta64(1, "D")
    column = batch.spec.date_column
    if column is not None:
        stamps = batch.frame[column].to_numpy(dtype="datetime64[ns]")
        # Undated rows stay in: validation quarantines them.
        batch = batch.take(np.isnat(stamps) | (stamps < limit))
    withheld = 0
    if batch.spec.table == "truck_schedule":
        arrival = batch.frame["estimated_arrival"].to_numpy(dtype="datetime64[ns]")
        later = ~np.isnat(arrival) & (arrival >= limit)
        withheld = int((later & batch.frame["delay"].notna().to_numpy()).sum())
        batch.frame.loc[later, "delay"] = np.nan
    return batch, withheld


def _unique(values: pd.Series[Any]) -> pd.Index[Any]:
    return pd.Index(pd.unique(as_objects(values)))


def _add_known(known: dict[str, pd.Index[Any]], result: Validated) -> None:
    table = result.batch.spec.table
    good = result.good
    if table == "trucks":
        known["trucks"] = known["trucks"].union(pd.Index(good["truck_id"], dtype="float64"))
    elif table == "routes":
        known["routes"] = known["routes"].union(_unique(good["route_id"]))
    elif table == "city_weather":
        known["cities"] = known["cities"].union(_unique(good["city_id"]))


def _load(
    conn: sa.Connection,
    run_id: str,
    result: Validated,
    source: SourceReport,
    cities: set[Any],
    *,
    key_later: bool,
) -> list[SourceReport]:
    """Load a validated piece; ``cities``: the city ids earlier pieces of the source brought.
    ``key_later``: the table has no key during this load, and only this source's rows."""
    spec = result.batch.spec
    kinds = {c.name: c.kind for c in spec.columns}
    line_no = result.batch.line_no[result.positions]
    if key_later:
        # Nothing stored to collide with but the earlier pieces, which the key's build checks.
        conflicting, shared = np.zeros(len(result.good), dtype=bool), 0
        found: list[Conflict] = []
    else:
        # Locked before the look-up (PostgreSQL), so that what it finds stays true to the load.
        lock_for_load(conn, spec.table)
        conflicting, found, shared = check_stored(conn, spec, result.good, line_no)
    good = result.good.loc[~conflicting].reset_index(drop=True) if found else result.good
    inserted = insert_ignore(conn, spec.table, good, kinds, spec.key, fresh=shared == 0)
    conflicts = [*result.conflicts, *found]
    write_conflicts(conn, run_id, spec.table, source.source, conflicts)
    source.inserted = inserted
    source.conflicting = len(conflicts)
    source.already_present = len(good) - inserted + result.repeats
    if spec.table == "truck_schedule" and source.already_present and not key_later:
        # Trips loaded earlier with their label withheld (``until``) get it now; they still
        # count as already present.
        source.labels_filled = fill_missing_labels(conn, good)
    write_quarantine(conn, run_id, spec.table, source.source, result.quarantined)
    if spec.table != "city_weather":
        return [source]
    return [source, _new_cities(conn, source, result, cities)]


def _new_cities(
    conn: sa.Connection, source: SourceReport, result: Validated, seen: set[Any]
) -> SourceReport:
    """The cities a piece of city weather brings, each counted once per source."""
    new_ids = [c for c in _unique(result.good["city_id"]) if c not in seen]
    ids = pd.DataFrame({"city_id": new_ids})
    seen.update(ids["city_id"])
    new = insert_ignore(conn, "cities", ids, {"city_id": "str"})
    return SourceReport(
        table="cities",
        source=source.source,
        read=len(ids),
        inserted=new,
        already_present=len(ids) - new,
    )


def _sum_into(total: SourceReport, piece: SourceReport) -> None:
    total.add(piece)
    total.beyond_until += piece.beyond_until
    total.labels_withheld += piece.labels_withheld
    total.labels_filled += piece.labels_filled
