"""The training data: the date split of the course, and the model's input columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from truckflow.errors import TruckflowError
from truckflow.features.definition import (
    BINARY_FEATURES,
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    LABEL,
    NUMERIC_FEATURES,
)

__all__ = [
    "DEFAULT_TRAIN_END",
    "DEFAULT_VALIDATION_END",
    "SPLIT_PARTS",
    "Split",
    "TrainingError",
    "check_part",
    "labels",
    "model_input",
    "recency_weights",
    "split_bounds",
    "split_by_arrival",
]

# The course's split: arrivals up to 2019-01-30 train, up to 2019-02-07 validate, later test.
DEFAULT_TRAIN_END = "2019-01-30"
DEFAULT_VALIDATION_END = "2019-02-07"


class TrainingError(TruckflowError):
    """Training could not run: too little or malformed data, a bad parameter, a failed fit."""


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.train),
            "validation": len(self.validation),
            "test": len(self.test),
        }


def split_by_arrival(
    frame: pd.DataFrame,
    train_end: str = DEFAULT_TRAIN_END,
    validation_end: str = DEFAULT_VALIDATION_END,
) -> Split:
    """Train: arrival <= train_end; validation: up to validation_end; test: after it.

    As in the course, the bounds are timestamps (a date means its midnight). Rows without a label
    are left out. Each part must hold both classes, or no model can be fitted and scored on it.
    """
    t1, t2 = split_bounds(train_end, validation_end)
    known = frame[LABEL].notna()
    labelled = frame if known.all() else frame[known]
    arrival = labelled["estimated_arrival"]
    split = Split(
        train=labelled[arrival <= t1].reset_index(drop=True),
        validation=labelled[(arrival > t1) & (arrival <= t2)].reset_index(drop=True),
        test=labelled[arrival > t2].reset_index(drop=True),
    )
    for part in SPLIT_PARTS:
        check_part(part, getattr(split, part), train_end, validation_end)
    return split


SPLIT_PARTS = ("train", "validation", "test")


def split_bounds(train_end: str, validation_end: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The split's two arrival bounds as timestamps; the first must come before the second."""
    t1, t2 = pd.Timestamp(train_end), pd.Timestamp(validation_end)
    if not t1 < t2:
        raise TrainingError(
            f"train_end {train_end} must come before validation_end {validation_end}"
        )
    return t1, t2


def check_part(part: str, rows: pd.DataFrame, train_end: str, validation_end: str) -> None:
    """A part of the split must hold both classes."""
    classes = set(rows[LABEL].astype(int))
    if classes != {0, 1}:
        raise TrainingError(
            f"the {part} part of the split ({len(rows)} labelled trips, "
            f"train_end {train_end}, validation_end {validation_end}) has classes "
            f"{sorted(classes)}; both 0 and 1 are needed"
        )


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns as the preprocessing expects them: blanks as NaN, numbers as floats.

    Part of the fitted model (its first step), so that serving can hand it the feature rows as
    the feature code returns them, whatever their dtypes after a trip through a file or a database.
    """
    missing = [c for c in FEATURE_COLUMNS if c not in frame.columns]
    if missing:
        raise TrainingError(f"model input lacks feature column(s) {', '.join(missing)}")
    out = pd.DataFrame(index=frame.index)
    for column in NUMERIC_FEATURES:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
    for column in BINARY_FEATURES:
        out[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype(np.float64)
    for column in CATEGORICAL_FEATURES:
        # Through the distinct values: one object per category, not one per row.
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        distinct = np.append(np.asarray(uniques, dtype=object), np.nan)
        out[column] = pd.Series(distinct[codes], index=frame.index, dtype="object")
    return out


def recency_weights(frame: pd.DataFrame, half_life_days: float) -> np.ndarray | None:
    """Sample weights halving every ``half_life_days`` back from the latest arrival, so that a
    retrained model follows a change in the last days; None (equal weights) when 0."""
    if half_life_days <= 0:
        return None
    arrival = pd.to_datetime(frame["estimated_arrival"])
    age_days = (arrival.max() - arrival).dt.total_seconds().to_numpy() / 86_400.0
    weights: np.ndarray = np.exp2(-age_days / half_life_days)
    return weights


def labels(frame: pd.DataFrame) -> np.ndarray:
    values: np.ndarray = frame[LABEL].astype(int).to_numpy()
    return values
