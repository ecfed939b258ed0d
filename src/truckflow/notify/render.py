"""Turning outbox rows into messages: one per event, or one daily digest of many events."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from truckflow.events import Severity
from truckflow.notify.event_types import severity_rank

__all__ = ["Message", "OutboxEvent", "render_digest", "render_event"]


@dataclass(frozen=True)
class OutboxEvent:
    """An event as the outbox stores it (the fields every channel renders)."""

    id: int
    type: str
    severity: Severity
    subject: str
    body: Mapping[str, Any]
    time: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "severity": str(self.severity),
            "subject": self.subject,
            "body": dict(self.body),
            "time": self.time.isoformat(),
        }


@dataclass(frozen=True)
class Message:
    """What a channel sends: a title (e-mail subject), a plain-text body, and the events."""

    title: str
    body: str
    severity: Severity
    events: Sequence[OutboxEvent] = field(default_factory=tuple)


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def render_event(event: OutboxEvent) -> Message:
    lines = [
        event.subject,
        "",
        f"type: {event.type}",
        f"severity: {event.severity}",
        f"time: {event.time.isoformat(timespec='seconds')} UTC",
    ]
    lines += [f"{key}: {_value(value)}" for key, value in event.body.items()]
    title = f"[truckflow {str(event.severity).upper()}] {event.subject}"
    return Message(title=title, body="\n".join(lines), severity=event.severity, events=(event,))


def render_digest(day: date, events: Sequence[OutboxEvent]) -> Message:
    """One message for a day's events, most severe first in the summary, in order below."""
    worst = max((e.severity for e in events), key=severity_rank, default=Severity.INFO)
    counts = Counter(str(e.severity) for e in events)
    summary = ", ".join(
        f"{counts[s]} {s}"
        for s in sorted(counts, key=lambda s: severity_rank(Severity(s)), reverse=True)
    )
    title = f"[truckflow digest] {day.isoformat()}: {len(events)} event(s) ({summary})"
    lines = [f"truckflow events of {day.isoformat()} (UTC): {len(events)}", ""]
    for event in events:
        stamp = event.time.strftime("%H:%M:%S")
        lines.append(f"{stamp} [{event.severity}] {event.type}: {event.subject}")
        lines += [f"    {key}: {_value(value)}" for key, value in event.body.items()]
    return Message(title=title, body="\n".join(lines), severity=worst, events=tuple(events))
