"""Every alias move goes through the deployment path: a record and its event, in one
transaction. A rejection empties staging; a rollback, by hand or with nothing to go back to,
is recorded like any move."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from release_helpers import describe, register_tiny, seed_mlflow

from truckflow.notify.tables import notify_outbox as outbox
from truckflow.pipelines.release.ops import reject_model, rollback_model
from truckflow.pipelines.release.pipeline import release_model
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.deploy import ReleaseError, promote_directly
from truckflow.registry import REJECTED, ModelRegistry, Stage
from truckflow.registry.deployments import list_deployments
from truckflow.settings import Settings

RULES = """
[[routes]]
events = "*"
min_severity = "info"
channels = ["file"]
"""


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    seed_mlflow(settings)
    (settings.home / "notify.toml").write_text(RULES, encoding="utf-8")
    with Runtime.open(settings) as rt:
        yield rt


def _events(runtime: Runtime, kind: str) -> list[dict[str, Any]]:
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.body)
            .where(outbox.c.event_type == kind, outbox.c.channel == "file")
            .order_by(outbox.c.id)
        ).all()
    return [dict(r.body) for r in rows]


def test_rejection_empties_staging_with_a_record_and_an_event(
    runtime: Runtime, settings: Settings
) -> None:
    version = register_tiny(settings)
    assert release_model(runtime, version).status == "pending_approval"
    registry = ModelRegistry.from_settings(settings)
    assert registry.get_alias(Stage.STAGING).version == version  # type: ignore[union-attr]

    reject_model(runtime, version, comment="late trips missed", by="bob")
    assert registry.get(version).approval_status == REJECTED
    assert registry.get_alias(Stage.STAGING) is None
    history = list_deployments(runtime.db, stage=Stage.STAGING)
    assert describe(history) == [("staging", version, "deploy", "rejected")]
    assert history[0].ended_at is not None
    (rejected,) = _events(runtime, "model.rejected")
    assert rejected["version"] == version and rejected["by"] == "bob"
    assert rejected["cleared_stage"] == "staging"
    assert rejected["reason"] == "late trips missed"


def test_rejection_of_a_version_not_on_staging_moves_nothing(
    runtime: Runtime, settings: Settings
) -> None:
    staged = register_tiny(settings)
    other = register_tiny(settings, seed=1)
    assert release_model(runtime, staged).status == "pending_approval"
    reject_model(runtime, other, comment="never released", by="bob")
    registry = ModelRegistry.from_settings(settings)
    assert registry.get_alias(Stage.STAGING).version == staged  # type: ignore[union-attr]
    assert describe(list_deployments(runtime.db)) == [("staging", staged, "deploy", "active")]
    (rejected,) = _events(runtime, "model.rejected")
    assert rejected["version"] == other and "cleared_stage" not in rejected


def test_manual_rollback_goes_through_the_record(runtime: Runtime, settings: Settings) -> None:
    first = register_tiny(settings)
    second = register_tiny(settings, seed=1)
    promote_directly(runtime, first, reason="first")
    promote_directly(runtime, second, reason="second")
    assert [e["version"] for e in _events(runtime, "model.promoted")] == [first, second]

    done = rollback_model(runtime, reason="testers saw wrong answers", by="carol")
    assert done is not None and done.version == first and done.previous_version == second
    registry = ModelRegistry.from_settings(settings)
    assert registry.get_alias(Stage.PRODUCTION).version == first  # type: ignore[union-attr]
    history = list_deployments(runtime.db, stage=Stage.PRODUCTION)
    assert describe(history) == [
        ("production", first, "rollback", "active"),
        ("production", second, "promote", "rolled_back"),
        ("production", first, "promote", "replaced"),
    ]
    assert (history[0].approved_by, history[0].reason) == ("carol", "testers saw wrong answers")
    (told,) = _events(runtime, "model.rolled_back")
    assert (told["from_version"], told["to_version"]) == (second, first)


def test_rollback_with_nothing_earlier_empties_the_stage_on_record(
    runtime: Runtime, settings: Settings
) -> None:
    only = register_tiny(settings)
    promote_directly(runtime, only, reason="only one")
    assert rollback_model(runtime, reason="it answers wrongly") is None
    assert ModelRegistry.from_settings(settings).get_alias(Stage.PRODUCTION) is None
    history = list_deployments(runtime.db, stage=Stage.PRODUCTION)
    assert describe(history) == [("production", only, "promote", "rolled_back")]
    assert history[0].ended_at is not None
    (told,) = _events(runtime, "model.rolled_back")
    assert (told["from_version"], told["to_version"]) == (only, "none")
    with pytest.raises(ReleaseError, match="nothing to roll back"):
        rollback_model(runtime, reason="again")


def test_unknown_stage_is_refused_before_anything_moves(
    runtime: Runtime, settings: Settings
) -> None:
    from truckflow.registry import RegistryError

    version = register_tiny(settings)
    promote_directly(runtime, version, reason="first")
    with pytest.raises(RegistryError, match="the stages are staging, production"):
        rollback_model(runtime, reason="typo", stage="prod")
    assert describe(list_deployments(runtime.db)) == [("production", version, "promote", "active")]
