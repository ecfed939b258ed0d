"""The capture writer and feedback store on each engine (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
import pytest
import sqlalchemy as sa

from truckflow.serving import UnknownEntityError, feedback_summary, record_feedback
from truckflow.serving.capture import CaptureBatch, CaptureWriter
from truckflow.serving.metrics import ServingMetrics
from truckflow.serving.tables import predictions
from truckflow.store import Database


def _batch(n: int, version: str, source: str, first: int = 0) -> CaptureBatch:
    rows = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    proba = np.linspace(0.1, 0.9, n)
    return CaptureBatch(
        ids=[f"{version}-{first + i:05d}" for i in range(n)],
        request_id=f"req-{version}-{first}",
        feature_names=("a", "b"),
        features=rows,
        probabilities=proba,
        decisions=proba >= 0.5,
        model_version=version,
        stage="staging",
        created_at=datetime(2026, 1, 1, 12),
        source=source,
        inputs=[{"row": first + i} for i in range(n)],
    )


def test_captures_are_written_in_batches_and_flushed_on_close(any_db: Database) -> None:
    writer = CaptureWriter(any_db, batch_rows=7)
    writer.start()
    writer.submit(_batch(1, "1", "api"))
    writer.submit(_batch(20, "1", "batch", first=1))
    assert writer.flush()
    writer.submit(_batch(3, "2", "api"))
    writer.close()  # what is still queued is written before the thread ends
    with any_db.engine.connect() as conn:
        rows = conn.execute(sa.select(predictions).order_by(predictions.c.id)).all()
    assert len(rows) == 24 and writer.written == 24 and writer.lost == 0
    first = rows[0]
    assert first.features == {"a": 0.0, "b": 1.0}
    assert first.inputs == {"row": 0}
    assert (first.model_version, first.stage, first.source) == ("1", "staging", "api")
    assert first.probability == pytest.approx(0.1)
    assert first.decision == 0
    assert sum(r.source == "batch" for r in rows) == 20


def test_a_burst_with_a_bad_chunk_loses_that_chunk_only(any_db: Database) -> None:
    """A burst goes in one transaction; when it fails, chunk by chunk as before, so only the
    chunk that cannot be written is lost."""
    writer = CaptureWriter(any_db, batch_rows=5, retries=1)
    writer.start()
    writer.submit(_batch(3, "1", "api"))
    assert writer.flush()
    # 12 rows: chunks of 5, 5 and 2; the second chunk repeats an id already captured.
    burst = _batch(12, "1", "batch", first=100)
    ids = list(burst.ids)
    ids[7] = "1-00001"
    writer.submit(dataclasses.replace(burst, ids=ids))
    writer.close()
    with any_db.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(predictions)).scalar_one()
    assert (writer.written, writer.lost, count) == (3 + 7, 5, 3 + 7)


def _gauges(metrics: ServingMetrics) -> dict[str, float]:
    values = {}
    for line in metrics.render().decode().splitlines():
        if line.startswith("truckflow_capture_"):
            name, value = line.split()
            values[name.removeprefix("truckflow_capture_")] = float(value)
    return values


def test_the_metrics_tell_what_capture_has_pending_written_and_lost(any_db: Database) -> None:
    writer = CaptureWriter(any_db, batch_rows=5, retries=1)
    metrics = ServingMetrics()
    metrics.watch_capture(writer)
    # Not started: what is submitted stays pending until the writer runs.
    writer.submit(_batch(3, "1", "api"))
    assert _gauges(metrics) == {"pending": 3.0, "written": 0.0, "lost": 0.0}
    writer.start()
    assert writer.flush()
    burst = _batch(12, "1", "batch", first=100)
    ids = list(burst.ids)
    ids[7] = "1-00001"  # a second chunk that cannot be written
    writer.submit(dataclasses.replace(burst, ids=ids))
    writer.close()
    assert _gauges(metrics) == {"pending": 0.0, "written": 10.0, "lost": 5.0}


def test_feedback_needs_a_captured_prediction(any_db: Database) -> None:
    writer = CaptureWriter(any_db)
    writer.start()
    writer.submit(_batch(4, "3", "api"))
    writer.close()
    record_feedback(any_db, "3-00000", "right", "as expected")
    record_feedback(any_db, "3-00001", "wrong")
    record_feedback(any_db, "3-00002", "unsure", "cannot tell")
    with pytest.raises(UnknownEntityError, match="prediction 'nope'"):
        record_feedback(any_db, "nope", "right")
    summary = feedback_summary(any_db, "3")
    assert (summary.predictions, summary.right, summary.wrong, summary.unsure) == (4, 1, 1, 1)
    assert [c["comment"] for c in summary.comments] == ["as expected", "cannot tell"]
