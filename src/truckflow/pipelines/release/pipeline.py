"""The ``release`` pipeline: staging -> acceptance -> user feedback -> production -> health check.

  deploy_staging (move the staging alias; servers reload)
    -> acceptance (smoke requests, latency budget, shadow evaluation against production)
    -> decide (approved? pending? auto-approve? rejected? acceptance failed?)
    -> report (JSON + HTML: checks, metrics side by side, testers' feedback)
    -> approved? --yes--> promote (move the production alias, record, health check;
                                   on failure roll back to the previous production version)

Without auto-approval a version waits ``PendingManualApproval`` after acceptance: the run ends
``pending_approval``; ``truckflow model approve VERSION`` and a rerun of ``truckflow release
VERSION`` carry it to production. ``release_model`` runs it and says how it ended.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict
from typing import Any

from truckflow.events import Event
from truckflow.notify.catalogue import model_promoted
from truckflow.pipeline import (
    Condition,
    ConditionStep,
    Parameter,
    Pipeline,
    StepContext,
    ref,
    step,
)
from truckflow.pipelines.release.acceptance import shadow_evaluation, smoke_checks
from truckflow.pipelines.release.outcome import release_outcome
from truckflow.pipelines.release.report import write_report
from truckflow.pipelines.runtime import runtime_of
from truckflow.pipelines.shared.deploy import (
    ReleaseError,
    approve_version,
    move_stage,
    rollback_stage,
)
from truckflow.pipelines.shared.releases import ReleaseResult, ReleaseStatus, release_model
from truckflow.registry import APPROVED, REJECTED, ModelRegistry, Stage
from truckflow.settings import Settings
from truckflow.store import Database

__all__ = ["ReleaseResult", "ReleaseStatus", "release_model", "release_pipeline"]


@step
def deploy_staging(version: str, context: StepContext) -> dict[str, Any]:
    rt = runtime_of(context)
    settings = rt.settings
    registry = ModelRegistry.from_settings(settings)
    if not version:
        versions = registry.list_versions()
        if not versions:
            raise ReleaseError(f"model {registry.model_name} has no registered version")
        version = versions[0].version
    target = registry.get(version)
    out: dict[str, Any] = {
        "model": registry.model_name,
        "version": target.version,
        "metrics": target.metrics,
        "proceed": False,
        "reasons": [],
    }
    if target.approval_status == REJECTED:
        comment = target.approval_comment
        return {
            **out,
            "status": "rejected",
            "reasons": [f"version {version} was rejected: {comment}"],
        }
    production = registry.get_alias(Stage.PRODUCTION)
    if production is not None and production.version == target.version:
        return {
            **out,
            "status": "promoted",
            "reasons": [f"version {version} is already production"],
        }
    staging = registry.get_alias(Stage.STAGING)
    if staging is None or staging.version != target.version:

        def event(previous: str | None) -> Event:
            return model_promoted(
                registry.model_name, target.version, stage=Stage.STAGING, previous=previous
            )

        move_stage(
            settings,
            rt.db,
            rt.sink,
            stage=Stage.STAGING,
            version=target.version,
            action="deploy",
            reason="release: deployed for acceptance and user testing",
            execution_id=context.execution_id,
            event=event,
        )
    return {**out, "proceed": True, "status": "staged"}


@step
def acceptance(deploy: dict[str, Any], context: StepContext) -> dict[str, Any]:
    if not deploy["proceed"]:
        return {"ran": False, "passed": False, "checks": []}
    rt = runtime_of(context)
    smoke, latency = smoke_checks(rt.settings, rt.db, deploy["version"], Stage.STAGING)
    shadow = shadow_evaluation(rt.settings, rt.db, deploy["version"])
    checks = [smoke, latency, shadow]
    return {
        "ran": True,
        "passed": all(c.passed for c in checks),
        "checks": [c.to_dict() for c in checks],
    }


@step
def decide(
    deploy: dict[str, Any], acceptance: dict[str, Any], auto_approve: bool, context: StepContext
) -> dict[str, Any]:
    version = deploy["version"]
    if not deploy["proceed"]:
        return {"decision": deploy["status"], "promote": False, "reasons": deploy["reasons"]}
    if not acceptance["passed"]:
        failed = [f"{c['name']}: {c['message']}" for c in acceptance["checks"] if not c["passed"]]
        return {"decision": "failed", "promote": False, "reasons": ["acceptance failed", *failed]}
    rt = runtime_of(context)
    registry = ModelRegistry.from_settings(rt.settings)
    current = registry.get(version)
    if current.approval_status == REJECTED:
        return {
            "decision": "rejected",
            "promote": False,
            "reasons": [f"version {version} was rejected"],
        }
    if current.approval_status == APPROVED:
        by = current.approved_by or "unknown"
        comment = current.approval_comment
        return {
            "decision": "approved",
            "promote": True,
            "approved_by": by,
            "approval_comment": comment,
            "reasons": [],
        }
    if auto_approve:
        approve_version(
            rt.settings,
            rt.db,
            rt.sink,
            version,
            comment=f"acceptance passed (release execution {context.execution_id})",
            by="auto",
        )
        return {"decision": "approved", "promote": True, "approved_by": "auto", "reasons": []}
    how = (
        f"version {version} passed acceptance and waits for manual approval: "
        f"truckflow model approve {version} --comment '...' then truckflow release {version} "
        f"(or truckflow model reject {version} --comment '...')"
    )
    return {"decision": "pending_approval", "promote": False, "reasons": [how]}


@step
def report(
    deploy: dict[str, Any], acceptance: dict[str, Any], decide: dict[str, Any], context: StepContext
) -> dict[str, Any]:
    from truckflow.serving import feedback_summary

    rt = runtime_of(context)
    settings = rt.settings
    registry = ModelRegistry.from_settings(settings)
    version = registry.get(deploy["version"])
    feedback = feedback_summary(rt.db, version.version)
    doc = {
        "model": registry.model_name,
        "version": version.version,
        "execution_id": context.execution_id,
        "decision": decide["decision"],
        "reasons": decide["reasons"],
        "approval_status": version.approval_status,
        "metrics": version.metrics,
        "acceptance": acceptance,
        "feedback": {**asdict(feedback), "right_rate": feedback.right_rate},
    }
    json_path, html_path = write_report(settings.home / "reports" / "release", doc)
    return {"json": str(json_path), "html": str(html_path)}


def _run_hook(path: str, settings: Settings, version: str) -> list[str]:
    module, _, name = path.partition(":")
    try:
        hook = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        return [f"health check hook {path} cannot be imported: {exc}"]
    try:
        found = hook(settings, version)
    except Exception as exc:  # a hook's failure is the check's finding, not a crash
        return [f"health check hook {path} failed: {exc}"]
    return [str(p) for p in (found or [])]


def health_problems(settings: Settings, db: Database, version: str, hook: str) -> list[str]:
    """Load the production model as a server does and predict; then the configured hook."""
    smoke, _ = smoke_checks(settings, db, version, Stage.PRODUCTION)
    problems = [] if smoke.passed else [f"smoke: {smoke.message}"]
    chosen = hook or settings.release.health_check
    if chosen:
        problems += _run_hook(chosen, settings, version)
    return problems


@step
def promote(
    deploy: dict[str, Any], decide: dict[str, Any], health_check: str, context: StepContext
) -> dict[str, Any]:
    rt = runtime_of(context)
    settings, db = rt.settings, rt.db
    version = deploy["version"]
    registry = ModelRegistry.from_settings(settings)
    previous = registry.get_alias(Stage.PRODUCTION)

    def event(prev: str | None) -> Event:
        return model_promoted(registry.model_name, version, stage=Stage.PRODUCTION, previous=prev)

    move_stage(
        settings,
        db,
        rt.sink,
        stage=Stage.PRODUCTION,
        version=version,
        action="promote",
        approved_by=decide.get("approved_by"),
        reason=f"release: acceptance passed, approved by {decide.get('approved_by')}"
        + (f" ({decide['approval_comment']})" if decide.get("approval_comment") else ""),
        execution_id=context.execution_id,
        event=event,
    )
    problems = health_problems(settings, db, version, health_check)
    if not problems:
        return {"status": "promoted", "health": {"passed": True, "problems": []}}
    reason = "post-deployment health check failed: " + "; ".join(problems)
    rollback_stage(
        settings,
        db,
        rt.sink,
        reason=reason,
        to=None if previous is None else previous.version,
        by="auto",
        execution_id=context.execution_id,
    )
    return {"status": "rolled_back", "health": {"passed": False, "problems": problems}}


def release_pipeline() -> Pipeline:
    version = Parameter(
        "version", "string", default="", description="Version to release; empty: the newest."
    )
    auto = Parameter(
        "auto_approve", "bool", default=False, description="Acceptance passing is the approval."
    )
    hook = Parameter(
        "health_check",
        "string",
        default="",
        description="Extra post-deployment check 'module:function' (default from settings).",
    )
    return Pipeline(
        "release",
        description="Deploy a version to staging, accept it, wait for approval, promote it to "
        "production with a health check and automatic rollback.",
        parameters=[version, auto, hook],
        steps=[
            deploy_staging.as_step(version=version),
            acceptance.as_step(deploy=ref("deploy_staging")),
            decide.as_step(
                deploy=ref("deploy_staging"), acceptance=ref("acceptance"), auto_approve=auto
            ),
            report.as_step(
                deploy=ref("deploy_staging"), acceptance=ref("acceptance"), decide=ref("decide")
            ),
            ConditionStep(
                "approved",
                Condition.eq(ref("decide")["promote"], True),
                if_steps=[
                    promote.as_step(
                        deploy=ref("deploy_staging"),
                        decide=ref("decide"),
                        health_check=hook,
                        depends_on=["report"],
                    )
                ],
            ),
        ],
        outcome=release_outcome,
    )
