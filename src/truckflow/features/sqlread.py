"""The feature store's bulk paths on the DBAPI connection: typed columns in and out.

SQLAlchemy's result processing (a Row per row, SQLite's date strings parsed one by one) cost
two orders of magnitude more than the features' computation. Here a query is plain SQL with the
driver's own parameter style, rows come back as the driver's tuples, and each column is
converted in one vectorised call: timestamps are parsed once per distinct value. Feature rows
go in as one ``executemany`` of plain tuples, built column by column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from truckflow.features.inputs import FeatureError

__all__ = ["Kind", "SqlText", "column_kinds", "fetch_frame", "insert_rows"]

Kind = Literal["int", "float", "str", "time"]


def column_kinds(table: sa.Table) -> dict[str, Kind]:
    """How each column of ``table`` is converted: by its SQL type."""
    kinds: dict[str, Kind] = {}
    for column in table.columns:
        kind: Kind
        if isinstance(column.type, sa.Date | sa.DateTime):
            kind = "time"
        elif isinstance(column.type, sa.Integer):
            kind = "int"
        elif isinstance(column.type, sa.Float):
            kind = "float"
        else:
            kind = "str"
        kinds[column.name] = kind
    return kinds


class SqlText:
    """One dialect's spelling: quoted names, its parameter mark, and bind values it compares
    the way SQLAlchemy stored them (SQLite keeps dates and timestamps as ISO text)."""

    def __init__(self, conn: Connection) -> None:
        self.dialect = conn.dialect.name
        self.mark = "?" if self.dialect == "sqlite" else "%s"
        self._preparer = conn.dialect.identifier_preparer

    def name(self, identifier: str) -> str:
        return str(self._preparer.quote(identifier))

    def names(self, identifiers: Sequence[str]) -> str:
        return ", ".join(self.name(i) for i in identifiers)

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def value(self, value: object) -> object:
        if self.dialect != "sqlite":
            return value
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, dt.date):
            return value.isoformat()
        return value


def _times(values: Sequence[Any]) -> np.ndarray:
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    if len(uniques) and isinstance(uniques[0], str):
        parsed = pd.to_datetime(pd.Index(uniques), format="ISO8601")
    else:  # the driver's date / datetime objects
        parsed = pd.to_datetime(pd.Index(uniques))
    stamps = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    out: np.ndarray = stamps[codes]  # code -1 (NULL) picks the appended NaT
    return out


def _numbers(values: Sequence[Any], kind: Kind) -> np.ndarray:
    if kind == "int":
        try:
            ints: np.ndarray = np.asarray(values, dtype=np.int64)
            return ints
        except (TypeError, ValueError):  # NULLs: float with NaN, as pandas would make it
            pass
    floats: np.ndarray = np.asarray(
        [np.nan if v is None else float(v) for v in values], dtype=np.float64
    )
    return floats


def _convert(values: Sequence[Any], kind: Kind, strings: dict[str, str]) -> np.ndarray:
    if kind == "time":
        return _times(values)
    if kind == "str":
        # One object per distinct text: a category repeated on every row is stored once.
        return np.asarray([v if v is None else strings.setdefault(v, v) for v in values], object)
    if kind == "float":
        try:
            floats: np.ndarray = np.asarray(values, dtype=np.float64)
            return floats
        except (TypeError, ValueError):
            pass
    return _numbers(values, kind)


# Rows converted at a time: the driver's tuples (some 30 bytes a value) live for one piece only.
FETCH_ROWS = 5_000


def fetch_frame(
    conn: Connection,
    sql: str,
    params: Sequence[object],
    kinds: dict[str, Kind],
    piece_rows: int = FETCH_ROWS,
    text_objects: bool = False,
) -> pd.DataFrame:
    """Run ``sql`` (selecting the columns of ``kinds``, in order) on the DBAPI connection under
    ``conn``'s transaction; the rows as a DataFrame with one dtype per column.

    Rows are fetched and converted ``piece_rows`` at a time, so that the memory beyond the typed
    columns is one piece's, whatever the number of rows. ``text_objects`` keeps text columns
    as object arrays (their distinct values shared) instead of pandas' string dtype."""
    raw = conn.connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    names = list(kinds)
    pieces: dict[str, list[np.ndarray]] = {name: [] for name in names}
    strings: dict[str, str] = {}
    try:
        cursor.execute(sql, tuple(params))
        while rows := cursor.fetchmany(piece_rows):
            values_of: list[Any] = list(zip(*rows, strict=True))
            del rows
            for name, values in zip(names, values_of, strict=True):
                pieces[name].append(_convert(values, kinds[name], strings))
            del values_of
    except conn.dialect.loaded_dbapi.Error as exc:
        raise FeatureError(f"query failed: {exc}: {sql[:200]}") from exc
    finally:
        cursor.close()
    columns: dict[str, Any] = {}
    for name in names:  # each column's pieces dropped once joined
        joined = _joined(pieces.pop(name), kinds[name])
        text = text_objects and kinds[name] == "str"
        columns[name] = pd.Series(joined, dtype=object, copy=False) if text else joined
    return pd.DataFrame(columns)


def _joined(pieces: list[np.ndarray], kind: Kind) -> np.ndarray:
    if not pieces:
        return _convert((), kind, {})
    if len(pieces) == 1:
        return pieces[0]
    # An int column with NULLs in one piece is float there: the whole column becomes float
    # with NaN, as one conversion of all the rows would make it.
    return np.concatenate(pieces)


def _bind_column(values: pd.Series, kind: Kind, dialect: str) -> list[Any]:
    """One column as the driver binds it: None for missing, SQLite's timestamps as text."""
    if kind == "time":
        stamps = values.to_numpy(dtype="datetime64[us]")
        if dialect == "sqlite":
            text = np.char.replace(np.datetime_as_string(stamps, unit="us"), "T", " ")
            out = text.astype(object)
        else:
            out = np.array(pd.Series(stamps).dt.to_pydatetime(), dtype=object)
        out[np.isnat(stamps)] = None
        return list(out.tolist())
    if kind == "str":
        return list(values.astype(object).where(values.notna(), None).tolist())
    missing = values.isna().to_numpy()
    if kind == "int":
        plain = values.to_numpy(dtype=np.float64, na_value=np.nan)
        ints = np.where(missing, 0, plain).astype(np.int64).astype(object)
    else:
        ints = values.to_numpy(dtype=np.float64, na_value=np.nan).astype(object)
    ints[missing] = None
    return list(ints.tolist())


def insert_rows(conn: Connection, table: str, frame: pd.DataFrame, kinds: dict[str, Kind]) -> None:
    """Insert every row of ``frame`` (the columns of ``kinds``) with one ``executemany``;
    a key already there fails, as a plain INSERT does."""
    sql = SqlText(conn)
    columns = [_bind_column(frame[name], kind, sql.dialect) for name, kind in kinds.items()]
    text = (
        f"INSERT INTO {sql.name(table)} ({sql.names(list(kinds))}) VALUES ({sql.marks(len(kinds))})"
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(text, list(zip(*columns, strict=True)))
    except conn.dialect.loaded_dbapi.Error as exc:
        raise FeatureError(f"writing {len(frame)} rows to {table} failed: {exc}") from exc
    finally:
        cursor.close()
