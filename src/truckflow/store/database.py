"""Connecting to the operational database, whichever engine it is.

SQLite gets WAL mode, a busy timeout and foreign keys on every connection; PostgreSQL is
reached through psycopg 3 and MySQL/MariaDB through PyMySQL, whatever driver the URL names.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from truckflow.errors import TruckflowError
from truckflow.settings import Settings

__all__ = ["Database", "SchemaMissingError", "StoreError", "connect"]

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


class StoreError(TruckflowError):
    """The operational database could not be reached, migrated or written."""


class SchemaMissingError(StoreError, sa.exc.SQLAlchemyError):
    """A table truckflow reads or writes does not exist: the database was never initialised
    or is older than this truckflow. Also an SQLAlchemy error, so that the code that names
    its object around a failed statement (the outbox, the feature store) still does."""


def _missing_table(backend: str, error: BaseException) -> bool:
    """Whether the driver's error says that a table does not exist (each says it its way)."""
    if backend == "sqlite":
        return "no such table" in str(error)
    if backend == "postgresql":
        return getattr(error, "sqlstate", None) == "42P01"  # undefined_table
    return backend == "mysql" and bool(error.args) and error.args[0] == 1146  # ER_NO_SUCH_TABLE


def _explain_missing_schema(url: URL) -> Any:
    """Turn the driver's "no such table" into one error that says how to create the schema."""
    safe = url.render_as_string(hide_password=True)

    def on_error(context: sa.engine.ExceptionContext) -> None:
        # The MySQL dialect asks whether a table exists by running DESCRIBE and catching this
        # very error; it marks that statement so that handlers leave it alone.
        running = context.execution_context
        if running is not None and running.execution_options.get("skip_user_error_events"):
            return
        if _missing_table(url.get_backend_name(), context.original_exception):
            first = str(context.original_exception).strip().splitlines()[0]
            raise SchemaMissingError(
                f"the database {safe} has no truckflow schema yet, or an older one ({first})",
                hint="run `truckflow init`, or from Python truckflow.store.migrate.upgrade(db)"
                " (Runtime.open does it)",
            ) from None  # the driver's words are in the message; the cause is not unavailability

    return on_error


def _normalise(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4", "local_infile": "1"})
    return parsed


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL makes NORMAL durable across application crashes; only power loss can cost the tail.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


# Databases unpickled in this process (a Dask worker running partitions), by URL and timeout:
# each is opened once per process, not once per task.
_REOPENED: dict[tuple[str, int], Database] = {}


@dataclass(frozen=True)
class Database:
    """An engine plus the few facts about it that the rest of truckflow asks for.

    It pickles as its URL (password included) and busy timeout: another process (a Dask
    worker) reopens the same database, once per process. An in-memory SQLite database is
    not the same database there."""

    engine: Engine
    busy_timeout_ms: int = 30_000

    def __reduce__(self) -> tuple[Any, ...]:
        url = self.engine.url.render_as_string(hide_password=False)
        return (_reopen, (url, self.busy_timeout_ms))

    @property
    def dialect(self) -> str:
        """``sqlite``, ``postgresql`` or ``mysql``."""
        return self.engine.dialect.name

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def connect(target: Settings | str | URL, *, busy_timeout_ms: int = 30_000) -> Database:
    """Open the operational database named by settings or by a URL (nothing is created yet)."""
    if isinstance(target, Settings):
        busy_timeout_ms = target.database.sqlite_busy_timeout_ms
        target.ensure_home()
        url = _normalise(target.db_url)
    else:
        url = _normalise(target)
    kwargs: dict[str, Any] = {"future": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"options": _postgres_options(url)}
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use database URL {url.render_as_string()}: {exc}") from exc
    if url.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
    sa.event.listen(engine, "handle_error", _explain_missing_schema(url))
    return Database(engine, busy_timeout_ms)


def _postgres_options(url: URL) -> str:
    """The server options of each PostgreSQL session: JIT off, then the URL's own options.

    truckflow's reads are index range scans whose plans can cost above ``jit_above_cost``
    (an OR of a few hundred route windows): compiling them took seconds where running them
    took milliseconds (the feature fill at ten times the course's fleet: 63 s a partition,
    2.4 s of each 2.6 s traffic read). Options the URL names come after, so they win."""
    own = url.query.get("options", "")
    given = own if isinstance(own, str) else " ".join(own)
    return f"-c jit=off {given}".strip()


def _reopen(url: str, busy_timeout_ms: int) -> Database:
    key = (url, busy_timeout_ms)
    found = _REOPENED.get(key)
    if found is None:
        found = _REOPENED[key] = connect(url, busy_timeout_ms=busy_timeout_ms)
    return found
