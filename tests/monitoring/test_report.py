from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.estimate import CONCEPT_SHIFT_NOTE, WeeklyEstimate, estimate_performance
from truckflow.monitoring.quality import model_quality
from truckflow.monitoring.report import DriftReport, Window, build_report, write_report


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame(
        {
            "distance": rng.lognormal(7, 0.8, 800),
            "description": rng.choice(np.array(["Clear", "Snow", "Mist"], dtype=object), 800),
        }
    )
    cur = pd.DataFrame(
        {
            "distance": rng.lognormal(7.4, 0.8, 300),
            # "Blizzard" never occurs in the reference: infinite chi-squared statistic
            "description": rng.choice(np.array(["Clear", "Snow", "Blizzard"], dtype=object), 300),
        }
    )
    return ref, cur


def _report(
    estimate: WeeklyEstimate | None = None,
) -> tuple[DriftReport, pd.DataFrame, pd.DataFrame, tuple[pd.Series, pd.Series]]:
    ref, cur = _frames()
    rng = np.random.default_rng(12)
    predictions = (
        pd.Series(rng.beta(2, 5, 800), name="probability"),
        pd.Series(rng.beta(2, 5, 300), name="probability"),
    )
    report = build_report(
        ref,
        cur,
        predictions=predictions,
        labels=([1, 0, 1, 1, 0], [0, 0, 1, 0, 0]),  # F1 0.5: model drift
        reference_window=Window(start=dt.date(2019, 1, 1), end=dt.date(2019, 2, 14)),
        current_window=Window(start=dt.date(2019, 2, 15), end=dt.date(2019, 2, 21)),
        config=DriftConfig(profile="evidently"),  # the chi-squared of a new category: infinite
        estimate=estimate,
    )
    return report, ref, cur, predictions


def test_report_combines_the_three_checks() -> None:
    report, *_ = _report()
    assert report.data.drifted_columns == ["distance", "description"]
    assert math.isinf(report.data.column("description").statistic)
    assert report.quality is not None and report.model_drift
    assert not report.prediction_drift
    assert report.drift_detected


def test_prediction_drift_alone_triggers_only_when_configured() -> None:
    ref, _ = _frames()
    rng = np.random.default_rng(13)
    preds = (pd.Series(rng.beta(2, 5, 800), name="p"), pd.Series(rng.beta(5, 2, 300), name="p"))
    quiet = build_report(ref, ref.sample(300, random_state=2), predictions=preds)
    assert quiet.prediction_drift and not quiet.data.dataset_drift
    assert not quiet.drift_detected
    loud = build_report(
        ref,
        ref.sample(300, random_state=2),
        predictions=preds,
        config=DriftConfig(prediction_drift_triggers=True),
    )
    assert loud.drift_detected


def test_html_and_json_are_written_and_json_round_trips(tmp_path: Path) -> None:
    report, ref, cur, predictions = _report()
    paths = write_report(report, ref, cur, tmp_path / "week1", predictions=predictions)
    page = paths.html.read_text(encoding="utf-8")
    # one inline plot per data column and per prediction column
    assert page.count('src="data:image/png;base64,') == 3
    assert "distance" in page and "Blizzard" not in page.split("<table>")[0]
    document = json.loads(paths.json.read_text(encoding="utf-8"))
    assert document["drift_detected"] is True
    assert document["data"]["columns"][1]["statistic"] == "Infinity"
    again = DriftReport.from_json(paths.json.read_text(encoding="utf-8"))
    assert again == report
    assert again.data.drifted_columns == report.data.drifted_columns


def test_the_report_shows_prediction_drift_and_the_estimate_beside_the_realized(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(13)
    p = rng.beta(2, 3, 400)
    decided = (p >= 0.5).astype(int)
    estimate = WeeklyEstimate(
        estimated=estimate_performance(p, decided),
        realized=model_quality((rng.random(400) < p).astype(int), decided),
        floor=0.9,
        min_trips=100,
    )
    report, ref, cur, predictions = _report(estimate)
    assert report.estimated_drop  # an estimated F1 well under 0.9 on 400 trips
    paths = write_report(report, ref, cur, tmp_path / "week", predictions=predictions)
    page = paths.html.read_text(encoding="utf-8")
    assert "<h2>Estimated performance</h2>" in page and "<h2>Prediction drift</h2>" in page
    assert f"F1 {estimate.estimated.f1:.3f}" in page
    assert f"F1 {estimate.realized.f1:.3f}" in page  # type: ignore[union-attr]
    assert "cannot see a concept shift" in page and "label-based check" in CONCEPT_SHIFT_NOTE
    assert "prediction drift: <span" in page and "Profile <b>evidently</b>" in page
    again = DriftReport.from_json(paths.json.read_text(encoding="utf-8"))
    assert again.estimate == estimate and again.estimated_drop
