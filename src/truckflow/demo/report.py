"""The demo's HTML report: one self-contained file, figures embedded as base64 PNG."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from truckflow.demo.model import DailyPoint, DemoSummary
from truckflow.demo.plots import confusion_counts, confusion_png, daily_f1_png, drift_heatmap_png

__all__ = ["REPORT_NAME", "figures", "write_report"]

REPORT_NAME = "demo.html"


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure id="{name}"><img alt="{name}" src="data:image/png;base64,{data}"></figure>'


def _by_version(daily: list[DailyPoint]) -> list[tuple[str, list[DailyPoint]]]:
    order: dict[str, list[DailyPoint]] = {}
    for d in daily:
        order.setdefault(d.model_version or "?", []).append(d)
    return list(order.items())


def figures(summary: DemoSummary) -> dict[str, bytes]:
    """Figure name -> PNG; only those the data allow (no streaming days: no daily plot)."""
    out: dict[str, bytes] = {}
    if summary.daily:
        out["daily_f1"] = daily_f1_png(summary.daily)
    if summary.drift and any(w.scores for w in summary.drift):
        out["drift_heatmap"] = drift_heatmap_png(summary.drift)
    groups = _by_version(summary.daily)
    if groups:
        picks = [("before retraining", groups[0])]
        if len(groups) > 1:
            picks.append(("after retraining", groups[-1]))
        for label, (version, points) in picks:
            matrix = confusion_counts(points)
            if matrix is not None:
                key = "confusion_before" if label.startswith("before") else "confusion_after"
                out[key] = confusion_png(f"v{version}, {label} ({len(points)} days)", matrix)
    return out


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _run_tables(summary: DemoSummary) -> tuple[str, str, str]:
    """The stages, daily quality and weekly drift tables."""
    stages = _table(
        ["stage", "status", "seconds", "detail"],
        [[s.name, s.status, s.seconds, s.detail] for s in summary.stages],
    )
    daily = _table(
        ["day", "trips", "F1", "accuracy", "precision", "recall", "model"],
        [
            [
                d.day,
                d.count,
                f"{d.f1:.3f}",
                f"{d.accuracy:.3f}",
                f"{d.precision:.3f}",
                f"{d.recall:.3f}",
                d.model_version,
            ]
            for d in summary.daily
        ],
    )
    drift = _table(
        [
            "week",
            "dataset drift",
            "share drifted",
            "model drift",
            "F1",
            "drifted columns",
            "retraining",
        ],
        [
            [
                w.week_start,
                w.dataset_drift,
                f"{w.share_drifted:.2f}",
                w.model_drift,
                "" if w.f1 is None else f"{w.f1:.3f}",
                ", ".join(w.drifted_columns),
                w.retraining or "-",
            ]
            for w in summary.drift
        ],
    )
    return stages, daily, drift


def _model_tables(summary: DemoSummary) -> tuple[str, str, str]:
    """The models, production deployments and notification count tables."""
    models = _table(
        ["version", "aliases", "approval", "test F1", "served from", "served to", "days"],
        [
            [
                m.version,
                ", ".join(m.aliases),
                m.approval,
                "" if m.test_f1 is None else f"{m.test_f1:.3f}",
                m.first_day or "",
                m.last_day or "",
                m.days,
            ]
            for m in summary.models
        ],
    )
    deployed = _table(
        ["version", "in production from", "until", "approved by", "why"],
        [
            [
                d.version,
                d.started_at.isoformat(),
                "now" if d.ended_at is None else d.ended_at.isoformat(),
                d.approved_by or "",
                d.reason or "",
            ]
            for d in summary.deployments
        ],
    )
    notes = _table(["event", "count"], [[k, v] for k, v in summary.notifications.items()])
    return models, deployed, notes


def write_report(summary: DemoSummary, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    figs = figures(summary)
    stages, daily, drift = _run_tables(summary)
    models, deployed, notes = _model_tables(summary)
    missing = (
        f"<p class=warn>Not available in this build: {escape(', '.join(summary.unavailable))}</p>"
        if summary.unavailable
        else ""
    )
    html = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>truckflow demo</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:2px 8px}}
.warn{{color:#a40}}img{{max-width:100%}}</style></head><body>
<h1>truckflow demo</h1>
<p>home {escape(str(summary.home))}, data {escape(str(summary.data_dir))},
production model {escape(str(summary.production_version))},
retraining {"happened" if summary.retrained else "did not happen"}.</p>{missing}
<h2>Stages</h2>{stages}
<h2>Daily quality</h2>{_fig(figs, "daily_f1")}{daily}
<h2>Weekly drift</h2>{_fig(figs, "drift_heatmap")}{drift}
<h2>Models</h2>{_fig(figs, "confusion_before")}{_fig(figs, "confusion_after")}{models}
<h3>Production deployments</h3>{deployed}
<h2>Notifications</h2>{notes}
</body></html>
"""
    path = folder / REPORT_NAME
    path.write_text(html, encoding="utf-8")
    return path


def _fig(figs: dict[str, bytes], name: str) -> str:
    return _img(name, figs[name]) if name in figs else ""
