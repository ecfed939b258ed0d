"""``truckflow data ingest`` and ``truckflow data quarantine``: load course files, see rejects."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, err_console, fail_on_errors
from truckflow.store import connect
from truckflow.store.migrate import upgrade

__all__ = ["ingest", "quarantine"]


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
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate and load the course's CSV files (and streaming files) into the database.

    Bad rows go to quarantine with the reason; a file that cannot be parsed stops the run and
    nothing of it is kept. Running it twice changes nothing.

    Example: [bold]truckflow data ingest ./course_data --until 2019-02-14[/]
    """
    from truckflow.data.ingest import ingest_directory

    last_day = _parse_day(until)
    with fail_on_errors(as_json):
        db = connect(state.settings())
        upgrade(db)
        if as_json:
            report = ingest_directory(db, directory, until=last_day)
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

                report = ingest_directory(db, directory, until=last_day, progress=progress)
    emit(report.to_dict(), as_json, _render_report)


def _render_report(result: dict[str, Any]) -> None:
    table = Table(title=f"ingest run {result['run_id']}")
    table.add_column("table")
    for name in ("read", "inserted", "already present", "quarantined"):
        table.add_column(name, justify="right")
    for name, counts in result["tables"].items():
        table.add_row(
            name,
            f"{counts['read']:,}",
            f"{counts['inserted']:,}",
            f"{counts['already_present']:,}",
            f"{counts['quarantined']:,}",
        )
    total = result["total"]
    table.add_row(
        "[bold]total[/]",
        f"{total['read']:,}",
        f"{total['inserted']:,}",
        f"{total['already_present']:,}",
        f"{total['quarantined']:,}",
    )
    console.print(table)
    beyond = sum(s["beyond_until"] for s in result["sources"])
    withheld = sum(s["labels_withheld"] for s in result["sources"])
    if result["until"]:
        console.print(
            f"until {result['until']}: {beyond:,} later rows left out,"
            f" {withheld:,} delay labels withheld"
        )
    filled = sum(s["labels_filled"] for s in result["sources"])
    if filled:
        console.print(f"{filled:,} withheld delay labels filled in")
    if total["quarantined"]:
        console.print("see the rejected rows with [bold]truckflow data quarantine[/]")


def quarantine(
    table: str | None = typer.Option(None, "--table", help="Only rows of this table."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many rows, newest first."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List rows that ingestion rejected, with the file, line and reason.

    Example: [bold]truckflow data quarantine --table city_weather --limit 10[/]
    """
    from truckflow.data.ingest import list_quarantine

    with fail_on_errors(as_json):
        db = connect(state.settings())
        upgrade(db)
        rows = list_quarantine(db, table=table, limit=limit)
    result = {
        "rows": [
            {
                "table": r.table,
                "source_file": r.source_file,
                "line_no": r.line_no,
                "reason": r.reason,
                "raw": r.raw,
                "run_id": r.run_id,
                "created_at": r.created_at,
            }
            for r in rows
        ]
    }
    emit(result, as_json, _render_quarantine)


def _render_quarantine(result: dict[str, Any]) -> None:
    rows = result["rows"]
    if not rows:
        console.print("no quarantined rows")
        return
    table = Table(title=f"{len(rows)} quarantined row(s), newest first")
    for name in ("table", "file", "line", "reason"):
        table.add_column(name, justify="right" if name == "line" else "left")
    for r in rows:
        table.add_row(r["table"], r["source_file"], str(r["line_no"]), r["reason"])
    console.print(table)
