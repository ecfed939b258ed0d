"""The training pipeline's model replayed as array operations gives the very same probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

from synthetic_features import feature_frame
from truckflow.features.definition import NUMERIC_FEATURES
from truckflow.features.rows import frame_rows
from truckflow.serving.mlflow_source import MlflowLoadedModel
from truckflow.training.candidates import build_estimator
from truckflow.training.data import labels, model_input
from truckflow.training.preprocess import model_pipeline
from truckflow.training.preprocess_compiled import compile_pipeline

_BOOSTING = {
    "n_estimators": 30,
    "max_depth": 4,
    "learning_rate": 0.1,
    "subsample": 0.9,
    "colsample_bytree": 0.8,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
}
PARAMS: dict[str, dict[str, Any]] = {
    "xgboost": _BOOSTING,
    "lightgbm": _BOOSTING,
    "logistic_regression": {"C": 1.0},
    "random_forest": {
        "n_estimators": 20,
        "max_depth": 6,
        "min_samples_leaf": 2,
        "max_features": "sqrt",
    },
}


def _fitted(family: str, frame: pd.DataFrame) -> Pipeline:
    estimator = build_estimator(family, PARAMS[family], seed=0)
    # As the training pipeline fits it: on the whole feature-store frame, keys and label too.
    return model_pipeline(estimator).fit(frame, labels(frame))


def _served_rows(frame: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    names = [str(c) for c in frame.columns]
    return names, frame_rows(frame, names, "1")


def _odd_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Blanks everywhere the preprocessing imputes, and categories never seen in training."""
    odd = frame.copy()
    odd.loc[::3, "load_capacity_pounds"] = np.nan
    odd.loc[::4, "origin_temp"] = np.nan
    odd.loc[::5, "fuel_type"] = "hydrogen"
    odd.loc[::7, "gender"] = None
    odd.loc[::2, "accident"] = 1
    return odd


@pytest.mark.parametrize("family", list(PARAMS))
def test_compiled_probabilities_equal_the_pipeline(family: str) -> None:
    frame = feature_frame(300, seed=1)
    pipeline = _fitted(family, frame)
    for rows_frame in (feature_frame(80, seed=2), _odd_rows(feature_frame(80, seed=3))):
        names, rows = _served_rows(rows_frame)
        compiled = compile_pipeline(pipeline, names)
        assert compiled is not None
        expected = pipeline.predict_proba(rows_frame)[:, 1]
        assert np.array_equal(compiled(rows), expected)
        # One row at a time, as /predict sends them, and the few rows of a coalesced call.
        assert np.array_equal(compiled(rows[:1]), expected[:1])
        assert np.array_equal(compiled(rows[:9]), expected[:9])


def test_served_model_uses_the_compiled_pipeline() -> None:
    frame = feature_frame(300, seed=4)
    pipeline = _fitted("xgboost", frame)
    names, rows = _served_rows(feature_frame(50, seed=5))
    served = MlflowLoadedModel(version="1", feature_names=names, threshold=0.5, estimator=pipeline)
    assert served.__dict__["_compiled"] is not None
    given = pd.DataFrame(rows, columns=names)
    assert np.array_equal(served.predict_proba_array(rows), pipeline.predict_proba(given)[:, 1])


def test_other_shapes_are_left_to_the_pipeline() -> None:
    frame = feature_frame(200, seed=6)
    pipeline = _fitted("logistic_regression", frame)
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", MinMaxScaler())])
    foreign = Pipeline(
        [
            ("input", FunctionTransformer(model_input)),
            ("preprocess", ColumnTransformer([("numeric", numeric, list(NUMERIC_FEATURES))])),
            ("model", LogisticRegression()),
        ]
    ).fit(frame, labels(frame))
    names, rows = _served_rows(frame)
    assert compile_pipeline(foreign, names) is None
    assert compile_pipeline(pipeline.steps[-1][1], names) is None  # a bare estimator
    assert compile_pipeline(pipeline, [n for n in names if n != "fuel_type"]) is None
    served = MlflowLoadedModel(version="1", feature_names=names, threshold=0.5, estimator=foreign)
    given = pd.DataFrame(rows, columns=names)
    assert np.array_equal(served.predict_proba_array(rows), foreign.predict_proba(given)[:, 1])
