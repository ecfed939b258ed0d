"""Helpers that build each event type truckflow emits (the types: ``notify.event_types``).

Every helper returns a plain ``truckflow.events.Event`` whose body is JSON-ready (for the outbox
and every channel). The helpers only shape data: no settings, no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from truckflow.events import Event
from truckflow.notify.event_types import DEFAULT_SEVERITY, EventType, event_of, severity_rank

__all__ = [
    "DEFAULT_SEVERITY",
    "EventType",
    "data_quality_failed",
    "drift_detected",
    "event_of",
    "features_waiting",
    "metrics_daily",
    "model_approved",
    "model_promoted",
    "model_registered",
    "model_rejected",
    "model_rolled_back",
    "notify_test",
    "performance_estimated_drop",
    "pipeline_failed",
    "pipeline_started",
    "pipeline_succeeded",
    "release_approval_requested",
    "release_failed",
    "retraining_done",
    "severity_rank",
    "step_failed",
    "step_retried",
]


def pipeline_started(
    pipeline: str, execution_id: str, parameters: Mapping[str, Any] | None = None
) -> Event:
    return event_of(
        EventType.PIPELINE_STARTED,
        f"pipeline {pipeline} started",
        {"pipeline": pipeline, "execution_id": execution_id, "parameters": _dict(parameters)},
    )


def pipeline_succeeded(
    pipeline: str, execution_id: str, *, duration_s: float | None = None, cached_steps: int = 0
) -> Event:
    return event_of(
        EventType.PIPELINE_SUCCEEDED,
        f"pipeline {pipeline} succeeded",
        {
            "pipeline": pipeline,
            "execution_id": execution_id,
            "duration_s": duration_s,
            "cached_steps": cached_steps,
        },
    )


def pipeline_failed(
    pipeline: str, execution_id: str, *, step: str, error: str, log: str | None = None
) -> Event:
    """``log`` says where the failing step's log is (a path or URL)."""
    return event_of(
        EventType.PIPELINE_FAILED,
        f"pipeline {pipeline} failed at step {step}",
        {
            "pipeline": pipeline,
            "execution_id": execution_id,
            "step": step,
            "error": error,
            "log": log,
        },
    )


def step_failed(
    pipeline: str,
    execution_id: str,
    *,
    step: str,
    error: str,
    attempt: int = 1,
    log: str | None = None,
) -> Event:
    return event_of(
        EventType.STEP_FAILED,
        f"step {step} of pipeline {pipeline} failed",
        {
            "pipeline": pipeline,
            "execution_id": execution_id,
            "step": step,
            "attempt": attempt,
            "error": error,
            "log": log,
        },
    )


def step_retried(
    pipeline: str, execution_id: str, *, step: str, attempt: int, error: str, delay_s: float
) -> Event:
    return event_of(
        EventType.STEP_RETRIED,
        f"step {step} of pipeline {pipeline} retried (attempt {attempt})",
        {
            "pipeline": pipeline,
            "execution_id": execution_id,
            "step": step,
            "attempt": attempt,
            "error": error,
            "delay_s": delay_s,
        },
    )


def data_quality_failed(
    table: str,
    *,
    rows_checked: int,
    rows_failed: int,
    rows_quarantined: int,
    failed_checks: Sequence[str] = (),
    source: str | None = None,
    quarantine: str | None = None,
) -> Event:
    """``quarantine`` says where the rejected rows are (a table, file or query)."""
    return event_of(
        EventType.DATA_QUALITY_FAILED,
        f"data quality: {rows_failed} of {rows_checked} rows of {table} failed",
        {
            "table": table,
            "source": source,
            "rows_checked": rows_checked,
            "rows_failed": rows_failed,
            "rows_quarantined": rows_quarantined,
            "failed_checks": list(failed_checks),
            "quarantine": quarantine,
        },
    )


def features_waiting(day: str, *, trips: int, reason: str = "weather forecasts missing") -> Event:
    return event_of(
        EventType.FEATURES_WAITING,
        f"{trips} trip(s) departed by {day} still wait for forecasts",
        {"day": day, "trips": trips, "reason": reason},
        key=f"{EventType.FEATURES_WAITING}:{day}",
    )


def drift_detected(
    scores: Mapping[str, float],
    *,
    threshold: float,
    report: str | None = None,
    model: str | None = None,
    key: str | None = None,
) -> Event:
    """``scores`` maps each drifted column (or metric) to its drift score."""
    columns = sorted(scores)
    return event_of(
        EventType.DRIFT_DETECTED,
        f"drift detected in {len(columns)} column(s): {', '.join(columns[:5])}",
        {
            "columns": columns,
            "scores": {k: float(v) for k, v in scores.items()},
            "threshold": threshold,
            "report": report,
            "model": model,
        },
        key=key,
    )


def performance_estimated_drop(
    estimated_f1: float,
    *,
    floor: float,
    trips: int,
    interval: tuple[float, float] | None = None,
    week: str | None = None,
    model: str | None = None,
    report: str | None = None,
    key: str | None = None,
) -> Event:
    """The F1 estimated from calibrated probabilities (no labels yet) is below the floor."""
    return event_of(
        EventType.PERFORMANCE_ESTIMATED_DROP,
        f"estimated F1 {estimated_f1:.2f} below the floor {floor:.2f} on {trips} trips"
        + (f" (week {week})" if week else ""),
        {
            "estimated_f1": float(estimated_f1),
            "floor": float(floor),
            "trips": int(trips),
            "interval": None if interval is None else [float(v) for v in interval],
            "week": week,
            "model": model,
            "report": report,
        },
        key=key,
    )


def model_registered(
    model: str,
    version: str,
    *,
    metrics: Mapping[str, float] | None = None,
    run_id: str | None = None,
) -> Event:
    return event_of(
        EventType.MODEL_REGISTERED,
        f"model {model} version {version} registered",
        {"model": model, "version": version, "metrics": _dict(metrics), "run_id": run_id},
    )


def model_approved(
    model: str, version: str, *, by: str | None = None, reason: str | None = None
) -> Event:
    return event_of(
        EventType.MODEL_APPROVED,
        f"model {model} version {version} approved",
        {"model": model, "version": version, "by": by, "reason": reason},
    )


def model_rejected(
    model: str, version: str, *, reason: str, by: str | None = None, cleared_stage: str = ""
) -> Event:
    """``cleared_stage``: the stage the rejection emptied (the version was on it), if any."""
    body = {"model": model, "version": version, "by": by, "reason": reason}
    body |= {"cleared_stage": cleared_stage} if cleared_stage else {}
    return event_of(EventType.MODEL_REJECTED, f"model {model} version {version} rejected", body)


def model_promoted(model: str, version: str, *, stage: str, previous: str | None = None) -> Event:
    return event_of(
        EventType.MODEL_PROMOTED,
        f"model {model} version {version} promoted to {stage}",
        {"model": model, "version": version, "stage": stage, "previous": previous},
    )


def model_rolled_back(
    model: str, *, stage: str, from_version: str, to_version: str, reason: str
) -> Event:
    return event_of(
        EventType.MODEL_ROLLED_BACK,
        f"model {model} {stage} rolled back from version {from_version} to {to_version}",
        {
            "model": model,
            "stage": stage,
            "from_version": from_version,
            "to_version": to_version,
            "reason": reason,
        },
    )


def release_failed(
    model: str,
    version: str,
    *,
    failed_checks: Sequence[str],
    report: str | None = None,
    execution_id: str | None = None,
) -> Event:
    first = failed_checks[0] if failed_checks else "acceptance failed"
    return event_of(
        EventType.RELEASE_FAILED,
        f"release of {model} version {version} failed: {first}",
        {
            "model": model,
            "version": version,
            "failed_checks": list(failed_checks),
            "report": report,
            "execution_id": execution_id,
        },
    )


def release_approval_requested(
    model: str,
    version: str,
    *,
    report: str | None = None,
    metrics: Mapping[str, float] | None = None,
    execution_id: str | None = None,
) -> Event:
    """A version passed acceptance and waits for a person: the approval e-mail."""
    return event_of(
        EventType.RELEASE_APPROVAL_REQUESTED,
        f"model {model} version {version} passed acceptance and waits for your approval",
        {
            "model": model,
            "version": version,
            "report": report,
            "metrics": _dict(metrics),
            "approve": f"truckflow model approve {version} --comment '...' && "
            f"truckflow release {version}",
            "reject": f"truckflow model reject {version} --comment '...'",
            "execution_id": execution_id,
        },
    )


def metrics_daily(day: str, metrics: Mapping[str, float], *, model: str | None = None) -> Event:
    return event_of(
        EventType.METRICS_DAILY,
        f"daily metrics for {day}",
        {"day": day, "model": model, "metrics": {k: float(v) for k, v in metrics.items()}},
        key=f"{EventType.METRICS_DAILY}:{day}",
    )


def retraining_done(
    model: str,
    version: str,
    *,
    reason: str,
    promoted: bool,
    metrics: Mapping[str, float] | None = None,
    key: str | None = None,
) -> Event:
    outcome = "promoted" if promoted else "not promoted"
    return event_of(
        EventType.RETRAINING_DONE,
        f"retraining of {model} done: version {version} {outcome}",
        {
            "model": model,
            "version": version,
            "reason": reason,
            "promoted": promoted,
            "metrics": _dict(metrics),
        },
        key=key,
    )


def notify_test(note: str = "truckflow notification test") -> Event:
    return event_of(EventType.NOTIFY_TEST, note, {"note": note})


def _dict(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)
