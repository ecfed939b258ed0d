"""The delay label carries the course's patterns, and a course model lands in the course's F1 band."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from course_features import course_split, design_matrix, trip_features
from sklearn.metrics import f1_score

SCALE = 0.25  # the smallest scale whose test week (about 500 trips) gives a stable F1


@pytest.fixture(scope="module")
def trips(make_world) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    world = make_world(seed=0, scale=SCALE, scenario="none")
    return trip_features(world.out)


def test_course_model_scores_in_the_course_band(trips: pd.DataFrame) -> None:
    x, y = design_matrix(trips), trips["delay"].to_numpy()
    train, _, test = course_split(trips)
    assert test.sum() > 400
    model = xgb.XGBClassifier(
        n_estimators=150, max_depth=4, learning_rate=0.1, random_state=0, n_jobs=1
    )
    model.fit(x[train], y[train])
    f1 = f1_score(y[test], model.predict(x[test]))
    assert 0.6 <= f1 <= 0.85, f1


def test_delay_rate_and_its_causes_look_like_the_course(trips: pd.DataFrame) -> None:
    assert trips["delay"].mean() == pytest.approx(0.35, abs=0.02)
    by_midnight = trips.groupby("is_midnight")["delay"].mean()
    assert by_midnight[0] < 0.25 and by_midnight[1] > 0.45  # course: 0.19 vs 0.54
    fifth = pd.qcut(trips["distance"], 5, labels=False)
    rates = trips.groupby(fifth)["delay"].mean().to_numpy()
    assert rates[:2].max() < 0.27 and rates[3:].min() > 0.4  # course: 0.18 0.19 0.27 0.57 0.53
    days = trips.groupby("departure_date")["delay"].mean()
    assert np.median(days) < 0.4 and days.max() > 0.65  # weather spells make some days bad


def test_bad_weather_and_traffic_raise_delays(trips: pd.DataFrame) -> None:
    low_vis = trips["route_visibility"] < trips["route_visibility"].quantile(0.2)
    assert trips.loc[low_vis, "delay"].mean() > trips.loc[~low_vis, "delay"].mean() + 0.1
    busy = trips["traffic_volume"] > trips["traffic_volume"].median()
    same_length = trips["is_midnight"] == 0
    assert (
        trips.loc[busy & same_length, "delay"].mean()
        > trips.loc[~busy & same_length, "delay"].mean()
    )
