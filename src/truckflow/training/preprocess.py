"""The course's preprocessing as one scikit-learn transformer, and its class weights.

Blank load capacity is imputed with the training mode, other numbers with the training median
(the course's tables have no other blanks); blank categories become ``Unknown``; numbers are
standardised and categories one-hot encoded (categories unseen in training are ignored).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from truckflow.allocator import give_back_freed
from truckflow.features.definition import BINARY_FEATURES, CATEGORICAL_FEATURES, NUMERIC_FEATURES
from truckflow.training.data import model_input

__all__ = [
    "MODE_IMPUTED",
    "build_preprocessor",
    "fit_model_pipeline",
    "model_pipeline",
    "positive_weight",
]

# Rows preprocessed at a time when the dense matrix is built for the fit.
FIT_PIECE_ROWS = 5_000

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


def fit_model_pipeline(
    pipeline: Pipeline,
    frame: pd.DataFrame,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    piece_rows: int = FIT_PIECE_ROWS,
) -> Pipeline:
    """``pipeline.fit(frame, y)`` for a ``model_pipeline``, fitted to the same model, with the
    dense matrix the estimator is fitted on made once: the input step as ``Pipeline.fit`` runs
    it; the preprocessing fitted with its one-hot encoder's output sparse (what it learns does
    not depend on that: the categories, and the numbers' statistics), set back to dense after;
    then the matrix filled ``piece_rows`` rows at a time. ``ColumnTransformer.fit`` would have
    made every transformer's dense output and their dense concatenation besides (some 3 kB a
    row in all, over twice the matrix the estimator needs)."""
    (_, inputs), (_, preprocess), (_, estimator) = pipeline.steps
    give_back_freed()  # what an earlier fit (a tuning trial) left
    values = inputs.fit_transform(frame)
    _set_onehot_sparse(preprocess, sparse=True)
    try:
        preprocess.fit(values)
    finally:
        _set_onehot_sparse(preprocess, sparse=False)
    preprocess.sparse_output_ = False
    # Its fit stacks every transformer's output (some 1.4 kB a row), freed by now: given back
    # before the matrix is made, the fit's peak is the larger of the two, not their sum.
    give_back_freed()
    width = len(preprocess.get_feature_names_out())
    matrix = np.empty((len(values), width), dtype=np.float64)
    for start in range(0, len(values), piece_rows):
        matrix[start : start + piece_rows] = preprocess.transform(
            values.iloc[start : start + piece_rows]
        )
    del values
    fit_params: dict[str, Any] = {} if sample_weight is None else {"sample_weight": sample_weight}
    estimator.fit(matrix, y, **fit_params)
    return pipeline


def _set_onehot_sparse(preprocess: ColumnTransformer, *, sparse: bool) -> None:
    """The one-hot encoder's output, in the transformer as built and (once fitted) its clone."""
    built = {name: transformer for name, transformer, _ in preprocess.transformers}
    encoders = [built["categorical"].named_steps["onehot"]]
    if hasattr(preprocess, "transformers_"):
        encoders.append(preprocess.named_transformers_["categorical"].named_steps["onehot"])
    for encoder in encoders:
        encoder.sparse_output = sparse
