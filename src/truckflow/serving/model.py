"""What the serving layer needs from the registry and the feature code, as small protocols.

The registry (``truckflow.registry``) and the feature engineering (``truckflow.features``) satisfy
these; ``MlflowModelSource`` is a direct implementation over the MLflow client until then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from truckflow.features.trip import Trip

__all__ = ["FastModel", "FeatureRows", "FeatureSource", "LoadedModel", "ModelSource", "Trip"]


class LoadedModel(Protocol):
    """A model version loaded completely, ready to predict."""

    @property
    def version(self) -> str: ...

    @property
    def feature_names(self) -> Sequence[str]: ...

    @property
    def threshold(self) -> float:
        """Probability at or above which a trip is predicted delayed."""
        ...

    @property
    def metrics(self) -> Mapping[str, float]: ...

    @property
    def data_window(self) -> Mapping[str, str | None]:
        """The training data's time span: ``{"start": ..., "end": ...}`` (ISO dates)."""
        ...

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of delay for each row (1-D, or sklearn's two columns)."""
        ...


@runtime_checkable
class FastModel(Protocol):
    """Optional fast path: probabilities straight from a float array in ``feature_names`` order."""

    def predict_proba_array(self, rows: np.ndarray) -> np.ndarray: ...


class ModelSource(Protocol):
    """Where model versions come from: resolves a stage alias and loads a version."""

    @property
    def model_name(self) -> str: ...

    def resolve(self, stage: str) -> str | None:
        """The version currently behind the stage alias, or None when there is none."""
        ...

    def load(self, version: str) -> LoadedModel:
        """Load the version fully (raises ``ServingError`` subclasses on failure)."""
        ...


class FeatureSource(Protocol):
    """The online path of the feature code: one trip's features from the database rows it needs.

    ``features_for_trips`` returns one row per trip, in the order given (columns include every
    feature the model needs), and the positions of trips whose features could not be built.
    It raises ``UnknownEntityError`` for an unknown truck or route and
    ``ForecastsNotArrivedError`` when the weather or traffic forecasts are not in yet.
    """

    def features_for_trips(self, trips: Sequence[Trip]) -> tuple[pd.DataFrame, Sequence[int]]: ...


@runtime_checkable
class FeatureRows(Protocol):
    """Optional fast path of a ``FeatureSource``: model rows straight away, no DataFrame.

    ``stored_rows`` reads the rows already stored for some of the trips (by position);
    ``feature_rows`` returns every trip's row in ``names`` order (as ``rows.frame_rows`` shapes
    them), computing those not stored, and the positions of trips whose features could not be
    built; when there are any, the rows are not to be used. ``lacking`` (when given) gets, by
    position, the input groups a stored row was kept without (a partial row). It raises what
    ``features_for_trips`` raises. ``local`` says that ``stored_rows`` is cheap enough to run on
    the event loop.
    """

    @property
    def local(self) -> bool: ...

    def stored_rows(
        self,
        trips: Sequence[Trip],
        names: Sequence[str],
        lacking: dict[int, list[str]] | None = None,
    ) -> dict[int, list[object]]: ...

    def feature_rows(
        self,
        trips: Sequence[Trip],
        names: Sequence[str],
        model_version: str,
        stored: dict[int, list[object]] | None = None,
        lacking: dict[int, list[str]] | None = None,
    ) -> tuple[np.ndarray, Sequence[int]]: ...
