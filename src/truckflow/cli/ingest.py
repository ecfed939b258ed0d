"""``truckflow data ingest``, ``quarantine`` and ``conflicts``: load course files, see rejects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, err_console, fail_on_errors

if TYPE_CHECKING:
    from truckflow.data.ingest.orphans import Released
    from truckflow.data.ingest.records import QuarantinedRow
    from truckflow.data.ingest.rejects import ConflictRow, QuarantineCount
    from truckflow.data.ingest.report import IngestReport

__all__ = ["conflicts", "ingest", "quarantine"]


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def ingest(
    directory: Path = typer.Argument(..., help="Folder holding the course CSV files."),
    until: str | None = typer.Option(
        None,
        "--until",
        help="Only rows dated on or before this day (YYYY-MM-DD); later labels are withheld.",
        show_default=False,
    ),
    partial: bool = typer.Option(
        False,
        "--partial",
        help="Load what can be loaded when a table others refer to (trucks, routes, city"
        " weather) is missing; the rows that refer to it wait in quarantine.",
    ),
    history_only: bool = typer.Option(
        False,
        "--history-only",
        help="Leave out the streaming_* files (a generated world's future, labels included):"
        " the streaming simulation sends them day by day.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate and load the course's CSV files (and streaming files) into the database.

    Bad lines and rows go to quarantine with the line and reason; a row whose key is taken by
    a row with other values is counted as conflicting and recorded; a file that is not course
    CSV stops the run and nothing is kept. Running it twice changes nothing.

    Example: [bold]truckflow data ingest ./course_data --until 2019-02-14[/], or
    [bold]truckflow data ingest ./world --history-only[/] before streaming a generated world
    """
    from functools import partial as bind

    from truckflow.data.ingest import ingest_directory
    from truckflow.notify import Notifications
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    last_day = _parse_day(until)
    with fail_on_errors(as_json):
        settings = state.settings()
        db = connect(settings)
        upgrade(db)
        notifications = Notifications.open(settings, db)
        run = bind(
            ingest_directory,
            db,
            directory,
            until=last_day,
            historical_only=history_only,
            partial=partial or settings.ingest.partial,
            max_field_bytes=settings.ingest.max_field_bytes,
            sink=notifications.sink,
        )
        if as_json:
            report = run()
        else:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("ingest", total=1)

                def progress(description: str, done: int, total: int) -> None:
                    bar.update(task, description=description, completed=done, total=total)

                report = run(progress=progress)
        notifications.dispatch()  # the data-quality notices of rejected rows
    emit(report, as_json, _render_report)


def _render_report(report: IngestReport) -> None:
    table = Table(title=f"ingest run {report.run_id}")
    table.add_column("table")
    for name in ("read", "inserted", "already present", "quarantined"):
        table.add_column(name, justify="right")
    tables = report.tables()
    total = report.total()
    for name, counts in [*tables.items(), ("[bold]total[/]", total)]:
        table.add_row(
            name,
            f"{counts.read:,}",
            f"{counts.inserted:,}",
            f"{counts.already_present:,}",
            f"{counts.quarantined:,}",
        )
    console.print(table)
    beyond = sum(s.beyond_until for s in report.sources)
    withheld = sum(s.labels_withheld for s in report.sources)
    if report.until:
        console.print(
            f"until {report.until.isoformat()}: {beyond:,} later rows left out,"
            f" {withheld:,} delay labels withheld"
        )
    filled = sum(s.labels_filled for s in report.sources)
    if filled:
        console.print(f"{filled:,} withheld delay labels filled in")
    if total.quarantined:
        console.print("see the rejected rows with [bold]truckflow data quarantine[/]")
    if total.conflicting:
        # Its own line, not a column: the table stays within 80 columns.
        per_table = ", ".join(
            f"{name} {counts.conflicting:,}"
            for name, counts in tables.items()
            if counts.conflicting
        )
        console.print(
            f"conflicting: {per_table} (same key as a kept row, other values; the first is"
            " kept); see them with [bold]truckflow data conflicts[/]"
        )


def quarantine(
    table: str | None = typer.Option(None, "--table", help="Only rows of this table."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many rows, newest first."),
    counts: bool = typer.Option(False, "--counts", help="Count the rows by table and reason."),
    export: Path | None = typer.Option(
        None, "--export", help="Write every quarantined row to this CSV file.", show_default=False
    ),
    retry: bool = typer.Option(
        False, "--retry", help="Load the rows whose missing parent has been loaded since."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """List rows that ingestion rejected, with the file, line and reason; count them by
    reason, export them as CSV, or retry those that waited for a parent table.

    Example: [bold]truckflow data quarantine --counts[/] or
    [bold]truckflow data quarantine --export rejects.csv[/]
    """
    from truckflow.data.ingest import list_quarantine
    from truckflow.data.ingest.rejects import (
        export_quarantine,
        quarantine_counts,
        retry_quarantine,
    )
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    with fail_on_errors(as_json):
        db = connect(state.settings())
        upgrade(db)
        result = QuarantineReport()
        if retry:
            result.retry = retry_quarantine(db)
        if export is not None:
            result.exported = Exported(export, export_quarantine(db, export, table=table))
        if counts:
            result.counts = quarantine_counts(db)
        if not (retry or export is not None or counts):
            result.rows = list_quarantine(db, table=table, limit=limit)
    emit(result, as_json, _render_quarantine)


def conflicts(
    table: str | None = typer.Option(None, "--table", help="Only rows of this table."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many rows, newest first."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List rows not loaded because their key was taken by a row with other values, with the
    row kept and where it came from.

    Example: [bold]truckflow data conflicts --table city_weather --json[/]
    """
    from truckflow.data.ingest.rejects import list_conflicts
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    with fail_on_errors(as_json):
        db = connect(state.settings())
        upgrade(db)
        found = ConflictList(list_conflicts(db, table=table, limit=limit))
    emit(found, as_json, _render_conflicts)


@dataclass(frozen=True)
class ConflictList:
    """``data conflicts``: the most recent conflicting rows."""

    rows: list[ConflictRow]


@dataclass(frozen=True)
class Exported:
    """``data quarantine --export``: where the rows went and how many."""

    path: Path
    rows: int


@dataclass
class QuarantineReport:
    """``data quarantine``: what each asked-for part found; parts not asked for stay None and
    are left out of the JSON document."""

    retry: Released | None = None
    exported: Exported | None = None
    counts: list[QuarantineCount] | None = None
    rows: list[QuarantinedRow] | None = None

    def to_dict(self) -> dict[str, Any]:
        parts: dict[str, object] = {"retry": self.retry, "exported": self.exported}
        parts |= {"counts": self.counts, "rows": self.rows}
        return {name: part for name, part in parts.items() if part is not None}


def _render_conflicts(result: ConflictList) -> None:
    rows = result.rows
    if not rows:
        console.print("no conflicting rows")
        return
    table = Table(title=f"{len(rows)} conflicting row(s), newest first")
    for name in ("table", "file", "line", "key", "kept from"):
        table.add_column(name, justify="right" if name == "line" else "left")
    for r in rows:
        key = ", ".join(f"{k}={v}" for k, v in r.key.items())
        table.add_row(r.table, r.source_file, str(r.line_no), key, r.kept_from)
    console.print(table)


def _render_quarantine(result: QuarantineReport) -> None:
    if result.retry is not None:
        loaded, retried = sum(result.retry.loaded.values()), sum(result.retry.retried.values())
        console.print(f"retried {retried:,} row(s) waiting for a parent; {loaded:,} loaded")
    if result.exported is not None:
        console.print(f"{result.exported.rows:,} row(s) written to {result.exported.path}")
    if result.counts is not None:
        table = Table(title="quarantined rows by reason")
        for name in ("table", "reason", "rows"):
            table.add_column(name, justify="right" if name == "rows" else "left")
        for c in result.counts:
            table.add_row(c.table, c.reason, f"{c.rows:,}")
        console.print(table)
    if result.rows is None:
        return
    if not result.rows:
        console.print("no quarantined rows")
        return
    table = Table(title=f"{len(result.rows)} quarantined row(s), newest first")
    for name in ("table", "file", "line", "reason"):
        table.add_column(name, justify="right" if name == "line" else "left")
    for r in result.rows:
        table.add_row(r.table, r.source_file, str(r.line_no), r.reason)
    console.print(table)
