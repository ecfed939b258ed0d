"""A small synthetic feature table with a learnable delay label, shaped like the feature store's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from truckflow.features.compute import canonical_dtypes
from truckflow.features.definition import CATEGORICAL_FEATURES, NUMERIC_FEATURES


def feature_frame(n: int = 360, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    departure = pd.Timestamp("2019-01-01 07:00") + pd.to_timedelta(rng.integers(0, 44, n), "D")
    hours = rng.uniform(2, 60, n)
    frame = pd.DataFrame({c: rng.normal(size=n) for c in NUMERIC_FEATURES})
    frame["average_hours"] = hours
    frame["distance"] = hours * 50
    frame["load_capacity_pounds"] = rng.choice([3000.0, 6000.0, 6000.0, np.nan], n)
    for column in CATEGORICAL_FEATURES:
        frame[column] = rng.choice(np.array(["a", "b", "c", None], dtype=object), n)
    arrival = departure + pd.to_timedelta(hours, "h")
    frame["is_midnight"] = (arrival.normalize() != departure.normalize()).astype(int)
    frame["accident"] = rng.integers(0, 2, n)
    logit = 0.08 * (hours - 25) + 0.8 * frame["accident"] + 0.5 * rng.normal(size=n)
    frame["delay"] = (logit > 0.3).astype(int)
    frame["truck_id"] = np.arange(n) + 10_000_000
    frame["departure_date"] = departure
    frame["estimated_arrival"] = arrival
    frame["route_id"] = "R-1"
    return canonical_dtypes(frame)


def trainable_home(home: Path) -> Path:
    """A home holding the migrated schema, this feature table and an empty MLflow store (its
    migrations take seconds: made once, then copied with the home), nothing trained."""
    from truckflow.features.fill import register_feature_set, store_features
    from truckflow.registry import ModelRegistry
    from truckflow.settings import Settings
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    db = connect(Settings(home=home))
    try:
        upgrade(db)
        register_feature_set(db)
        store_features(db, feature_frame())
    finally:
        db.dispose()
    ModelRegistry.from_settings(Settings(home=home)).list_versions()
    return home
