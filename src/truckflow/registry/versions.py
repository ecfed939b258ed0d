"""What a registered model version is and carries, as truckflow writes and reads it back.

The registry owns these conventions, so that no other package spells a tag or a stage:

- ``Stage``: the aliases a version can hold (``staging``, ``production``);
- the approval states (tag ``approval_status``);
- ``VersionMetadata``: what a version carries as tags besides its metrics (decision threshold,
  data window, the feature-table version its feature contract refers to, the artifact checksum,
  the calibration map, lineage), written by ``to_tags`` at registration and read by
  ``from_tags`` wherever a version is used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from truckflow.registry.errors import RegistryError

__all__ = [
    "APPROVAL_BY_TAG",
    "APPROVAL_COMMENT_TAG",
    "APPROVAL_TAG",
    "APPROVAL_UPDATED_TAG",
    "APPROVED",
    "CALIBRATION_TAG",
    "CHECKSUM_TAG",
    "DEFAULT_THRESHOLD",
    "METRIC_PREFIX",
    "PENDING",
    "REJECTED",
    "THRESHOLD_TAG",
    "THRESHOLD_TAGS",
    "ModelVersion",
    "Stage",
    "VersionMetadata",
]


class Stage(StrEnum):
    """A stage is a registry alias: the version it points at is the one that stage serves."""

    STAGING = "staging"
    PRODUCTION = "production"

    @classmethod
    def parse(cls, value: str | Stage) -> Stage:
        """The stage named ``value`` (any case); a ``RegistryError`` naming the stages else."""
        if isinstance(value, Stage):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise RegistryError(f"unknown stage {value!r}: the stages are {allowed}") from None


APPROVAL_TAG = "approval_status"
# Who decided, why and when (set with the status).
APPROVAL_COMMENT_TAG = "approval_comment"
APPROVAL_BY_TAG = "approval_by"
APPROVAL_UPDATED_TAG = "approval_updated_at"
PENDING = "PendingManualApproval"
APPROVED = "Approved"
REJECTED = "Rejected"
CHECKSUM_TAG = "artifact_sha256"
# The decision threshold a version was tuned to; ``threshold`` is the older spelling, still read.
THRESHOLD_TAG = "decision_threshold"
THRESHOLD_TAGS = (THRESHOLD_TAG, "threshold")
# Read as the threshold of a version that recorded none.
DEFAULT_THRESHOLD = 0.5
# The calibration map (JSON, ``truckflow.training.calibration.Calibrator``); absent: uncalibrated.
CALIBRATION_TAG = "calibration"
# Metrics are also tags (``metric.test_f1``) so that a version shows them without its run.
METRIC_PREFIX = "metric."

# Tags written for every version, empty when unknown (field name -> tag).
_LINEAGE = {
    "checksum": CHECKSUM_TAG,
    "data_window": "data_window",
    "feature_version": "feature_version",
    "execution_id": "execution_id",
    "code_revision": "code_revision",
}
# Tags written only when known.
_OPTIONAL = {"calibration": CALIBRATION_TAG, "family": "family"}


def _threshold(tags: Mapping[str, str]) -> float | None:
    for key in THRESHOLD_TAGS:
        value = tags.get(key)
        if value:
            try:
                return float(value)
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class VersionMetadata:
    """What a version carries besides its model and metrics."""

    threshold: float | None = None  # None: not recorded (``decision_threshold`` reads 0.5)
    data_window: str = ""  # the arrivals it trained on, ``YYYY-MM-DD..YYYY-MM-DD``
    feature_version: str = ""  # the feature table's version its feature contract refers to
    checksum: str = ""  # sha256 of the saved model's files, checked before loading
    calibration: str = ""  # the calibration map's JSON; "" when uncalibrated
    family: str = ""  # the model family (xgboost, logistic_regression, ...)
    execution_id: str = ""  # the training execution that registered it
    code_revision: str = ""

    @property
    def decision_threshold(self) -> float:
        return DEFAULT_THRESHOLD if self.threshold is None else self.threshold

    @property
    def window(self) -> dict[str, str | None]:
        """The data window as ``{"start": ..., "end": ...}`` (from ``start..end``)."""
        start, _, end = self.data_window.partition("..")
        return {"start": start or None, "end": end or None}

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> VersionMetadata:
        strings = {
            name: str(tags.get(tag) or "") for name, tag in {**_LINEAGE, **_OPTIONAL}.items()
        }
        return cls(threshold=_threshold(tags), **strings)

    def to_tags(self) -> dict[str, str]:
        """The version tags: lineage always (empty when unknown), the rest when known."""
        tags = {tag: str(getattr(self, name)) for name, tag in _LINEAGE.items()}
        if self.threshold is not None:
            tags[THRESHOLD_TAG] = f"{self.threshold:.6f}"
        tags.update({tag: getattr(self, n) for n, tag in _OPTIONAL.items() if getattr(self, n)})
        return tags

    def merged(self, **known: str | None) -> VersionMetadata:
        """A copy with the given text fields set (those given as None or "" left as they are)."""
        given: dict[str, Any] = {k: v for k, v in known.items() if v}
        return dataclasses.replace(self, **given)


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
    def approval_comment(self) -> str:
        return self.tags.get(APPROVAL_COMMENT_TAG, "")

    @property
    def approved_by(self) -> str:
        """Who approved or rejected it ("" while pending)."""
        return self.tags.get(APPROVAL_BY_TAG, "")

    @property
    def metadata(self) -> VersionMetadata:
        return VersionMetadata.from_tags(self.tags)

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
