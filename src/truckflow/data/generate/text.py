"""Fast text columns in the course's exact formats, and a CSV sink that writes them.

Formatting millions of numbers one by one is what makes CSV writing slow. Nearly every column
here takes few distinct values (an hour, a whole temperature, a vehicle count, a date), so a
column is written as a dictionary array: the few distinct strings are formatted once, and
pyarrow's C++ CSV writer emits each row by index. Values that are all distinct (arrival
timestamps, ids) come from the small tables only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from numpy.typing import NDArray

from truckflow.data.generate.errors import GenerateError

__all__ = ["CsvSink", "coded", "fixed", "float_repr", "ints", "tenths", "zeros"]

_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536)


def coded(
    codes: NDArray[np.integer],
    vocab: Sequence[str] | pa.Array,
    blank: NDArray[np.bool_] | None = None,
) -> pa.DictionaryArray:
    """Strings ``vocab[codes]``; rows under ``blank`` are written empty."""
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=blank, type=pa.int32())
    values = vocab if isinstance(vocab, pa.Array) else pa.array(list(vocab), type=pa.string())
    return pa.DictionaryArray.from_arrays(indices, values)


def fixed(
    values: NDArray[np.float64], suffix: str, blank: NDArray[np.bool_] | None = None
) -> pa.DictionaryArray:
    """Whole numbers with a fixed tail: 276 -> ``276.0`` (suffix ``.0``), 21 -> ``21.00``."""
    whole = np.rint(values).astype(np.int64)
    if whole.size == 0:
        return coded(whole, [])
    lo, hi = int(whole.min()), int(whole.max())
    return coded(whole - lo, [f"{v}{suffix}" for v in range(lo, hi + 1)], blank)


def tenths(values: NDArray[np.float64], decimals: int) -> pa.DictionaryArray:
    """Non-negative multiples of 0.1: ``0.1`` (1 decimal) or ``0.10`` (2 decimals)."""
    steps = np.rint(values * 10).astype(np.int64)
    top = int(steps.max()) if steps.size else 0
    return coded(steps, [f"{k / 10:.{decimals}f}" for k in range(top + 1)])


def float_repr(values: NDArray[np.float64]) -> pa.Array:
    """Shortest round-trip text, as pandas writes floats: ``1735.06``, ``34.7``, ``35.0``."""
    return pa.array([repr(v) for v in np.asarray(values, dtype=np.float64).tolist()], pa.string())


def ints(values: NDArray[np.integer]) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64))


def zeros(n: int) -> pa.DictionaryArray:
    return coded(np.zeros(n, dtype=np.int32), ["0"])


class CsvSink:
    """One course file: its header, then rows in batches, into ``<name>.part`` until committed.

    ``commit()`` renames the part file to its final name; a failure before that leaves no
    half-written file under the course's name.
    """

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.header = list(header)
        self.rows = 0
        self._file = self.part.open("wb")
        self._file.write((",".join(self.header) + "\n").encode())
        self._writer: pa_csv.CSVWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, columns: Sequence[pa.Array]) -> None:
        if len(columns) != len(self.header):
            raise GenerateError(
                f"{self.path.name}: {len(columns)} columns for {len(self.header)} names"
            )
        table = pa.table(list(columns), names=self.header)
        if self._writer is None:
            self._schema = table.schema
            self._writer = pa_csv.CSVWriter(self._file, table.schema, write_options=_OPTIONS)
        try:
            self._writer.write_table(table.cast(self._schema))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise GenerateError(f"{self.path.name}: cannot write rows: {exc}") from exc
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self._file.closed:
            self._file.close()

    def commit(self) -> None:
        self.close()
        self.part.replace(self.path)

    def discard(self) -> None:
        self.close()
        self.part.unlink(missing_ok=True)

    def __enter__(self) -> CsvSink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
