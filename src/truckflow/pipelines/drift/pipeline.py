"""The ``drift`` pipeline, run on the first day of each simulated week.

  check (data drift, prediction drift, model quality; stored, report written, event)
    -> drifted? --yes--> retrain (``training`` on the data up to now) -> release -> record
               --no---> record

``record`` marks the week done (``streaming_weeks``); until it has run, the week's pipeline runs
again from the start: the check replaces its stored results, the training pipeline's cache gives
back the version it registered before, and promoting that version again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from truckflow.pipeline import (
    CachePolicy,
    Condition,
    ConditionStep,
    Parameter,
    Pipeline,
    StepContext,
    ref,
    step,
)
from truckflow.pipelines.drift import retraining, steps
from truckflow.pipelines.runtime import runtime_of

__all__ = ["drift_pipeline"]


@step(cache=False)
def check(week_start: str, context: StepContext) -> dict[str, Any]:
    return steps.check_drift(runtime_of(context), dt.date.fromisoformat(week_start))


@step(cache=False)
def retrain(
    week_start: str, seed: int, check: dict[str, Any], context: StepContext
) -> dict[str, Any]:
    return retraining.retrain(runtime_of(context), dt.date.fromisoformat(week_start), seed)


@step(cache=False)
def release(training: dict[str, Any], auto_approve: bool, context: StepContext) -> dict[str, Any]:
    if training["version"] is None:
        if training.get("status") == "skipped":
            return {"status": "skipped", "version": None, "reason": training["reason"]}
        return {"status": "not_registered", "version": None, "reason": training["error"]}
    return retraining.release_version(runtime_of(context), training, auto_approve=auto_approve)


@step(cache=False)
def record(
    week_start: str,
    check: dict[str, Any],
    training: dict[str, Any] | None,
    release: dict[str, Any] | None,
    context: StepContext,
) -> dict[str, Any]:
    return steps.record_week(
        runtime_of(context), dt.date.fromisoformat(week_start), check, training, release
    )


def drift_pipeline() -> Pipeline:
    week_start = Parameter(
        "week_start",
        "string",
        description="First day of the new week (ISO); checks the week before.",
    )
    auto_approve = Parameter(
        "auto_approve",
        "bool",
        default=True,
        description="Continuous mode: promote the retrained version; otherwise it waits for approval.",
    )
    seed = Parameter("seed", "int", default=0, description="Seed of the retraining.")
    return Pipeline(
        "drift",
        description="Weekly drift check (data, predictions, model quality); on drift, retrain and release.",
        parameters=[week_start, auto_approve, seed],
        cache=CachePolicy(enabled=False),
        steps=[
            check.as_step(week_start=week_start),
            ConditionStep(
                "drifted",
                Condition.eq(ref("check")["drift_detected"], True),
                if_steps=[
                    retrain.as_step(week_start=week_start, seed=seed, check=ref("check")),
                    release.as_step(training=ref("retrain"), auto_approve=auto_approve),
                    record.as_step(
                        "record_retrained",
                        week_start=week_start,
                        check=ref("check"),
                        training=ref("retrain"),
                        release=ref("release"),
                    ),
                ],
                else_steps=[
                    record.as_step(
                        "record_no_drift",
                        week_start=week_start,
                        check=ref("check"),
                        training=None,
                        release=None,
                    ),
                ],
            ),
        ],
    )
