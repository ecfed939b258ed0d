"""A step sees the settings of the run that started it, overrides included."""

from __future__ import annotations

from pathlib import Path

from engine_steps import report_database

from truckflow.pipeline import Pipeline, run_pipeline
from truckflow.settings import Settings


def test_steps_get_the_runs_settings_not_a_rebuilt_copy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    settings = Settings(home=tmp_path / "home", database_url=url)
    pipeline = Pipeline("context-probe", steps=[report_database.as_step()])
    result = run_pipeline(pipeline, settings=settings).raise_for_status()
    assert result.outputs["report_database"] == {"db_url": url, "home": str(settings.home)}
