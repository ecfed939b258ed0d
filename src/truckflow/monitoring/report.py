"""The weekly drift report: data drift, prediction drift and model quality in one result,
written as a self-contained HTML page (distribution plots inline) and its JSON twin."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, computed_field

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.drift import ColumnDrift, DataDrift, detect_drift, prediction_drift
from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.estimate import WeeklyEstimate
from truckflow.monitoring.plots import distribution_png
from truckflow.monitoring.quality import Labels, ModelQuality, model_quality

__all__ = ["DriftReport", "ReportPaths", "Window", "build_report", "write_report"]


class Window(BaseModel):
    """A date range, both ends included."""

    model_config = ConfigDict(frozen=True)

    start: dt.date
    end: dt.date


class DriftReport(BaseModel):
    """Everything the weekly check found, and the decision it leads to."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    data: DataDrift
    prediction: DataDrift | None = None
    quality: ModelQuality | None = None
    estimate: WeeklyEstimate | None = None
    config: DriftConfig = Field(default_factory=DriftConfig)
    reference_window: Window | None = None
    current_window: Window | None = None
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def prediction_drift(self) -> bool:
        return self.prediction is not None and self.prediction.dataset_drift

    @computed_field  # type: ignore[prop-decorator]
    @property
    def model_drift(self) -> bool:
        return self.quality is not None and self.quality.drifted

    @computed_field  # type: ignore[prop-decorator]
    @property
    def estimated_drop(self) -> bool:
        """Estimated F1 below the floor on enough trips (warns; retraining waits for labels)."""
        return self.estimate is not None and self.estimate.dropped

    @computed_field  # type: ignore[prop-decorator]
    @property
    def drift_detected(self) -> bool:
        """The course's trigger: data drift or F1 below the floor (prediction drift if asked)."""
        by_prediction = self.config.prediction_drift_triggers and self.prediction_drift
        return self.data.dataset_drift or self.model_drift or by_prediction

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> DriftReport:
        """Read a report back; the computed verdicts in the JSON are recomputed, not trusted."""
        return cls.model_validate_json(text)


def build_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    categorical: tuple[str, ...] | list[str] = (),
    numerical: tuple[str, ...] | list[str] = (),
    predictions: tuple[pd.DataFrame | pd.Series, pd.DataFrame | pd.Series] | None = None,
    labels: tuple[Labels, Labels] | None = None,
    config: DriftConfig | None = None,
    reference_window: Window | None = None,
    current_window: Window | None = None,
    estimate: WeeklyEstimate | None = None,
    data: DataDrift | None = None,
) -> DriftReport:
    """Run the three checks on the columns of ``reference`` (types inferred from the dtypes
    unless named in ``categorical``/``numerical``). ``predictions`` = (reference, current) model outputs;
    ``labels`` = (true delay, predicted delay) of the current window's labelled trips;
    ``data``: the data drift of those columns when the caller computed it (by partitions)."""
    config = config or DriftConfig()
    if data is None:
        data = detect_drift(
            reference, current, categorical=categorical, numerical=numerical, config=config
        )
    return DriftReport(
        data=data,
        prediction=None if predictions is None else prediction_drift(*predictions, config=config),
        quality=None if labels is None else model_quality(*labels, config=config),
        estimate=estimate,
        config=config,
        reference_window=reference_window,
        current_window=current_window,
    )


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    json: Path


def write_report(
    report: DriftReport,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    folder: Path,
    *,
    name: str = "drift_report",
    predictions: tuple[pd.DataFrame | pd.Series, pd.DataFrame | pd.Series] | None = None,
) -> ReportPaths:
    """Write ``<name>.html`` (with a plot per column) and ``<name>.json`` into ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = ReportPaths(folder / f"{name}.html", folder / f"{name}.json")
        paths.json.write_text(report.to_json(), encoding="utf-8")
        sections = [_section("Data drift", report.data, reference, current)]
        if report.prediction is not None and predictions is not None:
            ref_pred, cur_pred = (
                p.to_frame() if isinstance(p, pd.Series) else p for p in predictions
            )
            sections.append(_section("Prediction drift", report.prediction, ref_pred, cur_pred))
        paths.html.write_text(_page(report, sections), encoding="utf-8")
    except OSError as exc:
        raise MonitoringError(f"cannot write the drift report into {folder}: {exc}") from exc
    return paths


def _verdict(flag: bool) -> str:
    return '<b class="bad">DRIFT</b>' if flag else '<span class="ok">no drift</span>'


def _row(col: ColumnDrift) -> str:
    p = "" if col.p_value is None else f"{col.p_value:.4g}"
    cells = (
        col.column,
        col.kind.value,
        col.test.value,
        f"{col.statistic:.4g}",
        p,
        f"{col.threshold:g}",
    )
    return (
        "<tr>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        + f"<td>{_verdict(col.drifted)}</td></tr>"
    )


def _section(title: str, drift: DataDrift, reference: pd.DataFrame, current: pd.DataFrame) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("column", "type", "test", "statistic", "p-value", "threshold", "verdict")
    )
    rows = "".join(_row(c) for c in drift.columns)
    plots = "".join(
        f'<figure><img alt="{html.escape(c.column)}" src="data:image/png;base64,'
        f'{distribution_png(reference[c.column], current[c.column], c)}"></figure>'
        for c in drift.columns
    )
    summary = (
        f"{len(drift.drifted_columns)} of {len(drift.columns)} columns drifted "
        f"(share {drift.share_drifted:.2f}, dataset drift at {drift.drift_share:g}): "
        f"{_verdict(drift.dataset_drift)}. {_profile(drift)}"
    )
    return f"<h2>{title}</h2><p>{summary}</p><table><tr>{head}</tr>{rows}</table>{plots}"


def _profile(drift: DataDrift) -> str:
    if drift.profile == "adaptive":
        return (
            f"Profile <b>adaptive</b>: each threshold is the distance that reference windows "
            f"of this size ({drift.null_method} draws) exceed at the false-alarm rate."
        )
    return f"Profile <b>{html.escape(drift.profile)}</b>: Evidently's default tests and thresholds."


def _estimate(report: DriftReport) -> str:
    if report.estimate is None:
        return ""
    e, r = report.estimate.estimated, report.estimate.realized
    realized = (
        "no labels yet"
        if r is None
        else f"{r.count} labelled so far: precision {r.precision:.3f}, recall {r.recall:.3f}, "
        f"F1 {r.f1:.3f}, accuracy {r.accuracy:.3f}"
    )
    return (
        f"<h2>Estimated performance</h2><p>{e.count} trips predicted, estimated from calibrated "
        f"probabilities: precision {e.precision:.3f}, recall {e.recall:.3f}, F1 {e.f1:.3f} "
        f"[{e.f1_low:.3f}, {e.f1_high:.3f}] ({e.confidence:.0%}), accuracy {e.accuracy:.3f}; "
        f"realized: {realized}. Estimated F1 against the floor {report.estimate.floor:g} on at "
        f"least {report.estimate.min_trips} trips: {_verdict(report.estimate.dropped)}</p>"
        f"<p><i>{html.escape(report.estimate.note)}</i></p>"
    )


def _page(report: DriftReport, sections: list[str]) -> str:
    windows = ""
    if report.reference_window and report.current_window:
        r, c = report.reference_window, report.current_window
        windows = f"<p>reference {r.start} to {r.end}; current {c.start} to {c.end}</p>"
    quality = ""
    if report.quality is not None:
        q = report.quality
        quality = (
            f"<h2>Model quality</h2><p>{q.count} labelled trips: accuracy {q.accuracy:.3f}, "
            f"precision {q.precision:.3f}, recall {q.recall:.3f}, F1 {q.f1:.3f} "
            f"(floor {q.min_f1:g}): {_verdict(q.drifted)}</p>"
        )
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}.bad{color:#b00}"
        ".ok{color:#070}figure{display:inline-block;margin:4px}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>truckflow drift report</title>"
        f"<style>{style}</style></head><body><h1>Drift report</h1>{windows}"
        f"<p>Verdict: {_verdict(report.drift_detected)} (created {report.created_at:%Y-%m-%d %H:%M} UTC)</p>"
        f"<p>Data drift: {_verdict(report.data.dataset_drift)}; prediction drift: "
        f"{'not checked' if report.prediction is None else _verdict(report.prediction_drift)}"
        f"; estimated performance drop: {_verdict(report.estimated_drop)}</p>"
        f"{quality}{_estimate(report)}{''.join(sections)}</body></html>"
    )
