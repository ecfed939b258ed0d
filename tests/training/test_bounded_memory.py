"""Fitting, scoring and splitting in pieces (bounded memory) give what the whole-frame
calls give: the same pickled model, the same scores, the same parts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from course_data import TRAIN_END, VALIDATION_END

from truckflow.pipelines.training.steps import split_dataset
from truckflow.training.candidates import build_estimator
from truckflow.training.data import Split, TrainingError, labels, recency_weights
from truckflow.training.evaluate import delay_scores
from truckflow.training.preprocess import fit_model_pipeline, model_pipeline

PARAMS: dict[str, dict[str, Any]] = {
    "logistic_regression": {"C": 0.5},
    "random_forest": {
        "n_estimators": 10,
        "max_depth": 4,
        "min_samples_leaf": 2,
        "max_features": "sqrt",
    },
}


def _pickled(model: object) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("family", sorted(PARAMS))
@pytest.mark.parametrize("half_life", [0.0, 5.0])
@pytest.mark.parametrize("distinct_routes", [False, True])
def test_fit_in_pieces_is_pipeline_fit(
    generated_split: Split, family: str, half_life: float, distinct_routes: bool
) -> None:
    train = generated_split.train
    if distinct_routes:  # a wide one-hot: its sparse output is below the sparse threshold
        train = train.assign(route_description=[f"route {i}" for i in range(len(train))])
    y = labels(train)
    weights = recency_weights(train, half_life)

    def fresh() -> Any:
        return model_pipeline(build_estimator(family, PARAMS[family], seed=0, pos_weight=2.0))

    whole = fresh().fit(train, y, **({} if weights is None else {"model__sample_weight": weights}))
    pieces = fit_model_pipeline(fresh(), train, y, weights, piece_rows=7)
    assert _pickled(pieces) == _pickled(whole)
    # Dense output again: the model scores as the one fitted whole.
    assert isinstance(pieces[:-1].transform(train.head(3)), np.ndarray)


def test_scores_in_pieces_are_one_call(course_split: Split) -> None:
    train, test = course_split.train, course_split.test
    model = fit_model_pipeline(
        model_pipeline(build_estimator("logistic_regression", {"C": 1.0}, seed=0)),
        train,
        labels(train),
    )
    whole = model.predict_proba(test)[:, 1]
    # Equal but for the last bit or two: BLAS's matrix-vector kernel may sum a row's products
    # in another order when the row sits in a block of 4 or in the tail (on some CPUs only).
    np.testing.assert_array_max_ulp(delay_scores(model, test, piece_rows=5), whole, maxulp=4)
    assert delay_scores(model, test.head(0)).shape == (0,)


def test_split_reads_each_part_as_the_masks_give_it(
    course_features: pd.DataFrame, course_split: Split, tmp_path: Path
) -> None:
    source = tmp_path / "features.parquet"
    unlabelled = course_features.head(3).assign(delay=pd.array([pd.NA] * 3, dtype="Int64"))
    pd.concat([course_features, unlabelled], ignore_index=True).to_parquet(source, index=False)
    out = split_dataset(str(source), str(tmp_path / "split"), TRAIN_END, VALIDATION_END)
    for part in ("train", "validation", "test"):
        read = pd.read_parquet(out[part])
        expected = getattr(course_split, part)
        pd.testing.assert_frame_equal(read, pd.read_parquet(_parquet(expected, tmp_path, part)))
        assert out["sizes"][part] == len(expected)


def test_split_refuses_a_part_with_one_class(course_features: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "features.parquet"
    course_features.assign(delay=0).to_parquet(source, index=False)
    with pytest.raises(TrainingError, match="the train part"):
        split_dataset(str(source), str(tmp_path / "split"), TRAIN_END, VALIDATION_END)


def _parquet(frame: pd.DataFrame, folder: Path, name: str) -> Path:
    path = folder / f"expected-{name}.parquet"
    frame.to_parquet(path, index=False)
    return path
