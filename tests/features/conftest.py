"""Fixtures of the features tests: the hand-made world of ``feature_world``."""

from __future__ import annotations

import pytest
from feature_world import make_world

from truckflow.features import FeatureInputs


@pytest.fixture
def world() -> FeatureInputs:
    return make_world()
