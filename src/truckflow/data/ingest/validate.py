"""Row-level validation of a batch, vectorised: every rule is one array operation over the batch.

Rows that break a rule are set aside for quarantine with every reason that applies; reasons
are written out only for those rows (a handful), never for the good ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from truckflow.data.course_format import ColumnSpec, TableSpec
from truckflow.data.ingest.batch import Batch, as_objects, raw_records
from truckflow.data.ingest.conflicts import Conflict, same_values

__all__ = ["QuarantineEntry", "Validated", "validate"]

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
_Describe = Callable[[int], str]


@dataclass(frozen=True)
class QuarantineEntry:
    """One rejected row: where it came from, what it held, and why it was rejected."""

    line_no: int
    raw: dict[str, Any]
    reason: str


@dataclass
class Validated:
    """The outcome of validating one batch: the rows to load and the rows to quarantine."""

    batch: Batch
    good: pd.DataFrame
    quarantined: list[QuarantineEntry]
    positions: np.ndarray[Any, np.dtype[np.int64]]  # of the good rows, in the batch
    conflicts: list[Conflict]  # later lines repeating a key with other values
    repeats: int = 0  # later lines repeating a row exactly: already present, not loaded again

    @property
    def read(self) -> int:
        return len(self.batch) + len(self.batch.bad_lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return str(value)
    return repr(value) if isinstance(value, str) else str(value)


def _column_rules(batch: Batch, col: ColumnSpec) -> list[tuple[BoolArray, _Describe]]:
    values = batch.frame[col.name]
    label = col.source
    rules: list[tuple[BoolArray, _Describe]] = []
    unparsed = batch.unparsed.get(col.name)
    if unparsed is not None:
        original = batch.original

        def not_typed(i: int) -> str:
            given = original[col.source].iloc[i] if original is not None else "?"
            return f"{label}: {given!r} is not a {col.kind}"

        rules.append((unparsed, not_typed))
    missing = np.array(values.isna().to_numpy(), dtype=bool)
    if unparsed is not None:
        missing &= ~unparsed
    if col.required:
        rules.append((missing, lambda i: f"{label}: missing"))
    if col.kind in ("int", "float"):
        rules.extend(_number_rules(values.to_numpy(dtype=np.float64), col))
    elif col.kind == "str" and col.max_length is not None:
        limit = col.max_length
        # Checked once per distinct value: ids repeat millions of times in the big tables.
        long = [v for v in _distinct(values) if isinstance(v, str) and len(v) > limit]
        if long:
            rules.append(
                (values.isin(long).to_numpy(), lambda i: f"{label}: longer than {limit} characters")
            )
    elif col.kind == "date":
        stamps = values.to_numpy(dtype="datetime64[ns]")
        timed = ~np.isnat(stamps) & (stamps != stamps.astype("datetime64[D]"))
        rules.append((timed, lambda i: f"{label}: {values.iloc[i]} is not a date"))
    return rules


def _distinct(values: pd.Series[Any]) -> list[Any]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    return list(pd.unique(as_objects(values)))


def _number_rules(
    numbers: np.ndarray[Any, Any], col: ColumnSpec
) -> list[tuple[BoolArray, _Describe]]:
    label = col.source
    known = ~np.isnan(numbers)
    rules: list[tuple[BoolArray, _Describe]] = []
    with np.errstate(invalid="ignore"):
        if col.kind == "int":
            rules.append(
                (
                    known & (np.floor(numbers) != numbers),
                    lambda i: f"{label}: {numbers[i]} is not a whole number",
                )
            )
        lo, hi = col.minimum, col.maximum
        if lo is not None or hi is not None:
            out = known & (
                (numbers < (lo if lo is not None else -np.inf))
                | (numbers > (hi if hi is not None else np.inf))
            )
            span = f"{_fmt(lo) if lo is not None else ''}..{_fmt(hi) if hi is not None else ''}"
            rules.append((out, lambda i: f"{label}: {_fmt(numbers[i])} outside {span}"))
        if col.step:
            step = col.step
            rules.append(
                (
                    known & (np.mod(numbers, step) != 0),
                    lambda i: f"{label}: {_fmt(numbers[i])} is not a multiple of {step} (HHMM)",
                )
            )
        if col.allowed is not None:
            allowed = sorted(col.allowed)
            shown = ", ".join(_fmt(a) for a in allowed)
            rules.append(
                (
                    known & ~np.isin(numbers, allowed),
                    lambda i: f"{label}: {_fmt(numbers[i])} not one of {shown}",
                )
            )
    return rules


def _reference_rules(
    batch: Batch, known: Mapping[str, pd.Index[Any]]
) -> list[tuple[BoolArray, _Describe]]:
    rules: list[tuple[BoolArray, _Describe]] = []
    for column, table in batch.spec.references:
        values = batch.frame[column]
        unknown = values.notna().to_numpy() & ~values.isin(known[table]).to_numpy()
        label = batch.spec.column(column).source

        def describe(
            i: int, values: pd.Series[Any] = values, label: str = label, table: str = table
        ) -> str:
            return f"{label}: {_fmt(values.iloc[i])} not in {table}"

        rules.append((unknown, describe))
    return rules


def _row_rules(batch: Batch) -> list[tuple[BoolArray, _Describe]]:
    rules: list[tuple[BoolArray, _Describe]] = []
    frame = batch.frame
    for later_name, earlier_name in batch.spec.after:
        later, earlier = frame[later_name], frame[earlier_name]
        wrong = (later.notna() & earlier.notna() & (later <= earlier)).to_numpy()

        def describe(
            i: int,
            later: pd.Series[Any] = later,
            earlier: pd.Series[Any] = earlier,
            names: tuple[str, str] = (later_name, earlier_name),
        ) -> str:
            return f"{names[0]} {later.iloc[i]} is not after {names[1]} {earlier.iloc[i]}"

        rules.append((wrong, describe))
    return rules


def _duplicates(
    frame: pd.DataFrame, key: list[str], line_no: np.ndarray[Any, Any], ok: BoolArray
) -> tuple[BoolArray, dict[int, int]]:
    """Later rows whose natural key repeats an earlier good row, and each one's first row."""
    dup = np.zeros(len(frame), dtype=bool)
    first_line: dict[int, int] = {}
    if not ok.any():
        return dup, first_line
    good = frame.loc[ok, key]
    later = good.duplicated(keep="first").to_numpy()
    if not later.any():
        return dup, first_line
    involved = good.loc[good.duplicated(keep=False).to_numpy()]
    group_first = (
        pd.Series(involved.index.to_numpy(), index=involved.index)
        .groupby([involved[k] for k in key], sort=False, dropna=False)
        .transform("first")
    )
    dup_positions = good.index.to_numpy()[later]
    dup[dup_positions] = True
    for pos in dup_positions:
        first_line[int(pos)] = int(group_first.loc[pos])
    return dup, first_line


def _split_repeats(
    batch: Batch, dup: BoolArray, first: dict[int, int]
) -> tuple[BoolArray, list[Conflict]]:
    """Of the later rows of a key: the exact repeats (harmless) and the conflicts."""
    positions = np.flatnonzero(dup)
    if not len(positions):
        return dup, []
    firsts = np.asarray([first[int(p)] for p in positions], dtype=np.int64)
    spec = batch.spec
    equal = same_values(spec, batch.frame.iloc[positions], batch.frame.iloc[firsts])
    repeat = np.zeros(len(dup), dtype=bool)
    repeat[positions[equal]] = True
    differ = positions[~equal]
    kept_at = firsts[~equal]
    conflicts = [
        Conflict(
            line_no=int(batch.line_no[pos]),
            key={k: raw[spec.column(k).source] for k in spec.key},
            kept=kept,
            rejected=raw,
            kept_from=f"line {int(batch.line_no[at])} of {batch.source}",
        )
        for pos, at, raw, kept in zip(
            differ.tolist(),
            kept_at.tolist(),
            raw_records(batch, differ),
            raw_records(batch, kept_at),
            strict=True,
        )
    ]
    return repeat, conflicts


def validate(batch: Batch, known: Mapping[str, pd.Index[Any]]) -> Validated:
    """Split ``batch`` into rows to load and rows to quarantine, each with its reasons.

    ``known`` maps each referenced table to the keys it holds (in the database and in the
    good rows of this run so far)."""
    spec: TableSpec = batch.spec
    n = len(batch)
    rules: list[tuple[BoolArray, _Describe]] = []
    for col in spec.columns:
        rules.extend(_column_rules(batch, col))
    rules.extend(_reference_rules(batch, known))
    rules.extend(_row_rules(batch))
    bad = np.zeros(n, dtype=bool)
    for mask, _ in rules:
        bad |= mask
    dup, first_row = _duplicates(batch.frame, list(spec.key), batch.line_no, ~bad)
    repeat, conflicts = _split_repeats(batch, dup, first_row)
    rejected = np.flatnonzero(bad)
    raws = raw_records(batch, rejected) if len(rejected) else []
    empty = np.zeros(n, dtype=bool)
    if len(rejected):
        empty[rejected] = batch.frame.iloc[rejected].isna().all(axis=1).to_numpy()
    entries = [
        QuarantineEntry(int(line), {"line": bad_line.text}, bad_line.reason)
        for bad_line in batch.bad_lines
        for line in [bad_line.line_no]
    ]
    for pos, raw in zip(rejected.tolist(), raws, strict=True):
        if empty[pos]:
            reason = "empty line"
        else:
            reason = "; ".join(describe(pos) for mask, describe in rules if mask[pos])
        entries.append(QuarantineEntry(int(batch.line_no[pos]), raw, reason))
    keep = ~(bad | dup)
    good = batch.frame.loc[keep].reset_index(drop=True) if not keep.all() else batch.frame
    return Validated(
        batch=batch,
        good=good,
        quarantined=entries,
        positions=np.flatnonzero(keep),
        conflicts=conflicts,
        repeats=int(repeat.sum()),
    )
