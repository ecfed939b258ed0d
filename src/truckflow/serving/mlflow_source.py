"""A ``ModelSource`` straight over the MLflow client: aliases name stages, versions load natively.

Models are loaded through their native flavour (XGBoost, LightGBM, scikit-learn) rather than
pyfunc, because serving needs probabilities and a numpy fast path, which pyfunc hides.
Metadata conventions (the registry may replace them): the decision threshold is the version tag
or run parameter ``threshold`` (default 0.5); metrics are the training run's metrics; the data
window is ``data_window_start`` / ``data_window_end`` (version tag or run parameter).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from truckflow.serving.booster import dense_predictor
from truckflow.serving.compiled import compile_pipeline
from truckflow.serving.errors import ModelLoadError

__all__ = ["MlflowLoadedModel", "MlflowModelSource"]

log = logging.getLogger(__name__)

# Fitted on a DataFrame, scikit-learn warns on every numpy call; the fast path passes columns in
# the fitted order, so the warning says nothing here and costs time per request.
warnings.filterwarnings("ignore", message="X does not have valid feature names")

_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}


@dataclass(frozen=True)
class MlflowLoadedModel:
    """A native classifier plus the metadata the API reports."""

    version: str
    feature_names: Sequence[str]
    threshold: float
    estimator: Any
    metrics: Mapping[str, float] = field(default_factory=dict)
    data_window: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        booster = None
        if hasattr(self.estimator, "get_booster"):
            booster = self.estimator.get_booster()
            objective = str(self.estimator.get_params().get("objective") or "binary:logistic")
            if objective != "binary:logistic":
                booster = None
            else:
                # One thread per prediction: a serving worker is one of many processes, and
                # OpenMP's pool on a busy machine costs a single row ten times its own work.
                booster.set_param({"nthread": 1})
        object.__setattr__(self, "_booster", booster)
        direct = None if booster is None else dense_predictor(booster, booster.num_features())
        object.__setattr__(self, "_direct", direct)
        # The training pipeline's model, replayed as array operations (None for other shapes).
        object.__setattr__(
            self, "_compiled", compile_pipeline(self.estimator, list(self.feature_names))
        )
        # A scikit-learn Pipeline (what the training pipeline registers) starts with its own
        # input conversion, which reads named columns: it gets a frame, not a bare array.
        object.__setattr__(self, "_wants_frame", hasattr(self.estimator, "steps"))

    @property
    def row_independent(self) -> bool:
        """Tree ensembles (alone, or after the replayed preprocessing, which works row by row)
        give each row the same bits whatever else is in the call; BLAS-backed models may not."""
        compiled = self.__dict__["_compiled"]
        boosted = compiled is not None and compiled.boosted
        return self.__dict__["_booster"] is not None or boosted

    def predict_proba_array(self, rows: np.ndarray) -> np.ndarray:
        direct = self.__dict__["_direct"]
        if direct is not None:  # inplace_predict's own computation, without its per-call work
            return direct(rows)  # type: ignore[no-any-return]
        booster = self.__dict__["_booster"]
        if booster is not None:
            # inplace_predict skips the DMatrix copy; binary:logistic yields P(delay) directly.
            return np.asarray(booster.inplace_predict(rows), dtype=np.float64)
        compiled = self.__dict__["_compiled"]
        if compiled is not None:
            return np.asarray(compiled(rows), dtype=np.float64)
        given: Any = rows
        if self.__dict__["_wants_frame"]:
            given = pd.DataFrame(rows, columns=list(self.feature_names))
        proba = np.asarray(self.estimator.predict_proba(given), dtype=np.float64)
        return proba[:, 1] if proba.ndim == 2 else proba

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.predict_proba_array(frame[list(self.feature_names)].to_numpy(np.float64))


def _feature_names(mlmodel: Any, estimator: Any) -> list[str]:
    signature = getattr(mlmodel, "signature", None)
    if signature is not None and signature.inputs is not None:
        names = signature.inputs.input_names()
        if names and all(isinstance(n, str) for n in names):
            return [str(n) for n in names]
    for attribute in ("feature_names_in_", "feature_name_"):
        names = getattr(estimator, attribute, None)
        if names is not None:
            return [str(n) for n in names]
    raise ModelLoadError("the model has no signature and no feature names; cannot serve it")


def _load_native(local: str, flavors: Mapping[str, Any]) -> Any:
    import mlflow

    if "xgboost" in flavors:
        return mlflow.xgboost.load_model(local)
    if "lightgbm" in flavors:
        return mlflow.lightgbm.load_model(local)
    if "sklearn" in flavors:
        return mlflow.sklearn.load_model(local)
    raise ModelLoadError(
        f"model flavours {sorted(flavors)} are not servable (need xgboost, lightgbm or sklearn)"
    )


class MlflowModelSource:
    """Resolves ``<model_name>@<stage>`` and loads versions from an MLflow tracking URI."""

    def __init__(
        self, tracking_uri: str, model_name: str, *, registry_uri: str | None = None
    ) -> None:
        from mlflow import MlflowClient

        self._tracking_uri = tracking_uri
        self._name = model_name
        # Without a registry URI, MLflow 3 falls back to its own default store (a mlflow.db in
        # the working directory), not the tracking store that holds the registered models.
        self._registry_uri = registry_uri or tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=self._registry_uri)

    @property
    def model_name(self) -> str:
        return self._name

    def resolve(self, stage: str) -> str | None:
        from mlflow.exceptions import MlflowException

        try:
            return str(self._client.get_model_version_by_alias(self._name, stage).version)
        except MlflowException as exc:
            if exc.error_code in _NOT_FOUND:
                return None
            raise ModelLoadError(f"cannot resolve models:/{self._name}@{stage}: {exc}") from exc

    def load(self, version: str) -> MlflowLoadedModel:
        import mlflow
        from mlflow.exceptions import MlflowException
        from mlflow.models import Model

        uri = f"models:/{self._name}/{version}"
        try:
            mv = self._client.get_model_version(self._name, version)
            # The version's source, not models:/ (which resolves through the global registry).
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=mv.source, tracking_uri=self._tracking_uri
            )
            mlmodel = Model.load(str(Path(local) / "MLmodel"))
            estimator = _load_native(local, mlmodel.flavors)
            run = self._client.get_run(mv.run_id) if mv.run_id else None
        except MlflowException as exc:
            raise ModelLoadError(f"cannot load {uri}: {exc}") from exc
        except OSError as exc:
            raise ModelLoadError(f"cannot read the artifacts of {uri}: {exc}") from exc
        params: dict[str, str] = dict(run.data.params) if run else {}
        tags: dict[str, str] = dict(mv.tags or {})

        def meta(key: str) -> str | None:
            return tags.get(key, params.get(key))

        # The training pipeline tags ``decision_threshold`` and ``data_window`` ("start..end").
        threshold = float(meta("threshold") or meta("decision_threshold") or 0.5)
        window = (meta("data_window") or "").split("..")
        start = meta("data_window_start") or (window[0] if len(window) == 2 else None) or None
        end = meta("data_window_end") or (window[1] if len(window) == 2 else None) or None
        log.info("loaded %s (threshold %.3f)", uri, threshold)
        return MlflowLoadedModel(
            version=str(version),
            feature_names=_feature_names(mlmodel, estimator),
            threshold=threshold,
            estimator=estimator,
            metrics=dict(run.data.metrics) if run else {},
            data_window={"start": start, "end": end},
        )
