"""The retraining window that the weekly drift pipeline hands to the training pipeline."""

from __future__ import annotations

import datetime as dt

from truckflow.pipelines.drift.retraining import training_window


def test_retraining_tests_on_the_last_days_and_trains_on_everything_before() -> None:
    window = training_window(dt.date(2019, 2, 22), holdout_days=2)
    assert window == {
        "window_start": "",
        "window_end": "2019-02-22",
        "train_end": "2019-02-18T00:00:00",
        "validation_end": "2019-02-20T00:00:00",
    }
