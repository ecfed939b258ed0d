"""Execution records on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json

import sqlalchemy as sa
from engine_helpers import local_runner

from truckflow.pipeline import get_execution, get_pipeline, list_executions
from truckflow.pipeline.tables import pipeline_executions, step_executions
from truckflow.settings import Settings
from truckflow.store import Database


def test_records_on_every_engine(any_db: Database, settings: Settings) -> None:
    pipeline = get_pipeline("example")
    with local_runner(settings, any_db) as runner:
        first = runner.run(pipeline, {"size": 6})
        second = runner.run(pipeline, {"size": 6})
        failed = runner.run(pipeline, {"size": 2})
    assert first.ok and second.ok and failed.status == "failed"

    with any_db.engine.connect() as conn:
        row = conn.execute(
            sa.select(pipeline_executions).where(pipeline_executions.c.id == first.execution_id)
        ).one()
        assert row.definition_hash == pipeline.hash
        assert row.definition == json.loads(pipeline.json_text())
        assert row.parameters == {
            "size": 6,
            "seed": 7,
            "min_count": 5,
            "label": "example",
            "hold": "",
        }
        assert row.finished_at >= row.started_at
        count = conn.execute(
            sa.select(sa.func.count()).where(step_executions.c.execution_id == first.execution_id)
        ).scalar_one()
        assert count == len(pipeline.steps)

    again = get_execution(any_db, second.execution_id)
    assert again.steps["summarise"].cache_hit
    assert again.outputs["summarise"] == first.outputs["summarise"]
    gen = get_execution(any_db, first.execution_id).steps["generate"]
    assert gen.finished_at is not None and gen.finished_at > gen.started_at  # sub-second times kept
    bad = get_execution(any_db, failed.execution_id)
    assert bad.error == "only 2 values, 5 needed"
    assert bad.steps["too_small"].status == "failed"
    assert [e.execution_id for e in list_executions(any_db, "example")] == [
        failed.execution_id,
        second.execution_id,
        first.execution_id,
    ]
