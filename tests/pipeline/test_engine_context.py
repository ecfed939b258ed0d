"""A step gets the run context the application handed the runner, untouched: the settings and
database of the command that started the run, overrides included; its scratch folder is under
the runner's work root."""

from __future__ import annotations

from pathlib import Path

from engine_steps import report_database

from truckflow.pipeline import ArtifactStore, Pipeline, run_pipeline
from truckflow.settings import Settings
from truckflow.store import connect
from truckflow.store.migrate import upgrade


def test_steps_get_the_runs_resources_not_a_rebuilt_copy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    settings = Settings(home=tmp_path / "home", database_url=url)
    db = connect(settings)
    upgrade(db)
    pipeline = Pipeline("context-probe", steps=[report_database.as_step()])
    try:
        result = run_pipeline(
            pipeline,
            db=db,
            artifacts=ArtifactStore(tmp_path / "artifacts"),
            work_root=tmp_path / "work",
            resources=settings,
        ).raise_for_status()
    finally:
        db.dispose()
    execution = result.execution_id
    assert result.outputs["report_database"] == {
        "db_url": url,
        "work_dir": str(tmp_path / "work" / execution / "report_database"),
    }
