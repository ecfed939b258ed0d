"""The time split, the model's input columns and the recency weights, on the course sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from course_data import TRAIN_END, VALIDATION_END
from hypothesis import given, settings
from hypothesis import strategies as st

from truckflow.features.definition import (
    BINARY_FEATURES,
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    LABEL,
    NUMERIC_FEATURES,
)
from truckflow.training import TrainingError, split_by_arrival
from truckflow.training.data import Split, labels, model_input, recency_weights

KEY = ["truck_id", "route_id", "departure_date"]


def test_the_parts_follow_each_other_in_time(course_split: Split) -> None:
    t1, t2 = pd.Timestamp(TRAIN_END), pd.Timestamp(VALIDATION_END)
    train, validation, test = course_split.train, course_split.validation, course_split.test
    assert train["estimated_arrival"].max() <= t1 < validation["estimated_arrival"].min()
    assert validation["estimated_arrival"].max() <= t2 < test["estimated_arrival"].min()
    assert course_split.sizes() == {"train": 28, "validation": 16, "test": 19}


def test_no_trip_is_in_two_parts_and_none_is_lost(
    course_features: pd.DataFrame, course_split: Split
) -> None:
    keys = [
        set(map(tuple, part[KEY].to_numpy().tolist()))
        for part in (course_split.train, course_split.validation, course_split.test)
    ]
    assert not keys[0] & keys[1] and not keys[0] & keys[2] and not keys[1] & keys[2]
    assert keys[0] | keys[1] | keys[2] == set(map(tuple, course_features[KEY].to_numpy().tolist()))
    for part in (course_split.train, course_split.validation, course_split.test):
        assert set(labels(part)) == {0, 1}


def test_a_trip_on_a_bound_belongs_to_the_earlier_part(course_features: pd.DataFrame) -> None:
    # 2019-01-04 10:55:12 is a real arrival of the sample: as train_end, it is the last train row.
    bound = "2019-01-04 10:55:12"
    split = split_by_arrival(course_features, bound, VALIDATION_END)
    assert split.train["estimated_arrival"].max() == pd.Timestamp(bound)
    assert (split.validation["estimated_arrival"] > pd.Timestamp(bound)).all()


def test_unlabelled_trips_are_left_out_of_every_part(course_features: pd.DataFrame) -> None:
    course_features[LABEL] = course_features[LABEL].astype("Int64")
    course_features.loc[course_features.index[:5], LABEL] = pd.NA
    split = split_by_arrival(course_features, TRAIN_END, VALIDATION_END)
    assert sum(split.sizes().values()) == len(course_features) - 5
    for part in (split.train, split.validation, split.test):
        assert part[LABEL].notna().all()


def test_bad_bounds_and_one_class_parts_are_refused(course_features: pd.DataFrame) -> None:
    with pytest.raises(TrainingError, match="must come before validation_end"):
        split_by_arrival(course_features, "2019-01-05", "2019-01-05")
    # 2019-01-04 up to 15:00 holds two on-time trips and one delayed: cut before the delay.
    with pytest.raises(TrainingError, match=r"the validation part .* has classes \[0\]"):
        split_by_arrival(course_features, TRAIN_END, "2019-01-04 15:00")


def test_model_input_normalises_types_as_documented(course_features: pd.DataFrame) -> None:
    raw = course_features.head(4).astype(object)
    raw.loc[raw.index[0], "distance"] = "not a number"
    raw.loc[raw.index[1], "accident"] = None
    raw.loc[raw.index[2], "fuel_type"] = None
    out = model_input(raw)
    # Every feature column, none else (the preprocessing selects them by name, in any order).
    assert sorted(out.columns) == sorted(FEATURE_COLUMNS)
    assert all(out[c].dtype == np.float64 for c in (*NUMERIC_FEATURES, *BINARY_FEATURES))
    assert np.isnan(out["distance"].iloc[0])
    assert out["accident"].iloc[1] == 0.0  # a blank flag counts as 0
    assert all(out[c].dtype == object for c in CATEGORICAL_FEATURES)
    assert (
        pd.isna(out["fuel_type"].iloc[2]) and out["fuel_type"].iloc[0] == raw["fuel_type"].iloc[0]
    )
    with pytest.raises(TrainingError, match=r"lacks feature column.*ratings"):
        model_input(course_features.drop(columns=["ratings"]))


def test_recent_trips_weigh_most(course_split: Split) -> None:
    weights = recency_weights(course_split.train, 1.0)
    assert weights is not None
    arrival = course_split.train["estimated_arrival"].to_numpy()
    latest = arrival == arrival.max()
    assert np.all(weights[latest] == 1.0) and np.all(weights <= 1.0) and np.all(weights > 0)
    order = np.argsort(arrival, kind="stable")
    assert np.all(np.diff(weights[order]) >= 0)  # never heavier for an older trip
    assert recency_weights(course_split.train, 0.0) is None


@settings(max_examples=50, deadline=None, database=None)
@given(
    half_life=st.floats(0.1, 30.0),
    ages=st.lists(st.floats(0.0, 60.0), min_size=1, max_size=20),
)
def test_a_weight_halves_with_every_half_life_of_age(half_life: float, ages: list[float]) -> None:
    latest = pd.Timestamp("2019-02-20 07:00")
    arrival = [latest] + [latest - pd.Timedelta(days=a) for a in ages]
    weights = recency_weights(pd.DataFrame({"estimated_arrival": arrival}), half_life)
    assert weights is not None
    age = (latest - pd.Series(arrival)).dt.total_seconds().to_numpy() / 86_400.0
    np.testing.assert_allclose(weights, 0.5 ** (age / half_life), rtol=1e-9)
