"""Every prediction captured in the database, written off the request path.

Requests put one small batch object on a queue (no conversion, no I/O); a writer thread turns
batches into rows and inserts them in large multi-row statements. ``flush`` waits until all that
was queued is written; ``close`` flushes and stops (the app calls it on shutdown).
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

import msgspec
import numpy as np
import sqlalchemy as sa

from truckflow.features.sqlread import SqlText
from truckflow.serving.tables import predictions
from truckflow.store import Database

__all__ = ["CaptureBatch", "CaptureWriter"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CaptureBatch:
    """The predictions of one request, kept as arrays until the writer thread expands them."""

    ids: Sequence[str]
    request_id: str
    feature_names: Sequence[str]
    features: np.ndarray
    probabilities: np.ndarray
    decisions: np.ndarray
    model_version: str
    stage: str
    created_at: datetime
    source: str
    inputs: Sequence[dict[str, Any]] | None = None

    def records(self, when: object) -> list[tuple[object, ...]]:
        """One tuple per prediction, in ``CAPTURE_COLUMNS`` order; JSON columns as text.

        The features are encoded by msgspec, not by SQLAlchemy's JSON type: on a 10,000-row
        batch the standard encoder and the per-row parameter processing held the GIL for
        about half a second, stalling the requests that came next.
        """
        features = feature_texts(self.feature_names, self.features)
        n = len(self.ids)
        inputs: list[str | None] = (
            [None] * n
            if self.inputs is None
            else [_ENCODER.encode(given).decode() for given in self.inputs]
        )
        decisions = [int(d) for d in self.decisions.tolist()]
        return list(
            zip(
                self.ids,
                repeat(self.request_id, n),
                inputs,
                features,
                self.probabilities.tolist(),
                decisions,
                repeat(self.model_version, n),
                repeat(self.stage, n),
                repeat(when, n),
                repeat(self.source, n),
                strict=True,
            )
        )


# Below this many rows a dict per row is as cheap as building a struct's rows.
_FEW_ROWS = 8


@functools.lru_cache(maxsize=8)
def _row_struct(names: tuple[str, ...]) -> Any:
    """A struct whose fields are the feature names, encoded as the keys of an object; None
    where a dict is needed: equal names (a dict keeps the last) or a name msgspec cannot
    rename to (a quote, a backslash or a control character; never the contract's)."""
    if len(set(names)) != len(names) or any(
        '"' in n or "\\" in n or any(ord(c) < 32 for c in n) for n in names
    ):
        return None
    fields = [(f"f{i}", Any) for i in range(len(names))]
    rename = {f"f{i}": n for i, n in enumerate(names)}
    return msgspec.defstruct("CapturedFeatures", fields, rename=rename)


def feature_texts(names: Sequence[str], features: np.ndarray) -> list[str]:
    """Each row as the JSON object ``{name: value, ...}`` msgspec writes for its dict. Many
    rows are encoded in one call as JSON lines of a struct (a newline never occurs inside JSON
    text): a dict and an encode per row held the GIL for about 60 ms per 10,000 rows against
    the requests."""
    rows = features.tolist()
    struct = None if len(rows) < _FEW_ROWS else _row_struct(tuple(map(str, names)))
    if struct is None:
        return [_ENCODER.encode(dict(zip(names, r, strict=True))).decode() for r in rows]
    lines = _ENCODER.encode_lines([struct(*row) for row in rows])
    return lines.decode().split("\n")[:-1]


CAPTURE_COLUMNS = (
    "id",
    "request_id",
    "inputs",
    "features",
    "probability",
    "decision",
    "model_version",
    "stage",
    "created_at",
    "source",
)
# msgspec writes NaN as null, which every engine's JSON type accepts (PostgreSQL refuses NaN).
_ENCODER = msgspec.json.Encoder()


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class CaptureWriter:
    """A queue and one writer thread that inserts captured predictions in batches."""

    def __init__(
        self, db: Database, *, batch_rows: int = 500, retries: int = 3, linger: float = 0.05
    ) -> None:
        self._db = db
        self._linger = linger
        self._batch_rows = batch_rows
        self._retries = retries
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._count_lock = threading.Lock()
        self.submitted = 0
        self.written = 0
        self.lost = 0

    @property
    def pending(self) -> int:
        """Predictions submitted and neither written nor given up on yet."""
        return self.submitted - self.written - self.lost

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="truckflow-capture-writer", daemon=True
            )
            self._thread.start()

    def submit(self, batch: CaptureBatch) -> None:
        # Requests submit from the event loop and from pool threads: ``+=`` alone can race.
        with self._count_lock:
            self.submitted += len(batch.ids)
        self._queue.put(batch)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted before this call is in the database."""
        if self._thread is None or not self._thread.is_alive():
            return False
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, CaptureBatch):
                # Let a burst gather: one transaction for many requests, not a commit for each.
                time.sleep(self._linger)
            pending: list[CaptureBatch] = []
            markers: list[_Flush] = []
            stop = False
            # Drain what is already queued, so that a burst becomes a few large inserts.
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, _Flush):
                    markers.append(item)
                elif isinstance(item, CaptureBatch):
                    pending.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._write(pending)
            for marker in markers:
                marker.done.set()
            if stop:
                return

    def _write(self, batches: list[CaptureBatch]) -> None:
        if not batches:
            return
        with self._db.engine.connect() as conn:
            sql = SqlText(conn)
        rows = [row for batch in batches for row in batch.records(sql.value(batch.created_at))]
        text = (
            f"INSERT INTO {sql.name(predictions.name)} ({sql.names(CAPTURE_COLUMNS)})"
            f" VALUES ({sql.marks(len(CAPTURE_COLUMNS))})"
        )
        failures = (sa.exc.SQLAlchemyError, self._db.engine.dialect.loaded_dbapi.Error)
        chunks = [rows[i : i + self._batch_rows] for i in range(0, len(rows), self._batch_rows)]
        if len(chunks) > 1:
            # One commit for the whole burst: a commit per chunk (a disk sync each on SQLite)
            # cost a 10,000-row batch's capture three times its inserts. On any error nothing
            # of it is kept, and the chunks go one by one below, with their own retries.
            try:
                self._insert(text, *chunks)
                self.written += len(rows)
                return
            except failures:
                pass
        for chunk in chunks:
            for attempt in range(1, self._retries + 1):
                try:
                    self._insert(text, chunk)
                    self.written += len(chunk)
                    break
                except failures as exc:
                    if attempt == self._retries:
                        self.lost += len(chunk)
                        log.error(
                            "could not capture %d predictions in %s after %d tries: %s",
                            len(chunk),
                            self._db.safe_url,
                            attempt,
                            exc,
                        )
                    else:
                        time.sleep(0.2 * attempt)

    def _insert(self, text: str, *chunks: list[tuple[object, ...]]) -> None:
        # Plain tuples on the DBAPI cursor, in the transaction SQLAlchemy opens and commits;
        # one statement per chunk (at most ``batch_rows`` rows each).
        with self._db.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                for chunk in chunks:
                    cursor.executemany(text, chunk)
            finally:
                cursor.close()
