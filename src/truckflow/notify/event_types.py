"""The event types truckflow emits, their default severities and their order.

``event_of`` builds an event of a catalogued type; the helpers that shape each type's body are
in ``truckflow.notify.catalogue``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from truckflow.events import Event, Severity

__all__ = ["DEFAULT_SEVERITY", "EventType", "event_of", "severity_rank"]


class EventType(StrEnum):
    PIPELINE_STARTED = "pipeline.started"
    PIPELINE_SUCCEEDED = "pipeline.succeeded"
    PIPELINE_FAILED = "pipeline.failed"
    STEP_FAILED = "step.failed"
    STEP_RETRIED = "step.retried"
    DATA_QUALITY_FAILED = "data_quality.failed"
    FEATURES_WAITING = "features.waiting"
    DRIFT_DETECTED = "drift.detected"
    PERFORMANCE_ESTIMATED_DROP = "performance.estimated_drop"
    MODEL_REGISTERED = "model.registered"
    MODEL_APPROVED = "model.approved"
    MODEL_REJECTED = "model.rejected"
    MODEL_PROMOTED = "model.promoted"
    MODEL_ROLLED_BACK = "model.rolled_back"
    RELEASE_FAILED = "release.failed"
    RELEASE_APPROVAL_REQUESTED = "release.approval_requested"
    METRICS_DAILY = "metrics.daily"
    RETRAINING_DONE = "retraining.done"
    NOTIFY_TEST = "notify.test"


DEFAULT_SEVERITY: Mapping[EventType, Severity] = {
    EventType.PIPELINE_STARTED: Severity.INFO,
    EventType.PIPELINE_SUCCEEDED: Severity.INFO,
    EventType.PIPELINE_FAILED: Severity.ERROR,
    EventType.STEP_FAILED: Severity.ERROR,
    EventType.STEP_RETRIED: Severity.WARNING,
    EventType.DATA_QUALITY_FAILED: Severity.WARNING,
    # The day's summary line already counts waiting trips: the terminal gets no second line.
    EventType.FEATURES_WAITING: Severity.INFO,
    EventType.DRIFT_DETECTED: Severity.WARNING,
    EventType.PERFORMANCE_ESTIMATED_DROP: Severity.WARNING,
    EventType.MODEL_REGISTERED: Severity.INFO,
    EventType.MODEL_APPROVED: Severity.INFO,
    EventType.MODEL_REJECTED: Severity.WARNING,
    EventType.MODEL_PROMOTED: Severity.INFO,
    EventType.MODEL_ROLLED_BACK: Severity.ERROR,
    EventType.RELEASE_FAILED: Severity.WARNING,  # acceptance doing its job, not a crash
    EventType.RELEASE_APPROVAL_REQUESTED: Severity.INFO,
    EventType.METRICS_DAILY: Severity.INFO,
    EventType.RETRAINING_DONE: Severity.INFO,
    EventType.NOTIFY_TEST: Severity.INFO,
}

_RANK = {
    Severity.DEBUG: 10,
    Severity.INFO: 20,
    Severity.WARNING: 30,
    Severity.ERROR: 40,
    Severity.CRITICAL: 50,
}


def severity_rank(severity: Severity | str) -> int:
    """Order of severities (debug lowest), for "at least this severe" routing rules."""
    return _RANK[Severity(severity)]


def event_of(
    type_: EventType,
    subject: str,
    body: Mapping[str, Any],
    severity: Severity | None = None,
    *,
    key: str | None = None,
) -> Event:
    """An event of a catalogued type; ``None`` values are left out of the body. ``key`` makes
    it an event told once (see ``Event``)."""
    clean = {k: v for k, v in body.items() if v is not None}
    return Event(
        type=str(type_),
        subject=subject,
        body=clean,
        severity=severity or DEFAULT_SEVERITY[type_],
        key=key,
    )
