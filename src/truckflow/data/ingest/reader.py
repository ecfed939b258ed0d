"""Reading one course CSV file into a typed batch, fast (pyarrow.csv), with line numbers.

A file that cannot be read as the table it claims to be (empty, not UTF-8, a required column
missing, truncated in the middle of its last line) raises ``IngestError``; a line that is merely
malformed (wrong number of fields, a quoted field that does not close on it, a field over the
size limit) becomes a ``BadLine`` for quarantine; a value of the wrong type is left to
validation through ``Batch.unparsed``. Every data line of the file is either a row of the batch
or a bad line: that is checked, never assumed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from truckflow.data.course_format import ColumnSpec, TableSpec
from truckflow.data.errors import IngestError
from truckflow.data.ingest.batch import BadLine, Batch, coerce_columns
from truckflow.data.ingest.lines import DEFAULT_MAX_FIELD_BYTES, Screened, screen_lines

__all__ = ["CHUNK_BYTES", "read_course_chunks", "read_course_file"]

_BOM = b"\xef\xbb\xbf"
_ARROW_TYPES: dict[str, pa.DataType] = {
    # Integers are read as floats so that "3000.0" or a blank is a value, not a parse failure;
    # validation checks they are whole.
    "int": pa.float64(),
    "float": pa.float64(),
    # Dictionary-encoded: ids repeat millions of times; pandas gets a Categorical, which makes
    # the null, reference and duplicate checks work on small integer codes.
    "str": pa.dictionary(pa.int32(), pa.string()),
    "date": pa.timestamp("ns"),
    "datetime": pa.timestamp("ns"),
}


def _header(data: bytes, name: str) -> list[str]:
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")
    try:
        return next(csv.reader([first]))
    except (csv.Error, StopIteration) as exc:
        raise IngestError(f"{name}: line 1 is not a CSV header: {exc}") from exc


def _check_text(data: bytes, name: str, offset: int = 0) -> None:
    if not data or data.isspace():  # isspace stops at the first other byte: no copy
        raise IngestError(f"{name}: the file is empty")
    if b"\x00" in data[:65536]:
        raise IngestError(f"{name}: not a CSV text file (binary content)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1 + offset
        raise IngestError(
            f"{name}: not UTF-8 text (byte {data[exc.start]:#04x} on line {line})",
            hint="save the file as UTF-8",
        ) from exc


_BLOCK_BYTES = 1 << 24


def _parse(
    data: bytes,
    spec: TableSpec,
    present: list[ColumnSpec],
    *,
    typed: bool,
    threads: bool,
    block_size: int = _BLOCK_BYTES,
) -> tuple[pa.Table, list[tuple[int | None, str, int, int]]]:
    invalid: list[tuple[int | None, str, int, int]] = []

    def on_invalid(row: Any) -> str:
        invalid.append((row.number, row.text, row.actual_columns, row.expected_columns))
        return "skip"

    types = {c.source: (_ARROW_TYPES[c.kind] if typed else pa.string()) for c in present}
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(use_threads=threads, block_size=block_size),
        # Empty lines stay rows (of blanks) so that every physical line keeps its number.
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            include_columns=[c.source for c in present],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            check_utf8=False,  # checked once above, with the line named
        ),
    )
    return table, invalid


def _line_numbers(
    n_rows: int, n_lines: int, bad_numbers: list[int]
) -> np.ndarray[Any, np.dtype[np.int64]] | None:
    """Physical line of each parsed row: lines 2.. of the file, less the malformed ones; None
    when the counts disagree (a quoted field ran over a line end)."""
    lines = np.arange(2, n_lines + 2, dtype=np.int64)
    if bad_numbers:
        lines = lines[~np.isin(lines, np.asarray(bad_numbers, dtype=np.int64))]
    return lines if len(lines) == n_rows else None


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc
    return data.removeprefix(_BOM)


def read_course_file(
    path: Path, spec: TableSpec, *, max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES
) -> Batch:
    """Read ``path`` as the course file of ``spec.table``; a field over ``max_field_bytes``
    quarantines its line."""
    return _read_data(_read_bytes(path), spec, path.name, max_field_bytes)


# A file larger than this is read in pieces of about this size, cut at line ends, so that the
# memory of an ingest depends on this size and not on the file's (scale 10 traffic: 820 MB).
CHUNK_BYTES = 32 << 20


def _pieces(path: Path, chunk_bytes: int) -> Iterator[tuple[bytes, bytes, bool]]:
    """The header line, then runs of whole lines of about ``chunk_bytes``; the flag says last."""
    try:
        with path.open("rb") as handle:
            header = handle.readline().removeprefix(_BOM)
            carry = b""
            while True:
                block = handle.read(chunk_bytes)
                buffer = carry + block
                if not block:
                    yield header, buffer, True
                    return
                cut = buffer.rfind(b"\n")
                if cut < 0:  # one line longer than a piece: read on
                    carry = buffer
                    continue
                carry = buffer[cut + 1 :]
                yield header, buffer[: cut + 1], False
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc


def read_course_chunks(
    path: Path,
    spec: TableSpec,
    *,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[Batch]:
    """``path`` as batches of whole lines, numbered as lines of the whole file; one batch when
    the file is not larger than ``chunk_bytes``. Each piece is checked as a file of its own
    (text, columns, lines); only the last can be truncated."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc
    if size <= chunk_bytes:
        yield read_course_file(path, spec, max_field_bytes=max_field_bytes)
        return
    offset = 0
    for header, body, last in _pieces(path, chunk_bytes):
        if not body and offset:
            return  # the file ended with the previous piece
        batch = _read_data(header + body, spec, path.name, max_field_bytes, offset=offset)
        offset += body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
        yield batch
        if last:
            return


def _shifted(batch: Batch, offset: int) -> Batch:
    """A piece's line numbers as lines of the whole file."""
    if not offset:
        return batch
    batch.line_no = batch.line_no + offset
    batch.bad_lines = [BadLine(b.line_no + offset, b.text, b.reason) for b in batch.bad_lines]
    return batch


def _read_data(
    data: bytes, spec: TableSpec, name: str, max_field_bytes: int, *, offset: int = 0
) -> Batch:
    """The bytes of a course file (or of a piece: ``offset`` data lines come before it)."""
    _check_text(data, name, offset)
    header = _header(data, name)
    missing = [c.source for c in spec.columns if c.required and c.source not in header]
    if missing:
        raise IngestError(
            f"{name}: required column(s) {', '.join(missing)} missing from the header",
            hint=f"{spec.table} needs the columns {', '.join(c.source for c in spec.columns)}",
        )
    present = [c for c in spec.columns if c.source in header]
    ends_cleanly = data.endswith(b"\n")
    n_lines = data.count(b"\n") - (1 if ends_cleanly else 0)  # data lines, header excluded
    screened = screen_lines(data, max_field_bytes)
    parsed = _parse_screened(screened, spec, present, n_lines, name)
    if parsed is None:  # a quoted field still ran over a line end: check every quoted line
        screened = screen_lines(data, max_field_bytes, thorough=True)
        parsed = _parse_screened(screened, spec, present, n_lines, name)
    if parsed is None:
        raise IngestError(
            f"{name}: the parser and the file disagree on where lines end",
            hint="the course files have one row per line; fix the quoting of the file",
        )
    table, invalid, original, line_no = parsed
    last_line = n_lines + 1
    if not ends_cleanly and any(number == last_line for number, *_ in invalid):
        raise IngestError(
            f"{name}: truncated: line {last_line + offset} ends in the middle of a row",
            hint="the file was cut short; copy it again",
        )
    bad_lines = [
        BadLine(int(number or 0), text, f"malformed line: {actual} field(s), expected {expected}")
        for number, text, actual, expected in invalid
    ]
    unparsed: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = {}
    if original is None:
        typed = _typed_frame(table, spec)
    else:
        typed, unparsed = coerce_columns(spec, original)
    batch = Batch(
        spec=spec,
        source=name,
        frame=typed,
        line_no=line_no,
        unparsed=unparsed,
        original=original,
        bad_lines=bad_lines,
    )
    return _shifted(_without_screened(batch, screened.bad_lines), offset)


def _parse_screened(
    screened: Screened, spec: TableSpec, present: list[ColumnSpec], n_lines: int, name: str
) -> tuple[pa.Table, list[tuple[int | None, str, int, int]], Any, Any] | None:
    """Parse the screened bytes; None when rows and lines do not match one to one."""
    block = max(_BLOCK_BYTES, 2 * screened.longest_line + 1024)
    try:
        table, invalid, original = _parse_best(screened.data, spec, present, block_size=block)
        if invalid and any(number is None for number, *_ in invalid):
            # Threaded parsing does not know line numbers; a second, serial pass does.
            table, invalid, original = _parse_best(
                screened.data, spec, present, threads=False, block_size=block
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise IngestError(f"{name}: cannot be parsed as CSV: {exc}") from exc
    line_no = _line_numbers(table.num_rows, n_lines, [int(n or 0) for n, *_ in invalid])
    if line_no is None:
        return None
    return table, invalid, original, line_no


def _without_screened(batch: Batch, screened: list[BadLine]) -> Batch:
    """Drop the empty rows the screened lines became; they are bad lines of the batch."""
    if not screened:
        return batch
    keep = ~np.isin(batch.line_no, np.asarray([b.line_no for b in screened], dtype=np.int64))
    return Batch(
        spec=batch.spec,
        source=batch.source,
        frame=batch.frame.loc[keep].reset_index(drop=True),
        line_no=batch.line_no[keep],
        unparsed={k: v[keep] for k, v in batch.unparsed.items()},
        original=None
        if batch.original is None
        else batch.original.loc[keep].reset_index(drop=True),
        bad_lines=sorted([*batch.bad_lines, *screened], key=lambda b: b.line_no),
    )


def _typed_frame(table: pa.Table, spec: TableSpec) -> pd.DataFrame:
    """The frame of a file that parsed with its types: only the shape is left to settle."""
    columns: dict[str, Any] = {}
    n = table.num_rows
    for col in spec.columns:
        if col.source not in table.column_names:
            columns[col.name] = (
                np.full(n, np.nan)
                if col.kind in ("int", "float")
                else pd.Series([None] * n, dtype=object)
            )
            continue
        array = table.column(col.source)
        columns[col.name] = array.to_pandas()
    frame = pd.DataFrame(columns)
    for col in spec.columns:
        if col.kind in ("date", "datetime"):
            frame[col.name] = frame[col.name].astype("datetime64[ns]")
    return frame


def _parse_best(
    data: bytes,
    spec: TableSpec,
    present: list[ColumnSpec],
    *,
    threads: bool = True,
    block_size: int = _BLOCK_BYTES,
) -> tuple[pa.Table, list[tuple[int | None, str, int, int]], Any]:
    """Typed parsing first (fast); if a value does not convert, the whole file as text, so that
    validation can name the rows and columns at fault."""
    try:
        table, invalid = _parse(
            data, spec, present, typed=True, threads=threads, block_size=block_size
        )
        return table, invalid, None
    except pa.ArrowInvalid as exc:
        if "conversion error" not in str(exc):
            raise
    table, invalid = _parse(
        data, spec, present, typed=False, threads=threads, block_size=block_size
    )
    original = table.to_pandas()
    for col in spec.columns:
        if col.source not in original.columns:
            original[col.source] = None
    return table, invalid, original[[c.source for c in spec.columns]]
