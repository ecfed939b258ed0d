"""The course's preprocessing: fitted on the training part only, unknown categories as the
one-hot encoder ignores them, blanks imputed with the training statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from truckflow.features.definition import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from truckflow.training.data import Split, labels, model_input
from truckflow.training.preprocess import MODE_IMPUTED, build_preprocessor, positive_weight
from truckflow.training.tuning import fit_candidate


@pytest.fixture
def fitted(course_split: Split) -> object:
    return fit_candidate("logistic_regression", {"C": 1.0}, course_split.train, seed=0)


def _preprocess(model: object) -> object:
    return model.named_steps["preprocess"]  # type: ignore[attr-defined]


def test_the_statistics_are_the_training_parts_alone(course_split: Split, fitted: object) -> None:
    ct = _preprocess(fitted)
    train = model_input(course_split.train)
    numeric = [c for c in NUMERIC_FEATURES if c not in MODE_IMPUTED]
    median = ct.named_transformers_["numeric"].named_steps["impute"].statistics_  # type: ignore[attr-defined]
    np.testing.assert_array_equal(median, train[numeric].median().to_numpy())
    mode = ct.named_transformers_["mode_imputed"].named_steps["impute"].statistics_  # type: ignore[attr-defined]
    assert mode[0] == train["load_capacity_pounds"].mode().iloc[0]
    scaler = ct.named_transformers_["numeric"].named_steps["scale"]  # type: ignore[attr-defined]
    np.testing.assert_allclose(scaler.mean_, train[numeric].fillna(train[numeric].median()).mean())
    # Later trips do not reach the statistics: they differ from a fit on every trip.
    everything = pd.concat([course_split.train, course_split.validation, course_split.test])
    leaky = build_preprocessor().fit(model_input(everything))
    leaky_mean = leaky.named_transformers_["numeric"].named_steps["scale"].mean_
    assert not np.allclose(scaler.mean_, leaky_mean)


def test_the_encoder_knows_the_training_categories_only(
    course_split: Split, fitted: object
) -> None:
    ct = _preprocess(fitted)
    encoder = ct.named_transformers_["categorical"].named_steps["onehot"]  # type: ignore[attr-defined]
    for column, categories in zip(CATEGORICAL_FEATURES, encoder.categories_, strict=True):
        seen = course_split.train[column]
        expected = set(seen.dropna()) | ({"Unknown"} if seen.isna().any() else set())
        assert set(categories) == expected, column
    later = set(course_split.test["route_description"]) - set(
        course_split.train["route_description"]
    )
    assert later  # the sample's test part has weather words training never saw
    assert not later & set(encoder.categories_[CATEGORICAL_FEATURES.index("route_description")])


def test_an_unseen_category_encodes_as_none_and_a_blank_as_unknown(
    course_split: Split, fitted: object
) -> None:
    ct = _preprocess(fitted)
    names = list(ct.get_feature_names_out())  # type: ignore[attr-defined]
    rows = course_split.train.head(3).copy()
    rows["route_description"] = ["Volcanic ash", None, rows["route_description"].iloc[2]]
    rows["driving_style"] = [None, "reckless", "proactive"]  # a blank driving style was seen
    encoded = pd.DataFrame(ct.transform(model_input(rows)), columns=names)  # type: ignore[attr-defined]
    route = [n for n in names if n.startswith("route_description_")]
    style = [n for n in names if n.startswith("driving_style_")]
    assert encoded.loc[0, route].sum() == 0  # unknown: no column set, as handle_unknown=ignore
    # No blank route description in training: a blank one is "Unknown", also never seen.
    assert "route_description_Unknown" not in names and encoded.loc[1, route].sum() == 0
    assert encoded.loc[2, f"route_description_{rows['route_description'].iloc[2]}"] == 1
    assert encoded.loc[0, "driving_style_Unknown"] == 1 and encoded.loc[0, style].sum() == 1
    assert encoded.loc[1, style].sum() == 0
    # And the model scores such rows.
    assert fitted.predict_proba(rows).shape == (3, 2)  # type: ignore[attr-defined]


def test_the_positive_weight_balances_the_classes(course_split: Split) -> None:
    y = labels(course_split.train)
    assert positive_weight(y) == pytest.approx(np.sum(y == 0) / np.sum(y == 1))
    assert positive_weight(np.zeros(4, dtype=int)) == 4.0  # no positives: no division by zero
