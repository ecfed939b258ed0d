"""What a registered model version is, as truckflow reads it back, and its approval states."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "APPROVAL_TAG",
    "APPROVED",
    "CHECKSUM_TAG",
    "METRIC_PREFIX",
    "PENDING",
    "REJECTED",
    "THRESHOLD_TAG",
    "THRESHOLD_TAGS",
    "ModelVersion",
]

APPROVAL_TAG = "approval_status"
PENDING = "PendingManualApproval"
APPROVED = "Approved"
REJECTED = "Rejected"
CHECKSUM_TAG = "artifact_sha256"
# The decision threshold a version was tuned to; ``threshold`` is the older spelling, still read.
THRESHOLD_TAG = "decision_threshold"
THRESHOLD_TAGS = (THRESHOLD_TAG, "threshold")
# Metrics are also tags (``metric.test_f1``) so that a version shows them without its run.
METRIC_PREFIX = "metric."


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model, with its tags and aliases."""

    name: str
    version: str
    source: str
    run_id: str | None
    created_at: dt.datetime
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def approval_status(self) -> str:
        return self.tags.get(APPROVAL_TAG, PENDING)

    @property
    def metrics(self) -> dict[str, float]:
        out = {}
        for key, value in self.tags.items():
            if key.startswith(METRIC_PREFIX):
                try:
                    out[key[len(METRIC_PREFIX) :]] = float(value)
                except ValueError:
                    continue
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "approval_status": self.approval_status,
            "aliases": list(self.aliases),
            "created_at": self.created_at.isoformat(),
            "run_id": self.run_id,
            "source": self.source,
            "metrics": self.metrics,
            "tags": dict(sorted(self.tags.items())),
        }
