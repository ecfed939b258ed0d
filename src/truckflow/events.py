"""Events: what happened, said once, for whoever listens (logs, the notification outbox).

The pipeline engine and every domain pipeline emit ``Event`` objects to an ``EventSink``. The
default sink logs them; the notification subsystem provides a sink that writes them to its
outbox in the same transaction as the state change they report (hence the optional connection).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import sqlalchemy as sa

__all__ = ["Event", "EventSink", "LoggingSink", "MultiSink", "Severity"]

_log = logging.getLogger("truckflow.events")


class Severity(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Event:
    """One thing that happened. ``type`` is dotted, e.g. ``pipeline.failed`` or ``drift.detected``.

    ``key``, when set, names the event for good (``metrics.daily:2019-02-16``): a sink that
    keeps events writes an event of a known key once, so a rerun of the work that emits it
    does not tell it twice.
    """

    type: str
    subject: str
    body: dict[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.INFO
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "subject": self.subject,
            "body": self.body,
            "severity": str(self.severity),
            "time": self.time.isoformat(),
            "key": self.key,
        }


@runtime_checkable
class EventSink(Protocol):
    """Receives events. ``connection``, when given, is the open transaction of the state change."""

    def emit(self, event: Event, connection: sa.Connection | None = None) -> None: ...


class LoggingSink:
    """The default sink: one log line per event."""

    _levels = {
        Severity.DEBUG: logging.DEBUG,
        Severity.INFO: logging.INFO,
        Severity.WARNING: logging.WARNING,
        Severity.ERROR: logging.ERROR,
        Severity.CRITICAL: logging.CRITICAL,
    }

    def emit(self, event: Event, connection: sa.Connection | None = None) -> None:
        _log.log(self._levels[event.severity], "%s: %s", event.type, event.subject)


class MultiSink:
    """Fans one event out to several sinks, in order."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def emit(self, event: Event, connection: sa.Connection | None = None) -> None:
        for sink in self.sinks:
            sink.emit(event, connection)
