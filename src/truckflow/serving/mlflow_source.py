"""A ``ModelSource`` over the registry: aliases name stages, versions load verified and native.

Versions load through the registry's one verified loader (``truckflow.registry.load_version``:
checksum checked before anything is unpickled; a refused version raises ``ModelLoadError``, so
the holder keeps serving the version it has, and the refusal goes out as an event). Models are
native (XGBoost, LightGBM, scikit-learn) rather than pyfunc, because serving needs probabilities
and a numpy fast path, which pyfunc hides. The threshold, data window, metrics and feature
contract are what the registry reads from the version.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from truckflow.events import EventSink
from truckflow.registry import (
    FeatureContract,
    LoadedVersion,
    ModelRegistry,
    RegistryError,
    load_version,
)
from truckflow.serving.errors import ModelLoadError
from truckflow.serving.reasons import Explainer
from truckflow.training.booster import dense_predictor
from truckflow.training.preprocess_compiled import compile_pipeline

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
    contract: FeatureContract | None = None
    reasons_cache: int = 0  # rows whose contributions the explainer keeps

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
        units = {f.name: f.unit for f in self.contract.features if f.unit} if self.contract else {}
        explainer = Explainer.build(
            self.estimator, self.__dict__["_compiled"], list(self.feature_names), units
        )
        if explainer is not None:
            explainer.cache_rows = self.reasons_cache
        object.__setattr__(self, "_explainer", explainer)

    def explain(self, rows: np.ndarray, k: int) -> list[list[dict[str, Any]]]:
        """The top ``k`` contributions of each row ([] for a model that cannot be explained)."""
        explainer: Explainer | None = self.__dict__["_explainer"]
        if explainer is None:
            return [[] for _ in range(len(rows))]
        return explainer.reasons(rows, k)

    def predict_explained(
        self, rows: np.ndarray, k: int
    ) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
        """``predict_proba_array`` and ``explain``, the rows encoded once where both use the
        compiled preprocessing (the same numbers as the two calls apart)."""
        compiled: Any = self.__dict__["_compiled"]
        explainer: Explainer | None = self.__dict__["_explainer"]
        direct = self.__dict__["_direct"]
        shared = compiled is not None and explainer is not None and explainer.encodes_with(compiled)
        if direct is None and shared:
            encoded = compiled.encode(rows)
            proba = np.asarray(compiled.predict(encoded), dtype=np.float64)
            return proba, explainer.reasons(rows, k, encoded)  # type: ignore[union-attr]
        return self.predict_proba_array(rows), self.explain(rows, k)

    def kept(self, rows: np.ndarray) -> bool:
        """Whether the explainer keeps every row's contributions (explaining them is cheap)."""
        explainer: Explainer | None = self.__dict__["_explainer"]
        return explainer is not None and explainer.kept(rows)

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


def _feature_names(loaded: LoadedVersion) -> list[str]:
    """The model's input columns: its feature contract, else its signature, else what the
    estimator was fitted on (versions registered before contracts were recorded)."""
    if loaded.contract is not None:
        return list(loaded.contract.names)
    if loaded.signature_names:
        return list(loaded.signature_names)
    for attribute in ("feature_names_in_", "feature_name_"):
        names = getattr(loaded.model, attribute, None)
        if names is not None:
            return [str(n) for n in names]
    raise ModelLoadError("the model has no signature and no feature names; cannot serve it")


class MlflowModelSource:
    """Resolves ``<model_name>@<stage>`` and loads versions from an MLflow tracking URI."""

    def __init__(
        self,
        tracking_uri: str,
        model_name: str,
        *,
        registry_uri: str | None = None,
        events: EventSink | None = None,
        reasons_cache: int = 0,
    ) -> None:
        from mlflow import MlflowClient

        self._reasons_cache = reasons_cache
        self._tracking_uri = tracking_uri
        self._name = model_name
        # Without a registry URI, MLflow 3 falls back to its own default store (a mlflow.db in
        # the working directory), not the tracking store that holds the registered models.
        self._registry_uri = registry_uri or tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=self._registry_uri)
        self._registry = ModelRegistry(tracking_uri, model_name=model_name)
        self._events = events

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
        """The version through the registry's verified loading (checksum checked first)."""
        try:
            loaded = load_version(self._registry, version, events=self._events)
        except RegistryError as exc:
            raise ModelLoadError(f"cannot load models:/{self._name}/{version}: {exc}") from exc
        log.info("loaded models:/%s/%s (threshold %.3f)", self._name, version, loaded.threshold)
        return MlflowLoadedModel(
            version=str(version),
            feature_names=_feature_names(loaded),
            threshold=loaded.threshold,
            estimator=loaded.model,
            metrics=dict(loaded.metrics),
            data_window=loaded.window,
            contract=loaded.contract,
            reasons_cache=self._reasons_cache,
        )
