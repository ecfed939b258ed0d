"""How commands report: a Rich rendering for people, one JSON document with ``--json``."""

from __future__ import annotations

import dataclasses
import errno
import json
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from truckflow.errors import TruckflowError

# Exit codes of failures that are not the command's fault (sysexits.h): the database cannot be
# reached, or the disk refused a write.
EXIT_UNAVAILABLE = 69
EXIT_IO = 74
T = TypeVar("T")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)

__all__ = [
    "EXIT_IO",
    "EXIT_UNAVAILABLE",
    "JSON_OPTION",
    "console",
    "emit",
    "err_console",
    "fail_on_errors",
    "mask_secrets",
    "to_jsonable",
]


class _Console(Console):
    """Tables wrap a value that does not fit over lines instead of cutting it with an ellipsis:
    at 80 columns Rich showed dates and windows as ``2019-02…``."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        from rich.table import Table

        for shown in objects:
            if isinstance(shown, Table):
                for column in shown.columns:
                    column.overflow = "fold"
        super().print(*objects, **kwargs)


console = _Console()
err_console = _Console(stderr=True)

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
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    return value


def emit(result: T, as_json: bool, render: Callable[[T], None]) -> None:
    """Print ``result`` as JSON or hand it to ``render`` for people."""
    if as_json:
        sys.stdout.write(json.dumps(to_jsonable(result), indent=2, sort_keys=True) + "\n")
    else:
        render(result)


def mask_secrets(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def _foreign(exc: BaseException) -> tuple[str, str, str | None, int] | None:
    """A failure of the world around the command (database, disk): type, message, hint, code."""
    import sqlalchemy as sa

    if isinstance(exc, sa.exc.SQLAlchemyError) or type(exc).__module__.split(".")[0] in (
        "psycopg",
        "pymysql",
        "sqlite3",
    ):
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return (
            "DatabaseUnavailable",
            f"the database failed: {type(exc).__name__}: {first}",
            "check that the database is running and reachable, then run the command again"
            " (a rerun finishes the work); --debug shows the traceback",
            EXIT_UNAVAILABLE,
        )
    if isinstance(exc, OSError):
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        return (
            "DiskFull" if full else "FileSystemError",
            f"{'the disk is full' if full else 'a file operation failed'}: {exc}",
            "free some space, then run the command again" if full else None,
            EXIT_IO,
        )
    return None


def _report(as_json: bool, kind: str, message: str, hint: str | None) -> None:
    message = mask_secrets(message)
    hint = mask_secrets(hint) if hint else None
    if as_json:
        doc = {"error": {"type": kind, "message": message, "hint": hint}}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    text = f"{message}\n  hint: {hint}" if hint else message
    # Text, not markup: a message may hold brackets of its own.
    err_console.print(Text.assemble(("error:", "bold red"), " ", text), highlight=False)


@contextmanager
def fail_on_errors(as_json: bool = False) -> Iterator[None]:
    """Turn truckflow's own errors, and failures of the database or the disk, into one clear
    message (or one JSON error document) and a non-zero exit; ``--debug`` adds the traceback."""
    from truckflow.cli.context import state

    try:
        yield
    except TruckflowError as exc:
        if state.debug:
            traceback.print_exc(file=sys.stderr)
        code, hint = exc.exit_code, exc.hint
        cause = _foreign(exc.__cause__) if exc.__cause__ is not None else None
        if cause is not None:  # wrapped with its object named; the exit code says what failed
            code, hint = cause[3], hint or cause[2]
        _report(as_json, type(exc).__name__, exc.message, hint)
        raise typer.Exit(code=code) from None
    except Exception as exc:
        foreign = _foreign(exc)
        if foreign is None:
            raise
        if state.debug:
            traceback.print_exc(file=sys.stderr)
        kind, message, hint, code = foreign
        _report(as_json, kind, message, hint)
        raise typer.Exit(code=code) from None
