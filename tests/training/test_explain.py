"""Reasons: each family's contributions add up to what the model says, and the one-hot columns
of a categorical come back as that categorical."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from synthetic_features import feature_frame
from truckflow.features.definition import CATEGORICAL_FEATURES, FEATURE_COLUMNS
from truckflow.features.rows import frame_rows
from truckflow.serving.reasons import Explainer
from truckflow.training.candidates import build_estimator
from truckflow.training.data import labels, model_input
from truckflow.training.explain import (
    by_feature,
    contributions,
    encoded_owners,
    explain_frame,
    reason_text,
)
from truckflow.training.preprocess import model_pipeline
from truckflow.training.preprocess_compiled import compile_pipeline

_BOOSTING = {
    "n_estimators": 25,
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
        "n_estimators": 15,
        "max_depth": 6,
        "min_samples_leaf": 2,
        "max_features": "sqrt",
    },
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return feature_frame(400, seed=3)


def _fitted(family: str, frame: pd.DataFrame) -> Pipeline:
    estimator = build_estimator(family, PARAMS[family], seed=0)
    return model_pipeline(estimator).fit(frame, labels(frame))


def _base(family: str, final: Any, encoded: np.ndarray) -> np.ndarray:
    """The probability with no feature information: the bias term (the roots for a forest)."""
    if family == "random_forest":
        roots = [t.tree_.value[0, 0, 1] / t.tree_.value[0, 0].sum() for t in final.estimators_]
        return np.full(len(encoded), float(np.mean(roots)))
    if family == "xgboost":
        import xgboost as xgb

        bias = final.get_booster().predict(xgb.DMatrix(encoded), pred_contribs=True)[:, -1]
    elif family == "lightgbm":
        bias = final.predict(encoded, pred_contrib=True)[:, -1]
    else:
        bias = np.full(len(encoded), final.intercept_[0])
    return 1.0 / (1.0 + np.exp(-bias))


@pytest.mark.parametrize("family", list(PARAMS))
def test_contributions_add_up_to_the_prediction(family: str, frame: pd.DataFrame) -> None:
    model = _fitted(family, frame)
    rows = frame.iloc[:60]
    encoded = np.asarray(model.steps[1][1].transform(model_input(rows)), dtype=np.float64)
    final = model.steps[2][1]
    contrib = contributions(final, encoded)
    assert contrib is not None
    proba = model.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(
        contrib.sum(axis=1), proba - _base(family, final, encoded), atol=1e-5
    )
    owners = encoded_owners(model.steps[1][1], list(FEATURE_COLUMNS))
    assert owners is not None and len(owners) == encoded.shape[1]
    per_feature = by_feature(contrib, owners, len(FEATURE_COLUMNS))
    np.testing.assert_allclose(per_feature.sum(axis=1), contrib.sum(axis=1), atol=1e-9)


@pytest.mark.parametrize("family", list(PARAMS))
def test_served_reasons_equal_the_batch_reasons(family: str, frame: pd.DataFrame) -> None:
    """The serving path (compiled preprocessing, no DataFrame) and the daily batch's
    (the pipeline's own transform) give the same reasons."""
    model = _fitted(family, frame)
    rows = frame.iloc[:20]
    names = list(FEATURE_COLUMNS)
    compiled = compile_pipeline(model, names)
    explainer = Explainer.build(model, compiled, names, {})
    assert explainer is not None
    served = explainer.reasons(frame_rows(rows, names, "1"), 3)
    batch = explain_frame(model, rows, 3)
    assert batch is not None
    for one, other in zip(served, batch, strict=True):
        assert [r["feature"] for r in one] == [r["feature"] for r in other]
        assert [r["contribution"] for r in one] == pytest.approx(
            [r["contribution"] for r in other], abs=1e-6
        )


def test_one_hot_columns_come_back_as_their_categorical(frame: pd.DataFrame) -> None:
    model = _fitted("logistic_regression", frame)
    owners = encoded_owners(model.steps[1][1], list(FEATURE_COLUMNS))
    assert owners is not None
    named = [FEATURE_COLUMNS[i] for i in owners]
    for categorical in CATEGORICAL_FEATURES:
        assert named.count(categorical) > 1  # one column per category seen
    reasons = explain_frame(model, frame.iloc[:50], k=len(FEATURE_COLUMNS))
    assert reasons is not None
    features = [r["feature"] for r in reasons[0]]
    assert sorted(features) == sorted(FEATURE_COLUMNS)  # each feature once, never a column


def test_reason_text_speaks_the_users_terms() -> None:
    assert reason_text("destination_precip", 0.31, 0.1234, "in") == (
        "destination_precip = 0.31 in raises the risk by 0.12"
    )
    assert reason_text("fuel_type", "gas", -0.05) == "fuel_type = gas lowers the risk by 0.05"
    assert reason_text("distance", None, 0.02, "miles") == (
        "distance = missing raises the risk by 0.02"
    )
