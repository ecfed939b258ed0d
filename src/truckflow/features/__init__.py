"""The course's per-trip features: one implementation for training, batch and online prediction."""

from truckflow.features.compute import WAITING_COLUMNS, FeatureResult, compute_features
from truckflow.features.definition import (
    FEATURE_COLUMNS,
    FEATURE_SET_NAME,
    FEATURE_SET_VERSION,
    definition_hash,
)
from truckflow.features.inputs import FeatureError, FeatureInputs, read_course_csvs

__all__ = [
    "FEATURE_COLUMNS",
    "FEATURE_SET_NAME",
    "FEATURE_SET_VERSION",
    "WAITING_COLUMNS",
    "FeatureError",
    "FeatureInputs",
    "FeatureResult",
    "compute_features",
    "definition_hash",
    "read_course_csvs",
]
