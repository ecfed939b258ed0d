"""A large file loaded into an empty PostgreSQL table: its primary key is built once, after.

Kept up to date row by row, a B-tree much larger than the server's buffers costs a page read
and write per group of rows, and fills its pages half-way (a file's ids come in no key order,
so each piece splits pages all over the tree). Scale 10's traffic file (26M rows), copied with
``psql``: 98 s into the table with its key, 27 s without it plus 26 s to build the key after,
and the key takes 1.0 GB instead of 1.7 (built from sorted keys, its pages are full).

Without the key, a piece cannot be checked against the pieces before it, so the build is that
check: a key that comes back in a later piece makes it fail. The file's load is then rolled
back to a savepoint and the file is loaded again the ordinary way, with the key kept up to date
(which tells a repeat from a conflict and records it). A first load of a table that others read
holds them off until the run commits: the key cannot be dropped under a weaker lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from truckflow.data.ingest.loader import lock_for_load
from truckflow.store.tables import metadata

__all__ = ["KeyRepeatedError", "can_build_key_after", "key_built_after"]

_UNIQUE_VIOLATION = "23505"


class KeyRepeatedError(Exception):
    """A key came back in a later piece: the key could not be built; nothing was kept."""


def can_build_key_after(conn: sa.Connection, table: str) -> bool:
    """Whether ``table``'s key can wait for the end of a load: PostgreSQL, a primary key that
    no foreign key refers to, and no row stored (checked under ``lock_for_load``)."""
    if conn.dialect.name != "postgresql" or not metadata.tables[table].primary_key.columns:
        return False
    lock_for_load(conn, table)
    referred = sa.text(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = CAST(:t AS regclass))"
    )
    if conn.execute(referred, {"t": table}).scalar():
        return False
    return not conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar()


@contextmanager
def key_built_after(conn: sa.Connection, table: str) -> Iterator[None]:
    """Runs the block with ``table``'s primary key dropped and builds it again on the way
    out, all under a savepoint. A key the rows repeat raises ``KeyRepeatedError`` with the
    savepoint rolled back: the table, and whatever the block wrote, as they were before."""
    key = metadata.tables[table].primary_key
    with conn.begin_nested():
        conn.execute(sa.schema.DropConstraint(key))
        yield
        try:
            conn.execute(sa.schema.AddConstraint(key))
        except sa.exc.IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise
            raise KeyRepeatedError(f"{table}: a key repeats across the pieces") from exc
