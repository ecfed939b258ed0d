"""A batch of rows on its way into one table: typed columns plus where each row came from.

Both ways in end here: a course CSV file (``reader``) and a frame already in memory
(``batch_from_frame``). Columns are coerced to one representation the validation works on:
numbers as float64 (NaN for blank), strings as strings (NULL for blank), dates and timestamps as
datetime64[ns] (NaT for blank). A value that was given but could not be coerced is remembered
in ``unparsed`` so that its row is quarantined with the column named.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from truckflow.data.course_format import ColumnSpec, TableSpec

__all__ = [
    "BadLine",
    "Batch",
    "as_objects",
    "batch_from_frame",
    "coerce_columns",
    "frame_pieces",
    "frames_pieces",
    "raw_records",
    "rows_pieces",
]


@dataclass(frozen=True)
class BadLine:
    """A line that is not a row of the table at all (wrong number of fields, say)."""

    line_no: int
    text: str
    reason: str


@dataclass
class Batch:
    """Rows for one table from one source, in the database's column names."""

    spec: TableSpec
    source: str
    frame: pd.DataFrame
    line_no: np.ndarray[Any, np.dtype[np.int64]]
    unparsed: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = field(default_factory=dict)
    # The values as they were given, for quarantine; None when ``frame`` renders them faithfully.
    original: pd.DataFrame | None = None
    bad_lines: list[BadLine] = field(default_factory=list)
    beyond_until: int = 0

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> Batch:
        """The rows where ``mask`` is true (used to drop rows dated after ``until``)."""
        return Batch(
            spec=self.spec,
            source=self.source,
            frame=self.frame.loc[mask].reset_index(drop=True),
            line_no=self.line_no[mask],
            unparsed={k: v[mask] for k, v in self.unparsed.items()},
            original=None
            if self.original is None
            else self.original.loc[mask].reset_index(drop=True),
            bad_lines=self.bad_lines,
            beyond_until=self.beyond_until + int((~mask).sum()),
        )


def as_objects(values: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
    """A column as Python objects with None for missing (what DBAPI drivers bind as NULL)."""
    missing: Any = None
    return np.asarray(values.to_numpy(dtype=object, na_value=missing), dtype=object)


def _coerce(col: ColumnSpec, values: pd.Series[Any]) -> pd.Series[Any]:
    if col.kind in ("int", "float"):
        if pd.api.types.is_bool_dtype(values):
            values = values.astype("float64")
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if col.kind in ("date", "datetime"):
        if pd.api.types.is_datetime64_any_dtype(values):
            return values.astype("datetime64[ns]")
        text = values.astype("string")
        return pd.to_datetime(text, format="ISO8601", errors="coerce").astype("datetime64[ns]")
    out = values.astype("string")
    # A blank categorical is "not known", stored as NULL like the file's empty field.
    return out.mask(out.str.len() == 0).astype(object).where(out.notna(), None)


def _given(values: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    given = np.array(values.notna().to_numpy(), dtype=bool)
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        given &= values.astype("string").str.len().fillna(0).to_numpy() > 0
    return given


def coerce_columns(
    spec: TableSpec, frame: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, np.ndarray[Any, np.dtype[np.bool_]]]]:
    """Coerce a frame in the course's column names; returns it in database names, plus the
    mask per column of values that were given but are not of the column's type."""
    out: dict[str, pd.Series[Any]] = {}
    unparsed: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = {}
    for col in spec.columns:
        source = frame[col.source].reset_index(drop=True)
        coerced = _coerce(col, source)
        bad = _given(source) & coerced.isna().to_numpy()
        if bad.any():
            unparsed[col.name] = bad
        out[col.name] = coerced
    return pd.DataFrame(out), unparsed


def batch_from_frame(spec: TableSpec, frame: pd.DataFrame, source: str) -> Batch:
    """A batch from rows already in memory, in the course's columns (``ts`` for ``Date`` too).

    Rows are numbered from 1 in the frame's order; that number stands for the line."""
    frame = frame.rename(columns={c.name: c.source for c in spec.columns if c.name != c.source})
    missing = [c.source for c in spec.columns if c.required and c.source not in frame.columns]
    if missing:
        from truckflow.data.errors import IngestError

        raise IngestError(f"{source}: rows for {spec.table} lack the column(s) {missing}")
    for col in spec.columns:
        if col.source not in frame.columns:
            frame = frame.assign(**{col.source: None})
    typed, unparsed = coerce_columns(spec, frame)
    original = frame[[c.source for c in spec.columns]].reset_index(drop=True)
    return Batch(
        spec=spec,
        source=source,
        frame=typed,
        line_no=np.arange(1, len(typed) + 1, dtype=np.int64),
        unparsed=unparsed,
        original=original,
    )


def frame_pieces(
    spec: TableSpec, frame: pd.DataFrame, source: str, piece_rows: int | None = None
) -> Iterable[Batch]:
    """``batch_from_frame`` a piece of about ``piece_rows`` rows at a time (one batch when the
    frame is not larger, or ``piece_rows`` is None), numbered as rows of the whole frame; each
    piece is made when it is asked for.

    Every row sharing a natural key with an earlier row goes into the piece of the key's first
    row (the rest keep their order), so that each piece validates as the whole frame would:
    repeats and conflicts are found within the piece, with the line they repeat; never against
    a row loaded from an earlier piece."""
    if piece_rows is None or len(frame) <= piece_rows:
        return [batch_from_frame(spec, frame, source)]
    if piece_rows < 1:
        raise ValueError(f"piece_rows must be >= 1, got {piece_rows}")
    batch_from_frame(spec, frame.iloc[0:0], source)  # a frame lacking columns fails here
    return _pieces(spec, frame, source, _piece_of_rows(spec, frame, piece_rows))


def frames_pieces(
    spec: TableSpec, frames: Iterable[pd.DataFrame], source: str, piece_rows: int | None = None
) -> Iterator[Batch]:
    """``frame_pieces`` of frames that come one after the other (a file read a piece at a time),
    numbered as rows of them all together; each frame is taken when its first batch is asked
    for, so only one is held.

    A key repeated in a later frame is not brought back to its first row's piece: that row is
    in the database by then, and the repeat is found against it (already present, or a
    conflict with the database), as when ``data ingest`` reads a large file in pieces."""
    offset = 0
    for frame in frames:
        for batch in frame_pieces(spec, frame, source, piece_rows):
            batch.line_no = batch.line_no + offset
            yield batch
        offset += len(frame)


def rows_pieces(
    spec: TableSpec,
    rows: pd.DataFrame | Iterable[pd.DataFrame],
    source: str,
    piece_rows: int | None = None,
) -> Iterable[Batch]:
    """The batches of a table's rows given as one frame (``frame_pieces``) or as frames one
    after the other (``frames_pieces``)."""
    if isinstance(rows, pd.DataFrame):  # a frame is iterable too: over its column names
        return frame_pieces(spec, rows, source, piece_rows)
    return frames_pieces(spec, rows, source, piece_rows)


def _pieces(
    spec: TableSpec, frame: pd.DataFrame, source: str, piece: np.ndarray[Any, np.dtype[np.int64]]
) -> Iterator[Batch]:
    for k in np.unique(piece).tolist():
        rows = np.flatnonzero(piece == k)
        batch = batch_from_frame(spec, frame.iloc[rows], source)
        batch.line_no = rows.astype(np.int64) + 1
        yield batch


def _piece_of_rows(
    spec: TableSpec, frame: pd.DataFrame, piece_rows: int
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each row's piece: that of the first row with its key (as validation compares keys:
    the coerced values, blanks alike)."""
    named = frame.rename(columns={c.name: c.source for c in spec.columns if c.name != c.source})
    columns = [spec.column(k) for k in spec.key if spec.column(k).source in named.columns]
    if not columns:
        return np.arange(len(frame), dtype=np.int64) // piece_rows
    # One key column at a time, each folded into the group number at once: a week's traffic
    # (4M rows at scale 10) never has its coerced keys side by side, nor as Python strings.
    group = np.zeros(len(frame), dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(_key_values(col, named[col.source]), use_na_sentinel=True)
        folded = group * (len(uniques) + 1) + (codes.astype(np.int64) + 1)
        group = np.asarray(pd.factorize(folded)[0], dtype=np.int64)
    _, first = np.unique(group, return_index=True)  # the first row of each key
    return np.asarray(first[group], dtype=np.int64) // piece_rows


def _key_values(col: ColumnSpec, values: pd.Series[Any]) -> pd.Series[Any]:
    """A key column's values as validation compares them (``_coerce``), blanks alike, text kept
    in pandas' string dtype rather than as Python objects."""
    values = values.reset_index(drop=True)
    if col.kind != "str":
        return _coerce(col, values)
    text = values.astype("string")
    return text.mask(text.str.len() == 0)


def raw_records(
    batch: Batch, positions: np.ndarray[Any, np.dtype[np.int64]]
) -> list[dict[str, Any]]:
    """The rows at ``positions`` as JSON-ready dicts in the course's column names."""
    source = batch.original
    if source is None:
        source = batch.frame.rename(columns={c.name: c.source for c in batch.spec.columns})
    rows = source.iloc[positions]
    records: list[dict[str, Any]] = []
    for rec in rows.to_dict(orient="records"):
        records.append({str(k): _jsonable(v) for k, v in rec.items()})
    return records


def _jsonable(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        text = value.isoformat(sep=" ")
        return text[:10] if text.endswith(" 00:00:00") else text
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)
