"""Bulk loading of validated rows, the fastest idempotent way each engine offers.

All paths skip rows whose natural key is already there and report how many were inserted:
SQLite ``INSERT OR IGNORE`` (executemany, a hundred rows a statement), PostgreSQL ``COPY`` into a temporary
table then ``INSERT ... ON CONFLICT DO NOTHING``, MySQL/MariaDB ``LOAD DATA LOCAL INFILE ... IGNORE``
from a temporary CSV file. They run on the DBAPI connection under the caller's
SQLAlchemy transaction, so a failure anywhere rolls back the whole run.

Rows go in sorted by the table's key (they usually come sorted; then nothing is moved): a
B-tree fed in key order appends to its last page instead of touching pages all over the tree,
which on SQLite's WITHOUT ROWID tables makes an unordered batch two to three times faster.
For the load, SQLite gets a larger page cache and PostgreSQL's transaction skips waiting for
its commit record to be flushed (``synchronous_commit = off``: a crash right after the commit
may lose the run, never half of it).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from truckflow.data.course_format import ColumnKind
from truckflow.data.ingest.batch import as_objects

__all__ = ["db_values", "in_key_order", "insert_ignore"]

_COPY_CHUNK = 8 << 20
# SQLite's page cache during a load, in KiB (negative: a size, not a page count). Rows go in
# in key order, so the load touches few pages at a time: 32 MiB loads scale 10's history as
# fast as 256 MiB did (59 vs 61 s), and a week start's load no longer adds up to 256 MiB to
# a long replay's peak (only large loads ever filled it: the peak grew with the scale).
_SQLITE_LOAD_CACHE_KIB = 32_768


def _sort_keys(values: pd.Series[Any]) -> np.ndarray[Any, Any]:
    """Something that orders like the column: int64 for dates and numbers, codes for text."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return np.asarray(values.to_numpy(dtype="datetime64[ns]").astype(np.int64))
    if pd.api.types.is_numeric_dtype(values):
        return np.asarray(values.to_numpy(dtype=np.float64))
    if isinstance(values.dtype, pd.CategoricalDtype):
        # The file's ids come dictionary-encoded in order of appearance: rank the (few)
        # categories instead of sorting millions of strings. NULL (code -1) stays first.
        categories = np.asarray(values.cat.categories, dtype=object)
        rank = np.empty(len(categories) + 1, dtype=np.int64)
        rank[0] = -1
        rank[1:] = np.argsort(np.argsort(categories, kind="stable"), kind="stable")
        return rank[values.cat.codes.to_numpy(dtype=np.int64) + 1]
    codes, _ = pd.factorize(as_objects(values), sort=True)
    return np.asarray(codes)


def in_key_order(frame: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """``frame`` sorted by ``key`` (stable); the frame itself when it already is."""
    if len(frame) < 2 or not key:
        return frame
    columns = [_sort_keys(frame[c]) for c in key]
    # Sorted iff every neighbour pair is: compare key by key, the first difference decides.
    ordered = np.zeros(len(frame) - 1, dtype=bool)
    tied = np.ones(len(frame) - 1, dtype=bool)
    for values in columns:
        ordered |= tied & (values[:-1] < values[1:])
        tied &= values[:-1] == values[1:]
    if (ordered | tied).all():
        return frame
    order = np.lexsort(columns[::-1])
    return frame.take(order).reset_index(drop=True)


def _stamps(values: pd.Series[Any], kind: ColumnKind) -> np.ndarray[Any, Any]:
    """Dates and timestamps as text, formatted once per distinct value (they repeat a lot).

    Timestamps to the microsecond, 'YYYY-MM-DD HH:MM:SS.ffffff': what SQLAlchemy's SQLite
    DateTime type writes and reads back; the other engines parse it too."""
    stamps: np.ndarray[Any, np.dtype[np.datetime64]] = values.to_numpy(dtype="datetime64[ns]")
    unique, inverse = np.unique(stamps, return_inverse=True)
    if kind == "date":
        text = np.datetime_as_string(unique.astype("datetime64[D]"))
    else:
        text = np.char.replace(np.datetime_as_string(unique, unit="us"), "T", " ")
    out = text.astype(object)[inverse]
    if np.isnat(unique).any():
        out[np.isnat(stamps)] = None
    return np.asarray(out)


def db_values(values: pd.Series[Any], kind: ColumnKind) -> list[Any]:
    """One column as plain Python values that every DBAPI driver binds (None for NULL)."""
    if kind in ("date", "datetime"):
        return list(_stamps(values, kind).tolist())
    if kind == "str":
        return list(as_objects(values).tolist())
    numbers = values.to_numpy(dtype=np.float64)
    missing = np.isnan(numbers)
    if kind == "int":
        if not missing.any():
            return list(numbers.astype(np.int64).tolist())
        out = numbers.astype(object)
        out[~missing] = numbers[~missing].astype(np.int64).astype(object)
        out[missing] = None
        return list(out.tolist())
    if not missing.any():
        return list(numbers.tolist())
    out = numbers.astype(object)
    out[missing] = None
    return list(out.tolist())


def _arrow_column(values: pd.Series[Any], kind: ColumnKind) -> pa.Array:
    """One column for the CSV that COPY / LOAD DATA read, built without Python objects:
    dates print as YYYY-MM-DD, timestamps as YYYY-MM-DD HH:MM:SS.ffffff."""
    if kind in ("date", "datetime"):
        unit = "datetime64[D]" if kind == "date" else "datetime64[us]"
        return pa.array(values.to_numpy(dtype="datetime64[ns]").astype(unit), from_pandas=True)
    if kind == "str":
        if isinstance(values.dtype, pd.CategoricalDtype):
            return pa.array(values).cast(pa.string())
        return pa.array(as_objects(values), type=pa.string())
    numbers = values.to_numpy(dtype=np.float64)
    if kind == "int":
        mask = np.isnan(numbers)
        return pa.array(np.where(mask, 0, numbers).astype(np.int64), mask=mask)
    return pa.array(numbers, from_pandas=True)


# Rows turned into Python values at a time for SQLite: the values of a whole piece as Python
# objects would take several times the piece's own memory.
_SQLITE_SLICE_ROWS = 100_000
# Rows per INSERT statement for SQLite: one statement of many rows costs the executemany loop,
# the statement reset and the VDBE set-up once per hundred rows instead of once per row (those
# were about half of the load: 12.2 -> 7.6 s of CPU for four 956k-row pieces of traffic, same
# B-tree work). Under SQLite's smallest limit of bound parameters (999, before 3.32).
_SQLITE_ROWS_PER_INSERT = 100
_SQLITE_MAX_PARAMETERS = 999


def _sqlite_values(
    frame: pd.DataFrame, kinds: dict[str, ColumnKind], columns: Sequence[str]
) -> Iterator[np.ndarray[Any, np.dtype[np.object_]]]:
    """The rows as a (rows, columns) array of plain values, a slice at a time."""
    for start in range(0, len(frame), _SQLITE_SLICE_ROWS):
        part = frame.iloc[start : start + _SQLITE_SLICE_ROWS]
        values = np.empty((len(part), len(columns)), dtype=object)
        for j, column in enumerate(columns):
            values[:, j] = db_values(part[column], kinds[column])
        yield values


def _sqlite(
    raw: Any,
    table: str,
    columns: Sequence[str],
    slices: Iterable[np.ndarray[Any, np.dtype[np.object_]]],
) -> int:
    per = max(1, min(_SQLITE_ROWS_PER_INSERT, _SQLITE_MAX_PARAMETERS // len(columns)))
    row = f"({', '.join('?' for _ in columns)})"
    head = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES "
    many = head + ", ".join([row] * per)
    cursor = raw.cursor()
    cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
    inserted = 0
    try:
        cursor.execute(f"PRAGMA cache_size = -{_SQLITE_LOAD_CACHE_KIB}")
        for values in slices:
            # Row-major: each statement's parameters are ``per`` whole rows, in order.
            whole = len(values) // per * per
            if whole:
                cursor.executemany(many, values[:whole].reshape(-1, per * len(columns)).tolist())
                inserted += int(cursor.rowcount)
            if whole < len(values):
                cursor.executemany(head + row, values[whole:].tolist())
                inserted += int(cursor.rowcount)
        return inserted
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(cache)}")
        cursor.close()


def _mysql(raw: Any, table: str, columns: Sequence[str], arrow: pa.Table) -> int:
    # LOAD DATA reads an empty field as '' (0 for numbers), so each field goes through a user
    # variable and NULLIF: the rows never hold an empty string (blanks were made NULL).
    fields = ", ".join(f"@v{i}" for i in range(len(columns)))
    assign = ", ".join(f"{c} = NULLIF(@v{i}, '')" for i, c in enumerate(columns))
    with tempfile.TemporaryDirectory(prefix="truckflow-ingest-") as tmp:
        path = Path(tmp) / f"{table}.csv"
        pacsv.write_csv(arrow, str(path), pacsv.WriteOptions(include_header=False))
        sql = (
            f"LOAD DATA LOCAL INFILE %s IGNORE INTO TABLE {table} CHARACTER SET utf8mb4"
            " FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''"
            f" LINES TERMINATED BY '\\n' ({fields}) SET {assign}"
        )
        with raw.cursor() as cursor:
            return int(cursor.execute(sql, (str(path),)))


def lock_for_load(conn: sa.Connection, table: str) -> None:
    """PostgreSQL: hold ``table`` against other writers to the end of the transaction, so that
    no row slips in between a look-up of the stored keys and the load (readers go on)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


def _postgresql(
    raw: Any, table: str, columns: Sequence[str], arrow: pa.Table, *, fresh: bool = False
) -> int:
    buffer = io.BytesIO()
    pacsv.write_csv(arrow, buffer, pacsv.WriteOptions(include_header=False))
    data = buffer.getbuffer()
    names = ", ".join(columns)

    def copy_into(cursor: Any, target: str) -> None:
        with cursor.copy(f"COPY {target} ({names}) FROM STDIN (FORMAT csv)") as copy:
            for start in range(0, len(data), _COPY_CHUNK):
                copy.write(data[start : start + _COPY_CHUNK])

    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Held to the end of the transaction: no other writer can slip rows in between the
        # emptiness check and the COPY below (readers are not blocked).
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        if not fresh:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        if fresh or not cursor.fetchone()[0]:
            # An empty table, or keys the caller found in no stored row under this lock, and
            # a batch without duplicate keys: nothing can conflict, so the rows go straight in
            # (every piece of a first load of a large file).
            copy_into(cursor, table)
            return len(arrow)
        staging = f"tf_stage_{table}"
        cursor.execute(
            f"CREATE TEMP TABLE {staging} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        copy_into(cursor, staging)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING"
        )
        inserted = int(cursor.rowcount)
        cursor.execute(f"DROP TABLE {staging}")
    return inserted


def insert_ignore(
    conn: sa.Connection,
    table: str,
    frame: pd.DataFrame,
    kinds: dict[str, ColumnKind],
    key: Sequence[str] = (),
    *,
    fresh: bool = False,
) -> int:
    """Insert the rows of ``frame`` whose key is not in ``table`` yet; returns how many were.

    ``key`` (the table's key columns) puts the rows in key order first; the batch must not
    repeat a key (validation quarantines repeats), so the order decides nothing else.
    ``fresh``: the caller found none of these keys stored, under ``lock_for_load``."""
    if frame.empty:
        return 0
    frame = in_key_order(frame, key)
    columns = list(kinds)
    raw = conn.connection.driver_connection
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return _sqlite(raw, table, columns, _sqlite_values(frame, kinds, columns))
    arrow = pa.table({c: _arrow_column(frame[c], kinds[c]) for c in columns})
    if dialect == "postgresql":
        return _postgresql(raw, table, columns, arrow, fresh=fresh)
    if dialect == "mysql":
        return _mysql(raw, table, columns, arrow)
    raise ValueError(f"no bulk path for the {dialect} dialect")
