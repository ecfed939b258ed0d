"""Feature rows as the model gets them: one object array in the served model's feature order.

Both ways a trip's features reach the model end here in the same shape: numbers as floats,
flags as ints, text as str, blanks as None (so that the captured features stay valid JSON on
every engine), and times (columns the model was fitted with but does not use) as ISO text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from truckflow.features.inputs import FeatureError

__all__ = ["TIME_FORMAT", "MissingModelFeaturesError", "frame_rows"]

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


class MissingModelFeaturesError(FeatureError):
    """The feature code does not give every feature a model version reads."""


def frame_rows(frame: pd.DataFrame, names: Sequence[str], version: str) -> np.ndarray:
    """``frame``'s ``names`` columns as model rows; numbers only give a float array."""
    absent = [n for n in names if n not in frame.columns]
    if absent:
        raise MissingModelFeaturesError(
            f"the feature source lacks features that model version {version} needs: {absent}"
        )
    chosen = frame[list(names)]
    if all(np.issubdtype(t, np.number) or np.issubdtype(t, np.bool_) for t in chosen.dtypes):
        return chosen.to_numpy(np.float64)
    dated = [c for c, t in chosen.dtypes.items() if pd.api.types.is_datetime64_any_dtype(t)]
    if dated:
        chosen = chosen.assign(**{str(c): chosen[c].dt.strftime(TIME_FORMAT) for c in dated})
    rows = chosen.astype(object).to_numpy()
    rows[pd.isna(rows)] = None
    return rows
