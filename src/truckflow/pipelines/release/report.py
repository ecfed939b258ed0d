"""The release report: acceptance checks, shadow metrics side by side, testers' feedback.

Written as JSON (for machines and CI) and a small self-contained HTML page (for people), in
``<home>/reports/release/``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from truckflow.registry import Stage

__all__ = ["write_report"]


def _table(rows: Sequence[Sequence[Any]], header: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "" if value is None else str(value)


def _html(doc: dict[str, Any]) -> str:
    checks = [
        (c["name"], "passed" if c["passed"] else "FAILED", c["message"])
        for c in doc["acceptance"]["checks"]
    ]
    parts = [
        f"<h1>Release of {html.escape(doc['model'])} version {html.escape(doc['version'])}</h1>",
        f"<p>Decision: <b>{html.escape(doc['decision'])}</b> "
        f"(approval status {html.escape(doc['approval_status'])}); "
        f"written {html.escape(doc['written_at'])}</p>",
        "<h2>Acceptance</h2>",
        _table(checks, ("check", "result", "detail")),
    ]
    shadow = next((c for c in doc["acceptance"]["checks"] if c["name"] == "shadow"), None)
    details = shadow["details"] if shadow else {}
    if Stage.STAGING in details:
        staging, production = details[Stage.STAGING], details[Stage.PRODUCTION]
        keys = [k for k in staging if k != "version"]
        rows = [(k, _fmt(staging[k]), _fmt(production.get(k))) for k in keys]
        rows.append(("agreement rate", _fmt(details["agreement_rate"]), ""))
        parts += [
            f"<h2>Shadow evaluation on {details['trips']} labelled trips</h2>",
            _table(
                rows,
                (
                    "metric",
                    f"{Stage.STAGING} (v{staging['version']})",
                    f"{Stage.PRODUCTION} (v{production['version']})",
                ),
            ),
        ]
    fb = doc["feedback"]
    parts += [
        "<h2>Testers' feedback</h2>",
        f"<p>{fb['predictions']} captured predictions; verdicts: right {fb['right']}, "
        f"wrong {fb['wrong']}, unsure {fb['unsure']}</p>",
        _table([(c["verdict"], c["comment"]) for c in fb["comments"]], ("verdict", "comment")),
        "<h2>Registered metrics</h2>",
        _table([(k, _fmt(v)) for k, v in sorted(doc["metrics"].items())], ("metric", "value")),
    ]
    style = "body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>release "
        f"{html.escape(doc['version'])}</title><style>{style}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )


def write_report(folder: Path, doc: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``doc`` as JSON and HTML; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = {**doc, "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    stem = f"release-v{doc['version']}-{doc['execution_id'][:12]}"
    json_path = folder / f"{stem}.json"
    html_path = folder / f"{stem}.html"
    json_path.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str))
    html_path.write_text(_html(doc))
    return json_path, html_path
