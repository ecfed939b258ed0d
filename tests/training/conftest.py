"""Fixtures of the training tests: the course sample's real features and a split of them.

The sample holds 63 trips arriving 2019-01-01 to 2019-01-08 (16 delayed); the course's split
dates lie past it, so the split here uses bounds inside the sample that leave both classes in
every part: arrivals up to 2019-01-03 train, up to 2019-01-07 13:00 validate, later test.
"""

from __future__ import annotations

import pandas as pd
import pytest
from course_data import COURSE_SAMPLE, TRAIN_END, VALIDATION_END

from truckflow.features import compute_features, read_course_csvs
from truckflow.training.data import Split, split_by_arrival


@pytest.fixture(scope="session")
def _course_features() -> pd.DataFrame:
    return compute_features(read_course_csvs(COURSE_SAMPLE)).features


@pytest.fixture
def course_features(_course_features: pd.DataFrame) -> pd.DataFrame:
    """The feature rows of the course sample (a copy: a test may change it)."""
    return _course_features.copy()


@pytest.fixture
def course_split(course_features: pd.DataFrame) -> Split:
    return split_by_arrival(course_features, TRAIN_END, VALIDATION_END)


@pytest.fixture(scope="session")
def generated_split() -> Split:
    """360 generated trips over the course's dates, split as the course does: a table large
    enough for every family's defaults (LightGBM wants 20 trips a leaf; the sample's training
    part holds 28)."""
    from synthetic_features import feature_frame

    return split_by_arrival(feature_frame(n=360, seed=0))
