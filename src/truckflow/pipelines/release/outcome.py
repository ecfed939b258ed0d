"""What a release execution means, told once: the execution's outcome and the event that says it.

The steps tell what they do where they do it (``model.promoted`` with the deployment record,
``model.rolled_back`` with the rollback, ``model.approved`` with the approval); the outcome tells
the rest at the end of the run: acceptance refused the version (``release.failed``, with the
failed checks), the version waits for a person (``release.approval_requested``: the approval
e-mail, with its report and the commands to approve or reject), or it was rejected before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from truckflow.notify.catalogue import (
    model_rejected,
    release_approval_requested,
    release_failed,
)
from truckflow.pipeline.outcome import Outcome

__all__ = ["release_outcome"]


def release_outcome(outputs: Mapping[str, Mapping[str, Any]], execution_id: str) -> Outcome:
    deploy = outputs["deploy_staging"]
    decided = outputs["decide"]
    model, version = str(deploy.get("model", "model")), str(deploy["version"])
    report = outputs.get("report", {}).get("html")
    reasons = [str(r) for r in decided.get("reasons", [])]
    if "promote" in outputs:
        promoted = outputs["promote"]
        problems = "; ".join(promoted["health"]["problems"])
        if promoted["status"] == "rolled_back":
            return Outcome("rolled_back", f"version {version} rolled back: {problems}")
        return Outcome("promoted", f"version {version} promoted to production")
    decision = str(decided["decision"])
    if decision == "failed":
        checks = [r for r in reasons if r != "acceptance failed"]
        event = release_failed(
            model, version, failed_checks=checks, report=report, execution_id=execution_id
        )
        return Outcome("failed", f"version {version} failed acceptance: {'; '.join(checks)}", event)
    if decision == "pending_approval":
        event = release_approval_requested(
            model,
            version,
            report=report,
            metrics=deploy.get("metrics"),
            execution_id=execution_id,
        )
        return Outcome(decision, f"version {version} waits for approval", event)
    if decision == "rejected":
        why = reasons[0] if reasons else f"version {version} was rejected"
        event = model_rejected(model, version, reason=f"release refused: {why}")
        return Outcome("rejected", why, event)
    # Already production: nothing moved, nothing to tell.
    return Outcome(decision, "; ".join(reasons))
