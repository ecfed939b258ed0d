"""The training pipeline's steps that reach the model registry, as JSON-in/JSON-out functions.

The other steps are ``truckflow.training.stages``; these two sit here because the ML layer does
not import the registry: scoring the production model on the candidate's test set (for the
gate), and registering the candidate with its metrics, plots and lineage tags.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import joblib

from truckflow.registry import THRESHOLD_TAG, FeatureContract, ModelRegistry, load_stage
from truckflow.training import stages
from truckflow.training.calibration import CALIBRATION_TAG

__all__ = ["THRESHOLD_TAG", "production_score", "register_candidate"]

_HEADLINE = ("f1", "precision", "recall", "roc_auc", "pr_auc", "brier")


def production_score(registry: ModelRegistry, test_path: str) -> dict[str, Any]:
    """F1 of the model under the ``production`` alias on ``test_path`` at its own threshold;
    ``{"version": None, "f1": None}`` when there is no production model yet."""
    production = load_stage(registry, "production")
    if production is None:
        return {"version": None, "f1": None}
    threshold = production.threshold
    metrics = stages.score_model(production.model, threshold, test_path)
    return {"version": production.version, "f1": metrics["f1"], "threshold": threshold}


def register_candidate(
    registry: ModelRegistry,
    candidate: dict[str, Any],
    evaluation: dict[str, Any],
    data_window: str,
    feature_version: str,
    execution_id: str,
) -> dict[str, Any]:
    """Register the chosen candidate as a version pending manual approval."""
    metrics = evaluation["metrics"]
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
        tags={
            THRESHOLD_TAG: f"{candidate['threshold']:.6f}",
            "family": candidate["family"],
            **_calibration_tag(candidate.get("calibration")),
        },
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
        # The candidate's artifact (content-addressed; a resumed execution reuses it) and its
        # window: a rerun after a crash in registration finishes that version, never a second.
        idempotency_key=_registration_key(candidate["model_path"], data_window, feature_version),
    )
    return {"version": version.version, "approval_status": version.approval_status}


def _calibration_metrics(calibration: dict[str, Any] | None) -> dict[str, float]:
    if not calibration:
        return {}
    keys = ("validation_brier_raw", "validation_brier_calibrated")
    return {k: float(calibration[k]) for k in keys if calibration.get(k) is not None}


def _calibration_tag(calibration: dict[str, Any] | None) -> dict[str, str]:
    """The calibration map, read back by ``truckflow.training.calibration.from_tags``."""
    return {CALIBRATION_TAG: calibration["tag"]} if calibration else {}


def _registration_key(model_path: str, data_window: str, feature_version: str) -> str:
    text = f"{model_path}|{data_window}|{feature_version}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]
