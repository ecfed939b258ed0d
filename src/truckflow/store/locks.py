"""A lock held by one process at a time, in the database engine itself, with who holds it.

PostgreSQL: a session advisory lock; MySQL/MariaDB: ``GET_LOCK``; SQLite: an exclusive file
lock (``flock``) on a file beside the database. All three go when their holder dies (the
connection closes, the file is closed by the kernel), so a killed process never leaves one
behind. Who took it is written to ``process_locks`` so that a refusal can name the holder.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.store.database import Database, StoreError
from truckflow.store.tables import process_locks

__all__ = ["LockHeldError", "process_lock"]

_POLL_S = 0.2


class LockHeldError(StoreError):
    """Another process holds the lock; the message names it and since when."""

    exit_code = 75  # EX_TEMPFAIL: try again later


def _key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class _Engine:
    """Try-lock and unlock on one dedicated connection (or file)."""

    def __init__(self, db: Database, name: str) -> None:
        self.db, self.name = db, name
        self.conn: sa.Connection | None = None
        self.file: IO[bytes] | None = None

    def try_lock(self) -> bool:
        dialect = self.db.dialect
        if dialect == "sqlite":
            return self._try_file()
        if self.conn is None:
            self.conn = self.db.engine.connect()
        if dialect == "postgresql":
            sql = "SELECT pg_try_advisory_lock(:k)"
            got = self.conn.execute(sa.text(sql), {"k": _key(self.name)}).scalar()
        else:
            got = self.conn.execute(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": self._mysql_name()})
            got = got.scalar()
        self.conn.commit()
        return bool(got)

    def _mysql_name(self) -> str:
        # GET_LOCK names are server-wide (PostgreSQL's advisory locks are per database), so the
        # database's name is part of the key: two homes on one server never block each other.
        scoped = f"{self.db.engine.url.database}:{self.name}"
        return f"truckflow:{hashlib.sha256(scoped.encode()).hexdigest()[:48]}"

    def _try_file(self) -> bool:
        database = self.db.engine.url.database
        if not database or database == ":memory:":
            return True  # one process only can see an in-memory database
        if self.file is None:
            path = Path(f"{database}.{self.name}.lock")
            self.file = path.open("ab")
        try:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        try:
            if self.file is not None:
                fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)
                self.file.close()
            if self.conn is not None:
                if self.db.dialect == "postgresql":
                    self.conn.execute(
                        sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _key(self.name)}
                    )
                else:
                    self.conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": self._mysql_name()})
                self.conn.commit()
        except sa.exc.SQLAlchemyError:
            pass  # the connection is gone: so is the lock
        finally:
            if self.conn is not None:
                self.conn.close()


def _holder(db: Database, name: str) -> dict[str, Any] | None:
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(process_locks).where(process_locks.c.name == name)).first()
    return dict(row._mapping) if row is not None else None


def _record(db: Database, name: str, subject: str) -> None:
    row = {
        "subject": subject,
        "owner_pid": os.getpid(),
        "owner_host": socket.gethostname(),
        "since": utcnow(seconds=True),
    }
    with db.begin() as conn:
        done = conn.execute(
            process_locks.update().where(process_locks.c.name == name).values(**row)
        )
        if not done.rowcount:
            conn.execute(process_locks.insert().values(name=name, **row))


@contextmanager
def process_lock(db: Database, name: str, subject: str, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the lock ``name`` for the block, waiting up to ``wait_s`` for it; ``subject`` says
    what is being done under it ("day 2019-02-16"). Raises ``LockHeldError`` naming the
    holder when it is still taken after the wait."""
    lock = _Engine(db, name)
    deadline = time.monotonic() + wait_s
    try:
        while not lock.try_lock():
            if time.monotonic() >= deadline:
                raise LockHeldError(_refusal(db, name), hint="wait for it to finish, or stop it")
            time.sleep(_POLL_S)
        _record(db, name, subject)
        yield
    finally:
        lock.release()


def _refusal(db: Database, name: str) -> str:
    holder = _holder(db, name)
    if holder is None:
        return f"{name}: held by another process"
    return (
        f"{holder['subject']} is being processed by process {holder['owner_pid']}"
        f" on {holder['owner_host']} since {holder['since']:%Y-%m-%d %H:%M:%S} UTC"
    )
