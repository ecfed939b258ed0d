"""How a release ended, read from the ``release`` pipeline's run: what the release flow, the
drift flow's auto-release, the CLI and the dashboard call (``release_model``). It runs the
pipeline by its registered name, so no flow imports another to release a version."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from truckflow.pipelines.runtime import Runtime

__all__ = ["ReleaseResult", "ReleaseStatus", "release_model"]

ReleaseStatus = Literal["promoted", "pending_approval", "rejected", "rolled_back", "failed"]


@dataclass(frozen=True)
class ReleaseResult:
    """How a release ended: ``status``, the reasons, and the report it wrote."""

    version: str | None
    status: ReleaseStatus
    reasons: list[str] = field(default_factory=list)
    report: str | None = None
    report_html: str | None = None
    execution_id: str | None = None
    acceptance: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def release_model(
    runtime: Runtime,
    version: str | None = None,
    *,
    auto_approve: bool = False,
    health_check: str | None = None,
) -> ReleaseResult:
    """Run the ``release`` pipeline for ``version`` (default the newest) and say how it ended."""
    result = runtime.run(
        "release",
        {
            "version": version or "",
            "auto_approve": auto_approve,
            "health_check": health_check or "",
        },
    )
    outputs = result.outputs
    deployed = outputs.get("deploy_staging", {})
    reports = outputs.get("report", {})
    common: dict[str, Any] = {
        "version": deployed.get("version", version),
        "report": reports.get("json"),
        "report_html": reports.get("html"),
        "execution_id": result.execution_id,
        "acceptance": outputs.get("acceptance", {}).get("checks", []),
    }
    if not result.ok:
        return ReleaseResult(status="failed", reasons=[result.error or result.status], **common)
    decided = outputs["decide"]
    if "promote" in outputs:
        promoted = outputs["promote"]
        return ReleaseResult(
            status=promoted["status"], reasons=list(promoted["health"]["problems"]), **common
        )
    # The execution's recorded outcome: what `pipeline executions` and the dashboard show.
    status = cast(ReleaseStatus, result.outcome or decided["decision"])
    return ReleaseResult(status=status, reasons=list(decided["reasons"]), **common)
