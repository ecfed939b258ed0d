from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from release_helpers import describe, register_tiny, seed_mlflow, store_labelled_trips

from truckflow.notify.schema import notify_outbox as outbox
from truckflow.pipelines.release import release_model
from truckflow.pipelines.release_ops import approve_model, reject_model
from truckflow.pipelines.runtime import Runtime
from truckflow.registry import APPROVED, PENDING, REJECTED, ModelRegistry
from truckflow.registry.deployments import list_deployments
from truckflow.settings import Settings


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    seed_mlflow(settings)
    with Runtime.open(settings) as rt:
        yield rt


def _events(runtime: Runtime) -> list[str]:
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.event_type).order_by(outbox.c.id)).all()
    return [r.event_type for r in rows]


def test_pending_then_approve_then_rerun_promotes(runtime: Runtime, settings: Settings) -> None:
    store_labelled_trips(runtime.db)
    version = register_tiny(settings)
    registry = ModelRegistry.from_settings(settings)

    first = release_model(runtime)
    assert first.status == "pending_approval", first
    assert first.version == version
    assert f"truckflow model approve {version}" in first.reasons[0]
    assert registry.get(version).approval_status == PENDING
    assert registry.get_alias("staging").version == version  # type: ignore[union-attr]
    assert registry.get_alias("production") is None
    checks = {c["name"]: c for c in first.acceptance}
    assert set(checks) == {"smoke", "latency", "shadow"}
    assert all(c["passed"] for c in checks.values())
    assert checks["shadow"]["message"].startswith("no production model yet")
    report = json.loads(Path(first.report).read_text())  # type: ignore[arg-type]
    assert report["decision"] == "pending_approval"
    assert report["feedback"]["version"] == version
    assert "Testers' feedback" in Path(first.report_html).read_text()  # type: ignore[arg-type]

    approve_model(runtime, version, comment="looks right on my trips", by="alice")
    assert registry.get(version).approval_status == APPROVED
    second = release_model(runtime, version)
    assert second.status == "promoted", second
    assert registry.get_alias("production").version == version  # type: ignore[union-attr]

    history = list_deployments(runtime.db)
    assert describe(history) == [
        ("production", version, "promote", "active"),
        ("staging", version, "deploy", "active"),
    ]
    assert history[0].approved_by == "alice"
    assert history[0].ended_at is None
    events = _events(runtime)
    assert "model.approved" in events
    assert events.count("model.promoted") == 2  # to staging, then to production


def test_reject_ends_the_release(runtime: Runtime, settings: Settings) -> None:
    version = register_tiny(settings)
    assert release_model(runtime).status == "pending_approval"
    reject_model(runtime, version, comment="late trips missed", by="bob")
    result = release_model(runtime, version)
    assert result.status == "rejected"
    assert "late trips missed" in result.reasons[0]
    registry = ModelRegistry.from_settings(settings)
    assert registry.get(version).approval_status == REJECTED
    assert registry.get_alias("production") is None
    assert "model.rejected" in _events(runtime)


def test_auto_approve_promotes_and_shadow_compares(runtime: Runtime, settings: Settings) -> None:
    store_labelled_trips(runtime.db)
    first = register_tiny(settings)
    assert release_model(runtime, first, auto_approve=True).status == "promoted"
    second = register_tiny(settings, seed=1)
    result = release_model(runtime, second, auto_approve=True)
    assert result.status == "promoted", result
    registry = ModelRegistry.from_settings(settings)
    approved = registry.get(second)
    assert approved.approval_status == APPROVED
    assert approved.tags["approval_by"] == "auto"
    shadow = next(c for c in result.acceptance if c["name"] == "shadow")
    details = shadow["details"]
    assert details["production"]["version"] == first
    assert details["staging"]["version"] == second
    assert details["trips"] == 240
    assert 0.0 <= details["agreement_rate"] <= 1.0
    history = list_deployments(runtime.db, stage="production")
    assert describe(history) == [
        ("production", second, "promote", "active"),
        ("production", first, "promote", "replaced"),
    ]
    assert history[0].previous_version == first
    assert history[0].approved_by == "auto"


def test_worse_model_fails_the_shadow_evaluation(runtime: Runtime, settings: Settings) -> None:
    store_labelled_trips(runtime.db)
    good = register_tiny(settings)
    assert release_model(runtime, good, auto_approve=True).status == "promoted"
    bad = register_tiny(settings, inverted=True)
    result = release_model(runtime, bad, auto_approve=True)
    assert result.status == "failed"
    assert any(r.startswith("shadow:") for r in result.reasons)
    registry = ModelRegistry.from_settings(settings)
    assert registry.get(bad).approval_status == PENDING
    assert registry.get_alias("production").version == good  # type: ignore[union-attr]


def test_failed_health_check_rolls_back(runtime: Runtime, settings: Settings) -> None:
    first = register_tiny(settings)
    assert release_model(runtime, first, auto_approve=True).status == "promoted"
    second = register_tiny(settings, seed=1)
    result = release_model(
        runtime, second, auto_approve=True, health_check="release_helpers:always_fails"
    )
    assert result.status == "rolled_back", result
    assert "forced failure of version" in result.reasons[0]
    registry = ModelRegistry.from_settings(settings)
    assert registry.get_alias("production").version == first  # type: ignore[union-attr]
    history = list_deployments(runtime.db, stage="production")
    assert describe(history) == [
        ("production", first, "rollback", "active"),
        ("production", second, "promote", "rolled_back"),
        ("production", first, "promote", "replaced"),
    ]
    assert "post-deployment health check failed" in (history[0].reason or "")
    assert history[0].approved_by == "auto"
    assert "model.rolled_back" in _events(runtime)


def test_failed_health_check_of_the_first_version_empties_production(
    runtime: Runtime, settings: Settings
) -> None:
    version = register_tiny(settings)
    result = release_model(
        runtime, version, auto_approve=True, health_check="release_helpers:always_fails"
    )
    assert result.status == "rolled_back"
    assert ModelRegistry.from_settings(settings).get_alias("production") is None
    history = list_deployments(runtime.db, stage="production")
    assert describe(history) == [("production", version, "promote", "rolled_back")]
    assert history[0].ended_at is not None


def test_latency_over_budget_fails_acceptance(settings: Settings) -> None:
    strict = settings.model_copy(update={"release_latency_budget_ms": 0.001})
    seed_mlflow(strict)
    version = register_tiny(strict)
    with Runtime.open(strict) as runtime:
        result = release_model(runtime, version, auto_approve=True)
    assert result.status == "failed"
    assert any(r.startswith("latency: p95") and "over the budget" in r for r in result.reasons)
    assert ModelRegistry.from_settings(strict).get(version).approval_status == PENDING
