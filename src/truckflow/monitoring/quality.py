"""Model quality on labelled trips: the course's model-drift rule is F1 below ``min_f1``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, computed_field
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.errors import MonitoringError

__all__ = ["ModelQuality", "model_quality"]

Labels = npt.ArrayLike | pd.Series | Sequence[int]


class ModelQuality(BaseModel):
    """Binary-classification quality (positive class: delayed) and the model-drift verdict."""

    model_config = ConfigDict(frozen=True)

    count: int
    positives: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    min_f1: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def drifted(self) -> bool:
        return self.f1 < self.min_f1


def model_quality(
    y_true: Labels, y_pred: Labels, config: DriftConfig | None = None
) -> ModelQuality:
    """Accuracy, precision, recall and F1 of ``y_pred`` against ``y_true`` (0/1 labels)."""
    config = config or DriftConfig()
    truth = np.asarray(y_true).astype(np.int64, copy=False).ravel()
    pred = np.asarray(y_pred).astype(np.int64, copy=False).ravel()
    if truth.shape != pred.shape:
        raise MonitoringError(f"model quality: {truth.size} labels but {pred.size} predictions")
    if truth.size == 0:
        raise MonitoringError("model quality: no labelled trips to score")
    bad = sorted(set(np.unique(np.concatenate([truth, pred])).tolist()) - {0, 1})
    if bad:
        raise MonitoringError(f"model quality: labels must be 0/1, found {bad[:5]}")
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, pred, average="binary", zero_division=0
    )
    return ModelQuality(
        count=int(truth.size),
        positives=int(truth.sum()),
        accuracy=float(accuracy_score(truth, pred)),
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        min_f1=config.min_f1,
    )
