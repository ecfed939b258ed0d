"""The compiled pipeline gives the fitted pipeline's probabilities, row by row and in batches,
for any mix of numbers, blanks, flags and categories seen or unseen, in any column order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truckflow.features.definition import (
    BINARY_FEATURES,
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    NUMERIC_FEATURES,
)
from truckflow.training.data import split_by_arrival
from truckflow.training.preprocess_compiled import CompiledPipeline, compile_pipeline
from truckflow.training.tuning import fit_candidate

BOOSTING = {
    "n_estimators": 20,
    "max_depth": 3,
    "learning_rate": 0.2,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
}
PARAMS: dict[str, dict[str, Any]] = {
    "logistic_regression": {"C": 1.0},
    "random_forest": {
        "n_estimators": 20,
        "max_depth": 4,
        "min_samples_leaf": 2,
        "max_features": "sqrt",
    },
    "xgboost": BOOSTING,
    "lightgbm": BOOSTING,
}


@pytest.fixture(scope="module")
def models(_course_features: pd.DataFrame) -> dict[str, Any]:
    from course_data import TRAIN_END, VALIDATION_END

    train = split_by_arrival(_course_features, TRAIN_END, VALIDATION_END).train
    return {name: fit_candidate(name, p, train, seed=0) for name, p in PARAMS.items()}


@pytest.fixture(scope="module")
def categories(_course_features: pd.DataFrame) -> dict[str, list[str]]:
    return {c: sorted(_course_features[c].dropna().unique()) for c in CATEGORICAL_FEATURES}


def _value(column: str, categories: dict[str, list[str]]) -> st.SearchStrategy[object]:
    if column in CATEGORICAL_FEATURES:
        return st.one_of(
            st.none(), st.sampled_from(categories[column]), st.text(max_size=6), st.just("Unknown")
        )
    if column in BINARY_FEATURES:
        return st.sampled_from([0, 1, 0.0, 1.0, None])
    return st.one_of(
        st.none(),
        st.floats(-1e5, 1e5, allow_nan=False),
        st.integers(-1000, 100_000),
    )


@st.composite
def _rows(draw: st.DrawFn, categories: dict[str, list[str]]) -> tuple[list[str], np.ndarray]:
    """Some rows in a served order drawn at random (a permutation of the feature columns)."""
    order = draw(st.permutations(list(FEATURE_COLUMNS)))
    n = draw(st.integers(1, 6))
    values = [[draw(_value(c, categories)) for c in order] for _ in range(n)]
    rows = np.empty((n, len(order)), dtype=object)
    rows[:, :] = values
    return order, rows


def _compiled(model: Any, order: list[str]) -> CompiledPipeline:
    compiled = compile_pipeline(model, order)
    assert compiled is not None
    return compiled


@pytest.mark.parametrize("family", list(PARAMS))
def test_compiled_rows_score_as_the_pipeline(
    family: str, models: dict[str, Any], categories: dict[str, list[str]]
) -> None:
    model = models[family]

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(drawn=_rows(categories))
    def check(drawn: tuple[list[str], np.ndarray]) -> None:
        order, rows = drawn
        compiled = _compiled(model, order)
        expected = model.predict_proba(pd.DataFrame(rows, columns=order))[:, 1]
        np.testing.assert_array_equal(compiled(rows), expected)
        # Row by row against the pipeline row by row: BLAS may sum a one-row product in
        # another order than a batch, so the pipeline itself can differ by an ulp between
        # the two shapes; value for value, the compiled path must match it in both.
        for i in range(len(rows)):
            one = rows[i : i + 1]
            alone = model.predict_proba(pd.DataFrame(one, columns=order))[:, 1]
            np.testing.assert_array_equal(compiled(one), alone)

    check()


@pytest.mark.parametrize("family", ["logistic_regression", "xgboost"])
def test_a_large_batch_takes_the_hashed_lookup_and_agrees(
    family: str, models: dict[str, Any], _course_features: pd.DataFrame
) -> None:
    # More rows than the per-value lookup takes: the batch goes through pandas' hash table.
    frame = pd.concat([_course_features] * 2, ignore_index=True)
    frame.loc[::7, "route_description"] = "Volcanic ash"
    frame.loc[::5, "distance"] = None
    order = list(FEATURE_COLUMNS)[::-1]
    rows = frame[order].astype(object).to_numpy()
    expected = models[family].predict_proba(frame)[:, 1]
    np.testing.assert_array_equal(_compiled(models[family], order)(rows), expected)
    assert _compiled(models[family], order).boosted is (family == "xgboost")


def test_anything_but_the_training_pipeline_is_not_compiled(models: dict[str, Any]) -> None:
    model = models["logistic_regression"]
    assert compile_pipeline(model.named_steps["model"], list(FEATURE_COLUMNS)) is None
    without = [c for c in FEATURE_COLUMNS if c != NUMERIC_FEATURES[0]]
    assert compile_pipeline(model, without) is None


@pytest.mark.xfail(
    strict=True,
    reason="known divergence: the compiled path parses '1_000' as Python's float does (1000), "
    "the pipeline's pd.to_numeric coerces it to a blank; no served body carries text in a "
    "number column (the contract refuses it), so the hot path is left as it is",
)
def test_text_in_a_number_column_reads_as_the_pipeline_reads_it(models: dict[str, Any]) -> None:
    model = models["logistic_regression"]
    order = list(FEATURE_COLUMNS)
    rows = np.array([[0.0] * len(order)], dtype=object)
    rows[0, order.index("distance")] = "1_000"
    expected = model.predict_proba(pd.DataFrame(rows, columns=order))[:, 1]
    np.testing.assert_array_equal(_compiled(model, order)(rows), expected)
