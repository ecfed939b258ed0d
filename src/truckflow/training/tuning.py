"""Tuning one candidate family with Optuna, within a trial budget, deterministically.

The objective is the validation F1 at the best decision threshold; the sampler is seeded and
trials run one after another, so a seed gives the same trials, the same model and the same
numbers every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from truckflow.training.candidates import build_estimator, family
from truckflow.training.data import TrainingError, labels, recency_weights
from truckflow.training.evaluate import best_threshold, delay_scores
from truckflow.training.preprocess import fit_model_pipeline, model_pipeline, positive_weight

__all__ = ["TunedCandidate", "fit_candidate", "tune_candidate"]

_HALF_LIFE = "half_life_days"


@dataclass(frozen=True)
class TunedCandidate:
    family: str
    params: dict[str, Any]
    model: Pipeline
    threshold: float
    validation_f1: float
    validation_roc_auc: float
    trials: int
    half_life_days: float = 0.0  # the recency weighting chosen (0: equal weights)
    # Each Optuna trial: number, params, validation F1 (value), state; for experiment tracking.
    trial_log: list[dict[str, Any]] = field(default_factory=list)


def fit_candidate(
    name: str,
    params: dict[str, Any],
    train: pd.DataFrame,
    *,
    seed: int,
    device: str = "cpu",
    n_jobs: int = 1,
    half_life_days: float = 0.0,
) -> Pipeline:
    y = labels(train)
    estimator = build_estimator(
        name, params, seed=seed, device=device, pos_weight=positive_weight(y), n_jobs=n_jobs
    )
    pipeline = model_pipeline(estimator)
    weights = recency_weights(train, half_life_days)
    try:
        fit_model_pipeline(pipeline, train, y, weights)
    except (ValueError, RuntimeError) as exc:
        raise TrainingError(f"fitting {name} with {params} failed: {exc}") from exc
    return pipeline


def _scores(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    return delay_scores(model, frame)


def tune_candidate(
    name: str,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    *,
    n_trials: int,
    seed: int,
    device: str = "cpu",
    n_jobs: int = 1,
    half_life_days: float = 0.0,
) -> TunedCandidate:
    """Search ``name``'s space for ``n_trials`` trials; refit the best and set its threshold.

    With ``half_life_days`` > 0, weighting the training rows by recency (``recency_weights``)
    is one more choice of the search, against equal weights: the first two trials try both
    (equal weights first), and the validation part (the most recent data) decides. A change of the mapping from
    features to delay calls for the weights; a change of the inputs alone does not.
    """
    if n_trials < 1:
        raise TrainingError(f"the trial budget must be at least 1, got {n_trials}")
    space = family(name).suggest
    y_val = labels(validation)
    weightings = [0.0, float(half_life_days)] if half_life_days > 0 else [0.0]

    def objective(trial: optuna.Trial) -> float:
        params = space(trial)
        half_life = float(trial.suggest_categorical(_HALF_LIFE, weightings))
        model = fit_candidate(
            name,
            params,
            train,
            seed=seed,
            device=device,
            n_jobs=n_jobs,
            half_life_days=half_life,
        )
        return best_threshold(y_val, _scores(model, validation))[1]

    study = _run_study(f"{name}-{seed}", seed, weightings, objective, n_trials)
    params = dict(study.best_trial.params)
    chosen = float(params.pop(_HALF_LIFE, 0.0))
    model = fit_candidate(
        name, params, train, seed=seed, device=device, n_jobs=n_jobs, half_life_days=chosen
    )
    scores = _scores(model, validation)
    threshold, f1 = best_threshold(y_val, scores)
    return TunedCandidate(
        family=name,
        params=params,
        model=model,
        threshold=threshold,
        validation_f1=f1,
        validation_roc_auc=float(roc_auc_score(y_val, scores)),
        trials=n_trials,
        half_life_days=chosen,
        trial_log=[_trial(t) for t in study.trials],
    )


def _run_study(
    study_name: str,
    seed: int,
    weightings: list[float],
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
) -> optuna.Study:
    """A seeded TPE study that tries each weighting first, then ``n_trials`` trials in all."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        study_name=study_name,
    )
    for weighting in weightings:
        study.enqueue_trial({_HALF_LIFE: weighting}, skip_if_exists=True)
    study.optimize(objective, n_trials=n_trials, n_jobs=1)
    return study


def _trial(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    seconds = trial.duration.total_seconds() if trial.duration is not None else None
    return {
        "number": trial.number,
        "params": dict(trial.params),
        "value": trial.value,
        "state": trial.state.name,
        "duration_s": seconds,
    }
