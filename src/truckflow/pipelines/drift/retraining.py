"""The drift flow's retraining: the ``training`` pipeline on the data up to the week start,
then the release of the version it registered (the promotion check, then the release flow)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from truckflow.pipeline import ExecutionResult
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.deploy import approve_version
from truckflow.pipelines.shared.own_process import can_run_apart, run_in_own_process
from truckflow.pipelines.shared.promotion import promotion_check, split_from_data
from truckflow.pipelines.shared.releases import release_model

__all__ = ["release_version", "retrain", "training_window"]


def training_window(week_start: dt.date, holdout_days: int = 2) -> dict[str, str]:
    """The data up to now: arrivals before ``week_start``. The last ``holdout_days`` are the
    test part, as many before them validation, everything earlier (the recent days included,
    so that the model sees what changed) training."""
    holdout = dt.timedelta(days=holdout_days)
    end = dt.datetime.combine(week_start, dt.time())
    return {
        "window_start": "",
        "window_end": week_start.isoformat(),
        "train_end": (end - 2 * holdout).isoformat(),
        "validation_end": (end - holdout).isoformat(),
    }


def retrain(rt: Runtime, week_start: dt.date, seed: int = 0) -> dict[str, Any]:
    """Run the ``training`` pipeline on the data up to ``week_start``, recent rows weighted up,
    split from the labelled trips that exist; skipped, with the reason, when they are too few."""
    settings = rt.settings
    split = split_from_data(
        rt.db,
        week_start,
        min_trips=settings.retrain.min_trips,
        test_min=max(settings.retrain.min_trips, settings.promotion.min_trips),
        min_days=settings.retrain.holdout_days,
    )
    # The training parameters are recorded whether it runs or not (what it would have used).
    params: dict[str, Any] = {
        **(split.window or {}),
        "n_trials": settings.retrain.trials,
        "families": settings.retrain.families,
        "half_life_days": settings.retrain.half_life_days,
        "min_f1": settings.retrain.min_f1,
        "seed": seed,
    }
    if split.window is None:
        return {
            "execution_id": None,
            "status": "skipped",
            "version": None,
            "test_f1": None,
            "error": None,
            "reason": f"retraining skipped: {split.reason}",
            "split": split.to_dict(),
            "parameters": params,
        }
    result = _run_training(rt, params)
    registered = result.outputs.get("register")
    return {
        "execution_id": result.execution_id,
        "status": str(result.status),
        "version": None if registered is None else str(registered["version"]),
        "test_f1": result.outputs.get("evaluate", {}).get("test_f1"),
        "error": result.error,
        "split": split.to_dict(),
        "parameters": params,
    }


def _run_training(rt: Runtime, params: dict[str, Any]) -> ExecutionResult:
    """Nested in this step, so the outer run delivers the notifications; on the local runner,
    since on a cluster this step holds a worker's slot, which a nested cluster run would wait
    on; in a process of its own unless set otherwise, so the process running this step (the
    streaming replay, a Dask worker) does not keep the fit's peak memory."""
    if rt.settings.retrain.own_process and can_run_apart(rt.db):
        return run_in_own_process(rt, "training", params)
    return rt.run("training", params, runner="local", dispatch=False)


def release_version(rt: Runtime, training: dict[str, Any], *, auto_approve: bool) -> dict[str, Any]:
    """The promotion check first (champion and challenger on the trips neither trained on);
    then the release flow: in continuous mode a version that passed is approved with the
    check's figures and promoted (if it passes the release's acceptance checks); one that did
    not stays pending. Without auto-approval the version waits for approval either way."""
    version, settings = str(training["version"]), rt.settings
    check = promotion_check(settings, rt.db, version, training["parameters"])
    if auto_approve and not check.passed:
        return {
            "status": "not_promoted",
            "version": version,
            "reasons": [check.reason],
            "report": None,
            "execution_id": None,
            "promotion": check.to_dict(),
        }
    if auto_approve and check.champion is not None:
        approve_version(
            settings,
            rt.db,
            rt.sink,
            version,
            comment=f"promotion check: {check.reason}",
            by="auto",
        )
    result = release_model(rt, version, auto_approve=auto_approve)
    return {
        "status": str(result.status),
        "version": result.version,
        "reasons": list(result.reasons),
        "report": result.report,
        "execution_id": result.execution_id,
        "promotion": check.to_dict(),
    }
