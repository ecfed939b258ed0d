"""Rows whose natural key is already taken by a row with other values: conflicts, never silent.

The first row of a key wins (the course keeps the first too: ``drop_duplicates(keep='first')``).
A later row with the same key and the same values is a plain repeat ("already present"); one
with different values is a conflict: counted per table, and recorded with the kept row and the
rejected one, like the quarantine. Three places a key can be taken: an earlier line of the same
file (``within_batch``), a file earlier in the same run, or the database (``against_stored``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.data.course_format import ColumnSpec, TableSpec
from truckflow.data.ingest.batch import as_objects
from truckflow.store.tables import ingest_conflicts, metadata

__all__ = ["Conflict", "against_stored", "check_stored", "same_values", "write_conflicts"]

# Columns whose blank on one side is not a difference: labels withheld (``until``, streaming)
# and filled in later.
_FILLED_LATER = {("truck_schedule", "delay")}
# Values of a key's first column per look-up query (SQLite allows 32,766 bound parameters,
# PostgreSQL 65,535).
_KEYS_PER_QUERY = 10_000


@dataclass(frozen=True)
class Conflict:
    """A rejected row and the row that kept its key."""

    line_no: int
    key: dict[str, Any]
    kept: dict[str, Any]
    rejected: dict[str, Any]
    kept_from: str  # "line N of FILE" or "the database"


def _numbers(values: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=np.float64)


def _column_equal(
    col: ColumnSpec, a: pd.Series[Any], b: pd.Series[Any], *, seconds: bool, blank_ok: bool
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    if col.kind in ("int", "float"):
        x, y = _numbers(a), _numbers(b)
        # rtol: single-precision FLOAT columns (MariaDB) give back a close, not equal, value.
        equal = np.isclose(x, y, rtol=1e-6, atol=1e-9) | (np.isnan(x) & np.isnan(y))
        blank = np.isnan(x) | np.isnan(y)
    elif col.kind in ("date", "datetime"):
        unit = "datetime64[s]" if seconds else "datetime64[us]"
        u = pd.to_datetime(a).to_numpy(dtype="datetime64[ns]").astype(unit)
        v = pd.to_datetime(b).to_numpy(dtype="datetime64[ns]").astype(unit)
        equal = (u == v) | (np.isnat(u) & np.isnat(v))
        blank = np.isnat(u) | np.isnat(v)
    else:
        p, q = as_objects(a), as_objects(b)
        equal = np.asarray([i == j for i, j in zip(p, q, strict=True)], dtype=bool)
        blank = np.asarray([i is None or j is None for i, j in zip(p, q, strict=True)])
    return np.asarray(equal | blank if blank_ok else equal, dtype=bool)


def same_values(
    spec: TableSpec, a: pd.DataFrame, b: pd.DataFrame, *, seconds: bool = False
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Row by row, whether ``a`` and ``b`` (aligned, database column names) hold the same row."""
    equal = np.ones(len(a), dtype=bool)
    for col in spec.columns:
        if col.name in spec.key:
            continue
        blank_ok = (spec.table, col.name) in _FILLED_LATER
        equal &= _column_equal(
            col,
            a[col.name].reset_index(drop=True),
            b[col.name].reset_index(drop=True),
            seconds=seconds,
            blank_ok=blank_ok,
        )
    return equal


def _key_frame(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The key columns in one comparable form: numbers float, dates datetime64[us], text object."""
    out: dict[str, Any] = {}
    for name in spec.key:
        kind = spec.column(name).kind
        values = frame[name]
        if kind in ("int", "float"):
            out[name] = _numbers(values)
        elif kind in ("date", "datetime"):
            out[name] = (
                pd.to_datetime(values).to_numpy(dtype="datetime64[ns]").astype("datetime64[us]")
            )
        else:
            out[name] = as_objects(values)
    return pd.DataFrame(out)


def _stored(conn: sa.Connection, spec: TableSpec, good: pd.DataFrame) -> pd.DataFrame:
    """The database's rows that may share a key with ``good``: those of its date span, or the
    whole (small) table when it has no date."""
    table = metadata.tables[spec.table]
    query = sa.select(*[table.c[c.name] for c in spec.columns])
    if spec.date_column is not None:
        stamps = good[spec.date_column].to_numpy(dtype="datetime64[ns]")
        stamps = stamps[~np.isnat(stamps)]
        if not len(stamps):
            return pd.DataFrame(columns=spec.column_names)
        low, high = pd.Timestamp(stamps.min()), pd.Timestamp(stamps.max())
        column = table.c[spec.date_column]
        if spec.column(spec.date_column).kind == "date":
            query = query.where(column.between(low.date(), high.date()))
        else:
            query = query.where(column.between(low.to_pydatetime(), high.to_pydatetime()))
    lead = spec.key[0] if spec.key else None
    if lead is None or lead == spec.date_column:
        rows = list(conn.execute(query).all())
    else:
        # Looked up by the batch's values of the key's first column (the primary key's
        # leading column, so an index seek each), a group at a time under the engines' bound
        # parameter limits: a piece of a large file then reads only the rows that can share
        # a key, never the whole date span of everything loaded before it (a scan per piece).
        values = pd.unique(as_objects(good[lead]))
        whole = spec.column(lead).kind == "int"
        wanted = [int(v) if whole else v for v in values.tolist() if v is not None]
        rows = []
        for start in range(0, len(wanted), _KEYS_PER_QUERY):
            group = wanted[start : start + _KEYS_PER_QUERY]
            rows.extend(conn.execute(query.where(table.c[lead].in_(group))).all())
    return pd.DataFrame(rows, columns=spec.column_names)


def against_stored(
    conn: sa.Connection, spec: TableSpec, good: pd.DataFrame, line_no: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], list[Conflict]]:
    """Which rows of ``good`` conflict with a row already stored, and the conflicts."""
    conflicting, found, _ = check_stored(conn, spec, good, line_no)
    return conflicting, found


def check_stored(
    conn: sa.Connection, spec: TableSpec, good: pd.DataFrame, line_no: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], list[Conflict], int]:
    """``against_stored``, plus how many rows of ``good`` share a key with a stored row (0:
    none of them can collide, so a loader may skip its own conflict handling)."""
    conflicting = np.zeros(len(good), dtype=bool)
    if good.empty:
        return conflicting, [], 0
    stored = _stored(conn, spec, good)
    if stored.empty:
        return conflicting, [], 0
    mine, theirs = _key_frame(spec, good), _key_frame(spec, stored)
    mine["_pos"] = np.arange(len(good))
    theirs["_stored"] = np.arange(len(stored))
    pairs = mine.merge(theirs, on=list(spec.key), how="inner")
    if pairs.empty:
        return conflicting, [], 0
    ours = good.iloc[pairs["_pos"].to_numpy()]
    kept = stored.iloc[pairs["_stored"].to_numpy()]
    differ = ~same_values(spec, ours, kept, seconds=conn.dialect.name == "mysql")
    positions = pairs["_pos"].to_numpy()[differ]
    conflicting[positions] = True
    found = [
        Conflict(
            line_no=int(line_no[pos]),
            key={k: _plain(good[k].iloc[pos]) for k in spec.key},
            kept=_record(kept.iloc[i]),
            rejected=_record(good.iloc[pos]),
            kept_from="the database",
        )
        for pos, i in zip(positions.tolist(), np.flatnonzero(differ).tolist(), strict=True)
    ]
    return conflicting, found, len(pairs)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | float | str | bool):
        return value
    return str(pd.Timestamp(value)) if hasattr(value, "year") else str(value)


def _record(row: pd.Series[Any]) -> dict[str, Any]:
    return {str(k): _plain(v) for k, v in row.items()}


def write_conflicts(
    conn: sa.Connection, run_id: str, table: str, source: str, conflicts: Iterable[Conflict]
) -> None:
    """Record ``conflicts``; the same rejected row of the same file is recorded once."""
    from truckflow.data.ingest.records import insert_ignoring_duplicates

    rows = []
    for c in conflicts:
        rejected = json.dumps(c.rejected, sort_keys=True, default=str)
        rows.append(
            {
                "run_id": run_id,
                "table_name": table,
                "source_file": source,
                "line_no": c.line_no,
                "row_hash": hashlib.sha256(rejected.encode()).hexdigest(),
                "key": json.dumps(c.key, sort_keys=True, default=str),
                "kept": json.dumps(c.kept, sort_keys=True, default=str),
                "kept_from": c.kept_from,
                "rejected": rejected,
            }
        )
    insert_ignoring_duplicates(conn, ingest_conflicts, rows)
