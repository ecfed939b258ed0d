from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from release_helpers import describe, register_tiny, seed_mlflow, store_labelled_trips

from truckflow.notify.tables import notify_outbox as outbox
from truckflow.pipeline import get_execution
from truckflow.pipelines.release.ops import approve_model, reject_model
from truckflow.pipelines.release.pipeline import ReleaseResult, release_model
from truckflow.pipelines.runtime import Runtime
from truckflow.registry import APPROVED, PENDING, REJECTED, ModelRegistry
from truckflow.registry.deployments import list_deployments
from truckflow.settings import Settings

# Routing rules can target each release outcome: approval requests go to the approvers.
RULES = """
[channels.approvers]
url = "file://approvals.jsonl"

[[routes]]
events = ["release.approval_requested"]
channels = ["approvers"]

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


def _events(runtime: Runtime) -> list[str]:
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.event_type).order_by(outbox.c.id)).all()
    return [r.event_type for r in rows]


def _mark(runtime: Runtime) -> int:
    with runtime.db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0))).scalar())


def _told(runtime: Runtime, result: ReleaseResult, since: int) -> tuple[str, list[dict[str, Any]]]:
    """The execution's recorded outcome, and the events written since ``since`` (the file
    channel gets every event of severity info or more by default: one row per event)."""
    execution = get_execution(runtime.db, result.execution_id)  # type: ignore[arg-type]
    assert execution.ok and execution.outcome == result.status, execution
    assert execution.shown_status == execution.to_dict()["shown_status"] == result.status
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.event_type, outbox.c.severity, outbox.c.subject, outbox.c.body)
            .where(outbox.c.id > since, outbox.c.channel == "file")
            .order_by(outbox.c.id)
        ).all()
    events = [
        {"type": r.event_type, "severity": r.severity, "subject": r.subject, **r.body} for r in rows
    ]
    # No release run is announced as "pipeline release succeeded" any more.
    assert "pipeline.succeeded" not in [e["type"] for e in events]
    return execution.shown_status, events


def test_pending_then_approve_then_rerun_promotes(runtime: Runtime, settings: Settings) -> None:
    store_labelled_trips(runtime.db)
    version = register_tiny(settings)
    registry = ModelRegistry.from_settings(settings)

    mark = _mark(runtime)
    first = release_model(runtime)
    assert first.status == "pending_approval", first
    assert first.version == version
    status, events = _told(runtime, first, mark)
    assert status == "pending_approval"
    (asked,) = [e for e in events if e["type"] == "release.approval_requested"]
    assert asked["version"] == version and asked["severity"] == "info"
    assert "waits for your approval" in asked["subject"]
    assert asked["approve"].startswith(f"truckflow model approve {version} --comment")
    assert asked["reject"].startswith(f"truckflow model reject {version} --comment")
    assert asked["report"] == first.report_html
    assert asked["metrics"] == {"test_f1": 0.8}
    mails = (settings.home / "approvals.jsonl").read_text().splitlines()
    assert [json.loads(m)["events"][0]["type"] for m in mails] == ["release.approval_requested"]
    assert f"truckflow model approve {version}" in json.loads(mails[0])["body"]
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

    mark = _mark(runtime)
    approve_model(runtime, version, comment="looks right on my trips", by="alice")
    assert registry.get(version).approval_status == APPROVED
    second = release_model(runtime, version)
    assert second.status == "promoted", second
    status, events = _told(runtime, second, mark)
    assert status == "promoted"
    told = [(e["type"], e.get("by"), e.get("stage")) for e in events]
    assert ("model.approved", "alice", None) in told
    assert ("model.promoted", None, "production") in told
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
    mark = _mark(runtime)
    reject_model(runtime, version, comment="late trips missed", by="bob")
    result = release_model(runtime, version)
    assert result.status == "rejected"
    status, events = _told(runtime, result, mark)
    assert status == "rejected"
    rejections = [e for e in events if e["type"] == "model.rejected"]
    assert [e.get("by") for e in rejections] == ["bob", None]  # the decision, then the release
    assert "late trips missed" in rejections[1]["reason"]
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


def test_worse_model_fails_the_shadow_evaluation(
    runtime: Runtime, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    store_labelled_trips(runtime.db)
    good = register_tiny(settings)
    assert release_model(runtime, good, auto_approve=True).status == "promoted"
    bad = register_tiny(settings, inverted=True)
    mark = _mark(runtime)
    with caplog.at_level(logging.INFO, logger="truckflow"):
        result = release_model(runtime, bad, auto_approve=True)
    assert result.status == "failed"
    assert any(r.startswith("shadow:") for r in result.reasons)
    status, events = _told(runtime, result, mark)
    assert status == "failed"
    (failed,) = [e for e in events if e["type"] == "release.failed"]
    assert failed["version"] == bad and failed["severity"] == "warning"
    assert failed["failed_checks"][0].startswith("shadow:")
    assert failed["subject"].startswith(
        f"release of {settings.mlflow.model_name} version {bad} failed: shadow:"
    )
    # Acceptance refusing a worse model is the check working: no ERROR line, no crash event.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [e for e in events if e["type"] in ("pipeline.failed", "step.failed")]
    registry = ModelRegistry.from_settings(settings)
    assert registry.get(bad).approval_status == PENDING
    assert registry.get_alias("production").version == good  # type: ignore[union-attr]


def test_failed_health_check_rolls_back(runtime: Runtime, settings: Settings) -> None:
    first = register_tiny(settings)
    assert release_model(runtime, first, auto_approve=True).status == "promoted"
    second = register_tiny(settings, seed=1)
    mark = _mark(runtime)
    result = release_model(
        runtime, second, auto_approve=True, health_check="release_helpers:always_fails"
    )
    assert result.status == "rolled_back", result
    status, events = _told(runtime, result, mark)
    assert status == "rolled_back"
    told = [(e["type"], e.get("version") or e.get("to_version")) for e in events]
    assert ("model.promoted", second) in told and ("model.rolled_back", first) in told
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
    strict = settings.updated(release={"latency_budget_ms": 0.001})
    seed_mlflow(strict)
    version = register_tiny(strict)
    with Runtime.open(strict) as runtime:
        result = release_model(runtime, version, auto_approve=True)
    assert result.status == "failed"
    assert any(r.startswith("latency: p95") and "over the budget" in r for r in result.reasons)
    assert ModelRegistry.from_settings(strict).get(version).approval_status == PENDING
