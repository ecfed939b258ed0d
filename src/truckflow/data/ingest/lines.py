"""Screening a course file line by line before the CSV parser sees it, so that no line is lost.

The course format has no multi-line fields. A CSV parser does not know that: a quoted field that
does not close on its line swallows every line after it into one value, and a field bigger than
the parser's block stops the whole file. Both are found here and their lines are set aside (to be
quarantined with their line number and reason); the parser then reads the lines left.

Cheap on clean files: a file without a double quote skips the quote check (one ``count``), and
a file smaller than the size limit cannot hold a field over it. Otherwise the work is vectorised
(numpy over the bytes); only the suspicious lines are looked at one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from truckflow.data.ingest.batch import BadLine

__all__ = ["DEFAULT_MAX_FIELD_BYTES", "Screened", "screen_lines", "unclosed_quote"]

DEFAULT_MAX_FIELD_BYTES = 1 << 20
_SHOWN_BYTES = 2000  # of a rejected line, kept in quarantine: enough to recognise it
_NEWLINE = 10
_QUOTE = 34

# One line of fields as the parser reads them: a field that starts with a quote runs to the
# next lone quote ("" is an escaped quote); anything may follow the closing quote up to the
# comma; a quote inside an unquoted field is a plain character.
_FIELD = rb'(?:"(?:[^"]|"")*"[^,]*|[^",][^,]*|)'
_CLOSED_LINE = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*\r?")

IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass
class Screened:
    """The file's bytes with the rejected lines emptied, and what was rejected."""

    data: bytes
    bad_lines: list[BadLine]
    longest_line: int  # bytes, of the lines left: the parser's block must hold one


def unclosed_quote(line: bytes) -> bool:
    """Whether a quoted field on ``line`` is still open at its end."""
    return _CLOSED_LINE.fullmatch(line) is None


def _line_starts(data: bytes) -> IntArray:
    """Offset of the first byte of every line (the header is line 1)."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE)
    return np.concatenate(([0], ends + 1)).astype(np.int64)


def _shown(line: bytes) -> str:
    text = line[:_SHOWN_BYTES].decode("utf-8", errors="replace")
    if len(line) > _SHOWN_BYTES:
        text += f"... ({len(line):,} bytes in all)"
    return text


def _field_too_long(line: bytes, limit: int) -> int:
    """The size of the largest field on ``line`` when it is over ``limit``, else 0."""
    largest = max((len(f) for f in line.split(b",")), default=0)
    return largest if largest > limit else 0


def _lengths(data: bytes, starts: IntArray) -> IntArray:
    """Bytes of every line, its newline excluded."""
    return np.diff(np.append(starts, len(data) + 1)) - 1


def _odd_quotes(data: bytes, starts: IntArray) -> IntArray:
    """Line indexes (0 = header) with an odd number of double quotes."""
    if _QUOTE.to_bytes() not in data:
        return np.zeros(0, dtype=np.int64)
    quotes = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _QUOTE)
    per_line = np.bincount(np.searchsorted(starts, quotes, side="right") - 1, minlength=len(starts))
    return np.flatnonzero(per_line % 2 == 1)


def _quoted_lines(data: bytes, starts: IntArray) -> IntArray:
    """Every line holding a double quote (the thorough pass)."""
    quotes = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _QUOTE)
    return np.unique(np.searchsorted(starts, quotes, side="right") - 1)


def screen_lines(data: bytes, max_field_bytes: int, *, thorough: bool = False) -> Screened:
    """Set aside the lines with a field over ``max_field_bytes`` or an unclosed quoted field.

    Their bytes are removed (the newline stays, so every other line keeps its number) and the
    caller drops the empty rows they become. ``thorough`` checks every line holding a quote,
    not only those with an odd number of them (a line like ``a"b,"c`` has two, one of them
    opening a field that never closes)."""
    if len(data) <= max_field_bytes and _QUOTE.to_bytes() not in data:
        return Screened(data, [], len(data))
    starts = _line_starts(data)
    lengths = _lengths(data, starts)
    long = np.flatnonzero(lengths > max_field_bytes)
    odd = _odd_quotes(data, starts)
    if thorough and _QUOTE.to_bytes() in data:
        odd = _quoted_lines(data, starts)
    bad: dict[int, BadLine] = {}
    ends = np.append(starts[1:] - 1, len(data))
    for index in sorted({*long.tolist(), *odd.tolist()}):
        if index == 0:
            continue  # the header: read on its own, before
        line = data[int(starts[index]) : int(ends[index])]
        largest = _field_too_long(line, max_field_bytes)
        if largest:
            reason = (
                f"a field of {largest:,} bytes, over the limit of {max_field_bytes:,}"
                " (setting ingest.max_field_bytes): fix the line, or raise the limit, and"
                " ingest the file again"
            )
        elif unclosed_quote(line):
            reason = (
                "a quoted field does not close on this line (a stray double quote): fix the"
                " line and ingest the file again"
            )
        else:
            continue
        bad[index] = BadLine(index + 1, _shown(line), reason)
    if not bad:
        return Screened(data, [], int(lengths.max()))
    # The line's bytes go, its newline stays: every other line keeps its number, and the
    # parser sees an empty line (a row of blanks, dropped by the caller).
    pieces, at = [], 0
    for index in sorted(bad):
        pieces.append(data[at : int(starts[index])])
        at = int(ends[index])
    pieces.append(data[at:])
    lengths[list(bad)] = 0
    return Screened(b"".join(pieces), list(bad.values()), int(lengths.max()))
