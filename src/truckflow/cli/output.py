"""How commands report: a Rich rendering for people, one JSON document with ``--json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from truckflow.errors import TruckflowError

__all__ = ["JSON_OPTION", "console", "emit", "err_console", "fail_on_errors", "to_jsonable"]

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one machine-readable JSON document.")


def to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump())
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict())
    return value


def emit(result: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``result`` as JSON or hand it to ``render`` for people."""
    if as_json:
        sys.stdout.write(json.dumps(to_jsonable(result), indent=2, sort_keys=True) + "\n")
    else:
        render(result)


@contextmanager
def fail_on_errors(as_json: bool = False) -> Iterator[None]:
    """Turn truckflow's own errors into a clear message and a non-zero exit, no traceback."""
    try:
        yield
    except TruckflowError as exc:
        if as_json:
            doc = {"error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}}
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        else:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(code=exc.exit_code) from None
