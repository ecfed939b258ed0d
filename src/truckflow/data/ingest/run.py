"""One ingest run: every file read, validated and loaded in one transaction.

Files are taken in load order, each a piece of whole lines at a time (``CHUNK_BYTES``), so the
memory of a run depends on the piece size, not on the files. The load is a single transaction:
a file that cannot be parsed (its first piece or a later one), or a failure half-way through
the load, leaves the tables as they were. The run is recorded in ``ingest_log`` either way (a
failed run in a transaction of its own, after the rollback).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.data.course_format import LOAD_ORDER, TABLE_SPECS, TableSpec
from truckflow.data.errors import IngestError
from truckflow.data.ingest.batch import Batch, as_objects, rows_pieces
from truckflow.data.ingest.conflicts import check_stored, write_conflicts
from truckflow.data.ingest.labels import fill_missing_labels
from truckflow.data.ingest.lines import DEFAULT_MAX_FIELD_BYTES
from truckflow.data.ingest.loader import insert_ignore, lock_for_load
from truckflow.data.ingest.orphans import missing_parents, refuse_missing, retry_orphans
from truckflow.data.ingest.reader import CHUNK_BYTES, read_course_chunks
from truckflow.data.ingest.records import known_keys, log_sources, write_quarantine
from truckflow.data.ingest.report import IngestReport, SourceReport
from truckflow.data.ingest.validate import Validated, validate
from truckflow.events import EventSink
from truckflow.notify.catalogue import data_quality_failed
from truckflow.store import Database

__all__ = ["Progress", "course_files", "ingest_directory", "ingest_frames"]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(description, steps_done, steps_total)``."""


def course_files(directory: Path, *, historical_only: bool = False) -> list[tuple[TableSpec, Path]]:
    """The course files present in ``directory``, in load order (historical before streaming).

    ``historical_only`` leaves out the ``streaming_*`` files: the streaming simulation sends
    those day by day."""
    found: list[tuple[TableSpec, Path]] = []
    for table in LOAD_ORDER:
        spec = TABLE_SPECS[table]
        names = [n for n in spec.files if not (historical_only and n.startswith("streaming_"))]
        found.extend((spec, directory / name) for name in names if (directory / name).is_file())
    return found


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
    cities: set[Any] | None = None,
) -> list[SourceReport]:
    """Load a validated piece; ``cities``: the city ids earlier pieces of the source brought."""
    spec = result.batch.spec
    kinds = {c.name: c.kind for c in spec.columns}
    line_no = result.batch.line_no[result.positions]
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
    if spec.table == "truck_schedule" and source.already_present:
        # Trips loaded earlier with their label withheld (``until``) get it now; they still
        # count as already present.
        source.labels_filled = fill_missing_labels(conn, good)
    write_quarantine(conn, run_id, spec.table, source.source, result.quarantined)
    extra = []
    if spec.table == "city_weather":
        seen = set() if cities is None else cities  # counted once per source
        new_ids = [c for c in _unique(result.good["city_id"]) if c not in seen]
        ids = pd.DataFrame({"city_id": new_ids})
        seen.update(ids["city_id"])
        new = insert_ignore(conn, "cities", ids, {"city_id": "str"})
        extra.append(
            SourceReport(
                table="cities",
                source=source.source,
                read=len(ids),
                inserted=new,
                already_present=len(ids) - new,
            )
        )
    return [source, *extra]


def _tell_quality(
    conn: sa.Connection,
    sink: EventSink | None,
    told: list[tuple[SourceReport, set[str]]],
) -> None:
    """One ``data_quality.failed`` per source whose rows failed validation, written with the
    load (the outbox row commits with the quarantine, or neither does)."""
    if sink is None:
        return
    for source, reasons in told:
        if not source.quarantined:
            continue
        sink.emit(
            data_quality_failed(
                source.table,
                rows_checked=source.read,
                rows_failed=source.quarantined,
                rows_quarantined=source.quarantined,
                failed_checks=sorted(reasons)[:20],
                source=source.source,
                quarantine=f"truckflow data quarantine --table {source.table}",
            ),
            conn,
        )


@dataclass
class _Source:
    """One file (or named batch of frames) on its way in: its batches, read as they are
    needed, so that a large file is held one piece at a time."""

    table: str
    name: str
    batches: Iterable[Batch]


def _one_source(
    conn: sa.Connection,
    run_id: str,
    source: _Source,
    known: dict[str, pd.Index[Any]],
    until: date | None,
) -> tuple[list[SourceReport], set[str]]:
    """Validate and load a source piece by piece; its counts summed into one report."""
    total = SourceReport(table=source.table, source=source.name)
    extras: dict[str, SourceReport] = {}
    reasons: set[str] = set()
    cities: set[Any] = set()
    pieces = iter(source.batches)
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
        loaded, *extra = _load(conn, run_id, result, piece, cities)
        _sum_into(total, loaded)
        for more in extra:
            _sum_into(
                extras.setdefault(more.table, SourceReport(table=more.table, source=more.source)),
                more,
            )
    return [total, *extras.values()], reasons


def _next_piece(source: _Source, pieces: Iterator[Batch]) -> Batch | None:
    """The source's next batch; a piece that cannot be read fails the run as that file's."""
    try:
        return next(pieces, None)
    except IngestError as exc:
        raise _ReadFailedError(source, exc) from exc


def _sum_into(total: SourceReport, piece: SourceReport) -> None:
    total.add(piece)
    total.beyond_until += piece.beyond_until
    total.labels_withheld += piece.labels_withheld
    total.labels_filled += piece.labels_filled


class _ReadFailedError(Exception):
    """A source that could not be read part-way: the run fails as if it failed up front."""

    def __init__(self, source: _Source, error: IngestError) -> None:
        super().__init__(str(error))
        self.source, self.error = source, error


def _run(
    db: Database,
    sources: list[_Source],
    *,
    until: date | None,
    progress: Progress | None,
    started_at: datetime,
    run_id: str,
    sink: EventSink | None = None,
) -> IngestReport:
    total = len(sources) + 1
    report = IngestReport(run_id=run_id, until=until)
    try:
        with db.begin() as conn:
            known = known_keys(conn)
            told: list[tuple[SourceReport, set[str]]] = []
            for done, source in enumerate(sources):
                if progress:
                    progress(f"read, validate and load {source.name}", done, total)
                reports, reasons = _one_source(conn, run_id, source, known, until)
                report.sources.extend(reports)
                told.append((reports[0], reasons))
            released = retry_orphans(conn, run_id)
            report.orphans_retried, report.orphans_loaded = released.retried, released.loaded
            report.check()
            log_sources(conn, run_id, started_at, until, report.sources, status="ok")
            _tell_quality(conn, sink, told)
    except _ReadFailedError as failed:
        # As when a file fails before the run: the run is logged as that file's failure.
        _log_failure(
            db, run_id, started_at, until, [failed.source.table], [failed.source.name], str(failed)
        )
        raise failed.error from None
    except (sa.exc.SQLAlchemyError, IngestError, OSError, ValueError, _dbapi_error(db)) as exc:
        message = str(exc) if isinstance(exc, IngestError) else f"{type(exc).__name__}: {exc}"
        _log_failure(
            db,
            run_id,
            started_at,
            until,
            [s.table for s in sources],
            [s.name for s in sources],
            message,
        )
        raise IngestError(f"ingest run {run_id} failed and was rolled back: {message}") from exc
    if progress:
        progress("done", total, total)
    return report


def _dbapi_error(db: Database) -> type[Exception]:
    """The driver's own base error: the bulk paths talk to the driver directly."""
    dbapi = db.engine.dialect.dbapi
    error = getattr(dbapi, "Error", None)
    return error if isinstance(error, type) and issubclass(error, Exception) else sa.exc.DBAPIError


def _log_failure(
    db: Database,
    run_id: str,
    started_at: datetime,
    until: date | None,
    tables: list[str],
    sources: list[str],
    message: str,
) -> None:
    failed = [SourceReport(table=t, source=s) for t, s in zip(tables, sources, strict=True)]
    try:
        with db.begin() as conn:
            log_sources(conn, run_id, started_at, until, failed, status="failed", error=message)
    except sa.exc.SQLAlchemyError:  # the database itself is what failed; the error says so
        pass


def ingest_directory(
    db: Database,
    directory: Path,
    *,
    until: date | None = None,
    historical_only: bool = False,
    partial: bool = False,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Progress | None = None,
    sink: EventSink | None = None,
) -> IngestReport:
    """Ingest the course files found in ``directory`` (historical and streaming, or only the
    historical ones).

    A table that others refer to, missing from the folder and from the database, stops the run
    before anything is read, unless ``partial``: then the rows that refer to it are quarantined
    and load on a later ingest, once it is there. A line with a field over ``max_field_bytes``
    is quarantined. Rows that fail validation are told to ``sink`` (``data_quality.failed``).
    A file over ``chunk_bytes`` is read, validated and loaded a piece of whole lines at a time
    (in the run's one transaction), so memory depends on ``chunk_bytes``, not on the files."""
    run_id = str(uuid.uuid4())
    started_at = utcnow()
    directory = Path(directory)
    if not directory.is_dir():
        raise IngestError(f"{directory.name or directory}: not a folder")
    files = course_files(directory, historical_only=historical_only)
    if not files:
        raise IngestError(
            f"{directory.name}: no course files in the folder",
            hint="expected names such as trucks_table.csv, truck_schedule_table.csv",
        )
    if not partial:
        with db.engine.connect() as conn:
            known = known_keys(conn)
        refuse_missing(missing_parents({s.table for s, _ in files}, known), directory.name)
    # Read as they are loaded, a piece at a time: a file that is not course CSV fails the run
    # when its turn comes, and the one transaction leaves the tables as they were.
    sources = [
        _Source(
            spec.table,
            path.name,
            read_course_chunks(
                path, spec, max_field_bytes=max_field_bytes, chunk_bytes=chunk_bytes
            ),
        )
        for spec, path in files
    ]
    return _run(
        db,
        sources,
        until=until,
        progress=progress,
        started_at=started_at,
        run_id=run_id,
        sink=sink,
    )


def ingest_frames(
    db: Database,
    frames: Mapping[str, pd.DataFrame | Iterable[pd.DataFrame]],
    *,
    source: str,
    until: date | None = None,
    progress: Progress | None = None,
    sink: EventSink | None = None,
    piece_rows: int | None = None,
) -> IngestReport:
    """Ingest rows already in memory, in the course's columns, keyed by table name.

    The same validation, quarantine and idempotence as files; ``source`` names the batch in
    quarantine and the ingest log (rows are numbered from 1 within each frame). With
    ``piece_rows``, a larger frame is validated and loaded about that many rows at a time
    (the rows of a key together, see ``frame_pieces``): the same rows, counts and records as
    in one piece, in memory that depends on the piece, not the frame. A table's rows may also
    come as frames one after the other, read as the load reaches them (``rows_pieces``)."""
    unknown = sorted(set(frames) - set(TABLE_SPECS))
    if unknown:
        raise IngestError(f"{source}: unknown table(s) {unknown}; known: {sorted(TABLE_SPECS)}")
    sources = [
        _Source(table, source, rows_pieces(TABLE_SPECS[table], frames[table], source, piece_rows))
        for table in LOAD_ORDER
        if table in frames
    ]
    return _run(
        db,
        sources,
        until=until,
        progress=progress,
        started_at=utcnow(),
        run_id=str(uuid.uuid4()),
        sink=sink,
    )
