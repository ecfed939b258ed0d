"""The feature contract of a trained model: what the training pipeline records with each version.

Built from the training rows and the fitted preprocessing: the feature columns in the model's
input order (no ids, no label), each one's kind, the categories the one-hot encoder saw (others
are ignored by it, so they are accepted and count as "none of these"), the range observed in
training, and a unit where the course's data has one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from truckflow.features.definition import BINARY_FEATURES, CATEGORICAL_FEATURES, FEATURE_COLUMNS
from truckflow.registry.contract import CONTRACT_ATTRIBUTE, FeatureContract, FeatureSpec, Kind
from truckflow.training.data import model_input

__all__ = ["UNITS", "attach_contract", "build_contract"]

# Units of the course's data (temperatures in °F, precipitation in inches, pressure in mb).
UNITS: dict[str, str] = {
    **{f"{p}_temp": "°F" for p in ("route_avg", "origin", "destination")},
    **{f"{p}_wind_speed": "mph" for p in ("route_avg", "origin", "destination")},
    **{f"{p}_precip": "in" for p in ("route_avg", "origin", "destination")},
    **{f"{p}_humidity": "%" for p in ("route_avg", "origin", "destination")},
    **{f"{p}_pressure": "mb" for p in ("route_avg", "origin", "destination")},
    "distance": "miles",
    "average_hours": "h",
    "truck_age": "years",
    "load_capacity_pounds": "lb",
    "mileage_mpg": "mpg",
    "age": "years",
    "experience": "years",
    "average_speed_mph": "mph",
}


def _categories(pipeline: Any) -> dict[str, tuple[str, ...]]:
    """The categories each categorical column's one-hot encoder learned."""
    try:
        ct = pipeline.named_steps["preprocess"]
        encoder = ct.named_transformers_["categorical"].named_steps["onehot"]
        columns = next(cols for name, _, cols in ct.transformers_ if name == "categorical")
    except (AttributeError, KeyError, StopIteration):
        return {}
    return {
        str(col): tuple(str(c) for c in cats)
        for col, cats in zip(columns, encoder.categories_, strict=True)
    }


def _bound(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def build_contract(train: pd.DataFrame, pipeline: Any) -> FeatureContract:
    """The contract of ``pipeline`` fitted on ``train`` (the rows as the feature store has them)."""
    values = model_input(train)
    seen = _categories(pipeline)
    specs = []
    for name in FEATURE_COLUMNS:
        if name in CATEGORICAL_FEATURES:
            specs.append(FeatureSpec(name, "categorical", categories=seen.get(name, ())))
            continue
        column = values[name].to_numpy(np.float64)
        present = column[~np.isnan(column)]
        low = _bound(present.min()) if present.size else None
        high = _bound(present.max()) if present.size else None
        kind: Kind = "binary" if name in BINARY_FEATURES else "numeric"
        specs.append(FeatureSpec(name, kind, minimum=low, maximum=high, unit=UNITS.get(name)))
    return FeatureContract(tuple(specs))


def attach_contract(pipeline: Any, contract: FeatureContract) -> None:
    """Carry the contract inside the model (a plain dict, so that unpickling needs no class)."""
    setattr(pipeline, CONTRACT_ATTRIBUTE, contract.to_dict())
