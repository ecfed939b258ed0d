"""One ingest run: every file read, validated and loaded in one transaction.

Files are taken in load order, each a piece of whole lines at a time (``CHUNK_BYTES``, see
``source``), so the memory of a run depends on the piece size, not on the files. The load is a single transaction:
a file that cannot be parsed (its first piece or a later one), or a failure half-way through
the load, leaves the tables as they were. The run is recorded in ``ingest_log`` either way (a
failed run in a transaction of its own, after the rollback).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.data.course_format import LOAD_ORDER, TABLE_SPECS, TableSpec
from truckflow.data.errors import IngestError
from truckflow.data.ingest.batch import Batch, rows_pieces
from truckflow.data.ingest.lines import DEFAULT_MAX_FIELD_BYTES
from truckflow.data.ingest.orphans import missing_parents, refuse_missing, retry_orphans
from truckflow.data.ingest.reader import CHUNK_BYTES, read_course_chunks
from truckflow.data.ingest.records import known_keys, log_sources
from truckflow.data.ingest.report import IngestReport, SourceReport
from truckflow.data.ingest.source import ReadFailedError, Source, load_source
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


def _run(
    db: Database,
    sources: list[Source],
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
                reports, reasons = load_source(conn, run_id, source, known, until)
                report.sources.extend(reports)
                told.append((reports[0], reasons))
            released = retry_orphans(conn, run_id)
            report.orphans_retried, report.orphans_loaded = released.retried, released.loaded
            report.check()
            log_sources(conn, run_id, started_at, until, report.sources, status="ok")
            _tell_quality(conn, sink, told)
    except ReadFailedError as failed:
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
    sources = [_file_source(spec, path, max_field_bytes, chunk_bytes) for spec, path in files]
    return _run(
        db,
        sources,
        until=until,
        progress=progress,
        started_at=started_at,
        run_id=run_id,
        sink=sink,
    )


def _file_source(spec: TableSpec, path: Path, max_field_bytes: int, chunk_bytes: int) -> Source:
    def read() -> Iterator[Batch]:
        return read_course_chunks(
            path, spec, max_field_bytes=max_field_bytes, chunk_bytes=chunk_bytes
        )

    try:
        several = path.stat().st_size > chunk_bytes
    except OSError:  # the read says why, when its turn comes
        several = False
    return Source(spec.table, path.name, read(), again=read, several_pieces=several)


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
        Source(table, source, rows_pieces(TABLE_SPECS[table], frames[table], source, piece_rows))
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
