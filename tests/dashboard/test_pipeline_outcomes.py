"""The pipelines page shows what a run meant (a release waiting for approval), not "succeeded"."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from page_app import page_app

from truckflow.pipeline import Pipeline, step
from truckflow.pipeline.outcome import Outcome
from truckflow.pipelines.runtime import Runtime
from truckflow.settings import Settings
from truckflow.store import connect
from truckflow.store.migrate import upgrade


@step
def decide() -> dict[str, Any]:
    return {"decision": "pending_approval", "version": "7"}


def _outcome(outputs: Mapping[str, Mapping[str, Any]], execution_id: str) -> Outcome:
    version = outputs["decide"]["version"]
    return Outcome(str(outputs["decide"]["decision"]), f"version {version} waits for approval")


def test_pipelines_page_shows_the_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_home()
    db = connect(settings)
    upgrade(db)
    pipeline = Pipeline("release-like", steps=[decide.as_step()], outcome=_outcome)
    with Runtime.on(settings, db).runner() as runner:
        result = runner.run(pipeline)
    db.dispose()
    assert (result.status, result.outcome) == ("succeeded", "pending_approval")

    monkeypatch.setenv("TRUCKFLOW_HOME", str(settings.home))
    monkeypatch.delenv("TRUCKFLOW_DATABASE_URL", raising=False)
    at = page_app("pipelines", timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    executions = at.dataframe[0].value
    assert list(executions["status"]) == ["pending_approval"]
    assert [str(i.value) for i in at.info] == ["pending_approval: version 7 waits for approval"]
