"""The candidate model families: their Optuna search spaces and how each is built.

Every family balances the classes (``class_weight='balanced'``, or XGBoost's
``scale_pos_weight``) and is seeded, so that one seed gives one result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna

from truckflow.training.data import TrainingError

__all__ = ["FAMILIES", "Family", "build_estimator", "family"]

Params = dict[str, Any]


@dataclass(frozen=True)
class Family:
    name: str
    suggest: Callable[[optuna.Trial], Params]
    build: Callable[[Params, int, str, float, int], Any]


def _logreg_space(trial: optuna.Trial) -> Params:
    return {"C": trial.suggest_float("C", 1e-3, 10.0, log=True)}


def _logreg(params: Params, seed: int, _device: str, _pos: float, n_jobs: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=params["C"], class_weight="balanced", max_iter=2000, random_state=seed
    )


def _forest_space(trial: optuna.Trial) -> Params:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 400, step=50),
        "max_depth": trial.suggest_int("max_depth", 3, 16),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20),
        "max_features": trial.suggest_categorical("max_features", ["sqrt", "log2"]),
    }


def _forest(params: Params, seed: int, _device: str, _pos: float, n_jobs: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        **params, class_weight="balanced", random_state=seed, n_jobs=n_jobs
    )


def _boosting_space(trial: optuna.Trial) -> Params:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 30, 400, step=10),
        "max_depth": trial.suggest_int("max_depth", 2, 8),
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "subsample": trial.suggest_float("subsample", 0.6, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 10.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


def _xgboost(params: Params, seed: int, device: str, pos: float, n_jobs: int) -> Any:
    from xgboost import XGBClassifier

    return XGBClassifier(
        **params,
        tree_method="hist",
        device=device,
        scale_pos_weight=pos,
        eval_metric="logloss",
        random_state=seed,
        n_jobs=n_jobs,
    )


def _lightgbm(params: Params, seed: int, _device: str, _pos: float, n_jobs: int) -> Any:
    from lightgbm import LGBMClassifier

    lgbm = dict(params)
    lgbm["min_child_weight"] = lgbm.pop("min_child_weight") / 1000  # hessian sum, not count
    return LGBMClassifier(
        **lgbm,
        subsample_freq=1,
        class_weight="balanced",
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        n_jobs=n_jobs,
        verbose=-1,
    )


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("logistic_regression", _logreg_space, _logreg),
        Family("random_forest", _forest_space, _forest),
        Family("xgboost", _boosting_space, _xgboost),
        Family("lightgbm", _boosting_space, _lightgbm),
    )
}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise TrainingError(
            f"unknown model family {name!r}; known: {', '.join(FAMILIES)}"
        ) from None


def build_estimator(
    name: str,
    params: Params,
    *,
    seed: int,
    device: str = "cpu",
    pos_weight: float = 1.0,
    n_jobs: int = 1,
) -> Any:
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise TrainingError(f"device must be cpu or cuda[:N], got {device!r}")
    return family(name).build(params, seed, device, pos_weight, n_jobs)
