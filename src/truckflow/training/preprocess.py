"""The course's preprocessing as one scikit-learn transformer, and its class weights.

Blank load capacity is imputed with the training mode, other numbers with the training median
(the course's tables have no other blanks); blank categories become ``Unknown``; numbers are
standardised and categories one-hot encoded (categories unseen in training are ignored).
"""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from truckflow.features.definition import BINARY_FEATURES, CATEGORICAL_FEATURES, NUMERIC_FEATURES
from truckflow.training.data import model_input

__all__ = ["MODE_IMPUTED", "build_preprocessor", "model_pipeline", "positive_weight"]

MODE_IMPUTED = ("load_capacity_pounds",)


def build_preprocessor() -> ColumnTransformer:
    numeric = [c for c in NUMERIC_FEATURES if c not in MODE_IMPUTED]
    return ColumnTransformer(
        [
            (
                "mode_imputed",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("scale", StandardScaler()),
                    ]
                ),
                list(MODE_IMPUTED),
            ),
            (
                "numeric",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                numeric,
            ),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="Unknown")),
                        (
                            "onehot",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                        ),
                    ]
                ),
                list(CATEGORICAL_FEATURES),
            ),
            ("binary", "passthrough", list(BINARY_FEATURES)),
        ],
        verbose_feature_names_out=False,
    )


def model_pipeline(estimator: object) -> Pipeline:
    """Input normalisation, preprocessing and the estimator: what gets registered."""
    return Pipeline(
        [
            ("input", FunctionTransformer(model_input)),
            ("preprocess", build_preprocessor()),
            ("model", estimator),
        ]
    )


def positive_weight(y: np.ndarray) -> float:
    """negatives / positives: XGBoost's ``scale_pos_weight`` for balanced classes."""
    positives = int(np.sum(y == 1))
    return float(np.sum(y == 0)) / max(positives, 1)
