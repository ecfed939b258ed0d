"""Registered model versions side by side on the same labelled trips.

After a retraining, the question is whether the new version does better than the one it
replaced on the trips that came after: ``compare_versions`` scores each version, with its own
decision threshold, on the labelled trips departing in a window of days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from truckflow.features.fill import load_features
from truckflow.pipelines.runtime import Runtime
from truckflow.registry import ModelRegistry, load_version
from truckflow.streaming import StreamingError
from truckflow.training.evaluate import classification_metrics

__all__ = ["compare_versions"]


def compare_versions(
    runtime: Runtime, versions: list[str], first_day: dt.date, last_day: dt.date
) -> dict[str, dict[str, Any]]:
    """Metrics (F1, precision, recall, ROC AUC, ...) of each version on the labelled trips
    departing from ``first_day`` to ``last_day`` (inclusive), keyed by version."""
    start = dt.datetime.combine(first_day, dt.time())
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time())
    trips = load_features(runtime.db, start, end, labelled_only=True)
    y = trips["delay"].astype(int).to_numpy()
    if len(set(y.tolist())) < 2:
        raise StreamingError(
            f"comparing versions on {first_day}..{last_day}: {len(y)} labelled trip(s) with "
            f"classes {sorted(set(y.tolist()))}; both classes are needed"
        )
    registry = ModelRegistry.from_settings(runtime.settings)
    out: dict[str, dict[str, Any]] = {}
    for version in versions:
        loaded = load_version(registry, version)
        scores = np.asarray(loaded.model.predict_proba(trips)[:, 1], dtype=np.float64)
        out[version] = classification_metrics(y, scores, loaded.threshold)
    return out
