"""The training pipeline's steps that reach the model registry, as JSON-in/JSON-out functions.

The other step bodies are in ``steps.py`` beside it, built on the ML package
``truckflow.training``. Here: scoring the production model on the candidate's test set (for
the gate), tracking the run in MLflow, and registering the candidate with its metrics, plots
and lineage tags, then telling it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from truckflow.notify.catalogue import model_registered
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.training.steps import score_model
from truckflow.registry import (
    FeatureContract,
    ModelRegistry,
    Stage,
    VersionMetadata,
    load_stage,
)
from truckflow.registry.tracking import (
    GATE_TAG,
    find_parent_run,
    log_datasets,
    log_nested_run,
    start_parent_run,
    tag_run,
)

__all__ = [
    "announce_registered",
    "production_score",
    "register_candidate",
    "track_training",
]

_HEADLINE = ("f1", "precision", "recall", "roc_auc", "pr_auc", "brier")


def production_score(registry: ModelRegistry, test_path: str) -> dict[str, Any]:
    """F1 of the model under the ``production`` alias on ``test_path`` at its own threshold;
    ``{"version": None, "f1": None}`` when there is no production model yet."""
    production = load_stage(registry, Stage.PRODUCTION)
    if production is None:
        return {"version": None, "f1": None}
    threshold = production.threshold
    metrics = score_model(production.model, threshold, test_path)
    return {"version": production.version, "f1": metrics["f1"], "threshold": threshold}


def register_candidate(
    registry: ModelRegistry,
    candidate: dict[str, Any],
    evaluation: dict[str, Any],
    data_window: str,
    feature_version: str,
    execution_id: str,
) -> dict[str, Any]:
    """Register the chosen candidate as a version pending manual approval; its run is nested
    under the execution's training run (found by execution id: no cache input changes)."""
    metrics = evaluation["metrics"]
    parent = find_parent_run(registry, execution_id)
    model = joblib.load(candidate["model_path"])
    contract = FeatureContract.of_model(model)
    version = registry.register(
        model,
        metrics={
            **{f"test_{k}": float(metrics[k]) for k in _HEADLINE},
            "validation_f1": float(candidate["validation_f1"]),
            "validation_roc_auc": float(candidate["validation_roc_auc"]),
            **_calibration_metrics(candidate.get("calibration")),
        },
        metadata=VersionMetadata(
            threshold=float(candidate["threshold"]),
            family=str(candidate["family"]),
            calibration=_calibration_json(candidate.get("calibration")),
        ),
        params={
            **candidate["params"],
            "trials": candidate["trials"],
            "seed": candidate["seed"],
            "half_life_days": candidate.get("half_life_days", 0.0),
        },
        data_window=data_window,
        feature_version=feature_version,
        execution_id=execution_id,
        artifacts=[*(Path(p) for p in evaluation["plots"]), Path(evaluation["report"])],
        signature=None if contract is None else contract.signature(),
        # The candidate's content and its window: a rerun after a crash in registration (a
        # resumed execution, whose scratch folder is another) finishes that version, never a
        # second.
        idempotency_key=_registration_key(candidate["model_path"], data_window, feature_version),
        parent_run_id=parent,
    )
    if parent is not None:
        tag_run(registry, parent, {"truckflow.registered_version": version.version})
    return {
        "version": version.version,
        "approval_status": version.approval_status,
        "run_id": version.run_id,
        "metrics": version.metrics,
    }


def _calibration_metrics(calibration: dict[str, Any] | None) -> dict[str, float]:
    if not calibration:
        return {}
    keys = ("validation_brier_raw", "validation_brier_calibrated")
    return {k: float(calibration[k]) for k in keys if calibration.get(k) is not None}


def _calibration_json(calibration: dict[str, Any] | None) -> str:
    """The calibration map, read back by ``truckflow.training.calibration.from_tags``."""
    return str(calibration["tag"]) if calibration and calibration["tag"] else ""


def _registration_key(model_path: str, data_window: str, feature_version: str) -> str:
    """By the model file's bytes, not its path: the path is the execution's scratch copy."""
    content = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    text = f"{content}|{data_window}|{feature_version}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def track_training(
    registry: ModelRegistry,
    *,
    execution_id: str,
    parameters: dict[str, Any],
    datasets: dict[str, tuple[str, str]],
    candidates: list[dict[str, Any]],
    best: dict[str, Any],
    evaluation: dict[str, Any],
    gate: dict[str, Any],
) -> dict[str, Any]:
    """The execution in MLflow: a parent run (parameters, test metrics, the datasets as
    inputs, the gate's decision as a tag), one nested run per candidate family and, below each,
    one per Optuna trial. A refused candidate's runs stay: the tag says why it went no further.

    ``datasets`` maps each part (training, validation, test) to (Parquet path, source URI)."""
    parent = start_parent_run(
        registry,
        name=f"training {execution_id[:8]}",
        execution_id=execution_id,
        params=parameters,
        tags={"truckflow.selected_family": str(best["family"])},
    )
    # One part's frame at a time: log_datasets reads them in turn.
    digests = log_datasets(registry, parent, _ParquetParts(datasets), targets="delay")
    for candidate in candidates:
        _track_candidate(registry, parent, candidate, chosen=candidate["family"] == best["family"])
    metrics = {f"test_{k}": float(evaluation["metrics"][k]) for k in _HEADLINE}
    metrics["validation_f1"] = float(best["validation_f1"])
    decision = "passed" if gate["passed"] else "refused"
    tags = {GATE_TAG: decision, f"{GATE_TAG}_message": str(gate.get("message", ""))[:5000]}
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    registry.client.log_batch(parent, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])
    tag_run(registry, parent, tags)
    registry.client.set_terminated(parent, status="FINISHED")
    return {"run_id": parent, "digests": digests, "gate": decision}


class _ParquetParts(Mapping[str, tuple[pd.DataFrame, str]]):
    """``part -> (frame, source)`` whose frame is read from its Parquet file when asked for."""

    def __init__(self, datasets: dict[str, tuple[str, str]]) -> None:
        self._datasets = datasets

    def __getitem__(self, part: str) -> tuple[pd.DataFrame, str]:
        path, source = self._datasets[part]
        return pd.read_parquet(path), source

    def __iter__(self) -> Iterator[str]:
        return iter(self._datasets)

    def __len__(self) -> int:
        return len(self._datasets)


def _track_candidate(
    registry: ModelRegistry, parent: str, candidate: dict[str, Any], *, chosen: bool
) -> None:
    family = str(candidate["family"])
    run = log_nested_run(
        registry,
        parent,
        family,
        params={
            **candidate["params"],
            "trials": candidate["trials"],
            "seed": candidate["seed"],
            "half_life_days": candidate.get("half_life_days", 0.0),
        },
        metrics={
            "validation_f1": candidate["validation_f1"],
            "validation_roc_auc": candidate["validation_roc_auc"],
            "threshold": candidate["threshold"],
        },
        tags={"truckflow.family": family, "truckflow.selected": str(chosen).lower()},
    )
    for trial in candidate.get("trial_log", []):
        log_nested_run(
            registry,
            run,
            f"{family} trial {trial['number']}",
            params=trial["params"],
            metrics={"validation_f1": trial["value"]},
            tags={"truckflow.family": family, "truckflow.trial": str(trial["number"])},
            status="FINISHED" if trial["state"] == "COMPLETE" else "FAILED",
        )


def announce_registered(rt: Runtime, model_name: str, registered: dict[str, Any]) -> None:
    """``model.registered``, told once per version (a resumed registration tells it no more)."""
    version = str(registered["version"])
    event = model_registered(
        model_name, version, metrics=registered.get("metrics"), run_id=registered.get("run_id")
    )
    with rt.db.begin() as conn:
        rt.sink.emit(dataclasses.replace(event, key=f"{event.type}:{model_name}:{version}"), conn)
