"""Channels: where a message goes. Built-in ``log`` and JSONL ``file``; everything else via apprise.

A channel's ``send`` either returns (delivered) or raises ``DeliveryError`` with a message that
holds no secret. Channels are built from a ``ChannelSpec`` at delivery time, so the real URL
lives only in the settings and in memory while sending.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from truckflow.events import Severity
from truckflow.notify.config import DEFAULT_FILE_NAME, ChannelSpec
from truckflow.notify.errors import DeliveryError
from truckflow.notify.render import Message
from truckflow.notify.secrets import install_log_scrubber, scrub

__all__ = ["AppriseChannel", "Channel", "FileChannel", "LogChannel", "build_channel"]

_log = logging.getLogger("truckflow.notify.channel")
_LEVELS = {
    Severity.DEBUG: logging.DEBUG,
    Severity.INFO: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.ERROR: logging.ERROR,
    Severity.CRITICAL: logging.CRITICAL,
}


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


class LogChannel:
    """Writes each message's title as one record of the ``truckflow.notify.channel`` logger;
    the body (several lines) follows at DEBUG, so a terminal shows one line per event."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, message: Message) -> None:
        _log.log(_LEVELS[message.severity], "%s", message.title)
        _log.debug("%s\n%s", message.title, message.body)

    def __repr__(self) -> str:
        return f"LogChannel({self.name!r})"


class FileChannel:
    """Appends each message as one JSON line (title, body, events) to a file."""

    _lock = threading.Lock()

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path

    def send(self, message: Message) -> None:
        record = {
            "channel": self.name,
            "title": message.title,
            "severity": str(message.severity),
            "body": message.body,
            "events": [event.to_dict() for event in message.events],
        }
        line = json.dumps(record, sort_keys=True, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise DeliveryError(
                f"channel {self.name}: cannot append to {self.path}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return f"FileChannel({self.name!r}, {str(self.path)!r})"


class AppriseChannel:
    """Any URL apprise supports: mailto(s), slack, msteams, discord, json(s), and the rest."""

    def __init__(self, spec: ChannelSpec) -> None:
        self.name = spec.name
        self._spec = spec
        self._secrets = spec.secrets()
        # Before the first send: apprise and urllib3 log URLs at debug level.
        install_log_scrubber(self._secrets)

    def __repr__(self) -> str:
        return f"AppriseChannel({self.name!r}, {self._spec.redacted_url!r})"

    def _fail(self, reason: str) -> DeliveryError:
        text = f"channel {self.name} ({self._spec.redacted_url}): {reason}"
        return DeliveryError(scrub(text, self._secrets))

    def send(self, message: Message) -> None:
        import apprise

        notifier = apprise.Apprise()
        try:
            accepted = notifier.add(self._spec.url.get_secret_value())
        except Exception as exc:  # apprise raises its own types for some malformed URLs
            raise self._fail(f"apprise rejects the URL: {type(exc).__name__}") from None
        if not accepted:
            raise self._fail("apprise does not accept the URL (unknown scheme or bad format)")
        capture = apprise.LogCapture(level=logging.DEBUG, fmt="%(levelno)s|%(message)s")  # type: ignore[no-untyped-call]
        with capture as captured:
            try:
                ok = notifier.notify(
                    title=message.title,
                    body=message.body,
                    notify_type=_notify_type(message.severity),
                    body_format=apprise.NotifyFormat.TEXT,
                )
            except Exception as exc:  # a plugin bug must not escape as an unscrubbed traceback
                raise self._fail(f"{type(exc).__name__}: {exc}") from None
        if not ok:
            raise self._fail(_reason(captured.getvalue()))


def _notify_type(severity: Severity) -> Any:
    import apprise

    if severity in (Severity.ERROR, Severity.CRITICAL):
        return apprise.NotifyType.FAILURE
    if severity == Severity.WARNING:
        return apprise.NotifyType.WARNING
    return apprise.NotifyType.INFO


def _reason(captured: str) -> str:
    """Apprise's warnings and the exceptions it logged, as one line."""
    picked: list[str] = []
    for line in captured.splitlines():
        level, _, text = line.partition("|")
        if not level.isdigit():
            continue
        if int(level) >= logging.WARNING or "Exception" in text:
            picked.append(text.strip())
    return "; ".join(picked) or "delivery failed (apprise gave no reason)"


def build_channel(spec: ChannelSpec, home: Path) -> Channel:
    """The channel a spec names; ``file://name`` is relative to the home, ``file:///x`` absolute."""
    if spec.kind == "log":
        return LogChannel(spec.name)
    if spec.kind == "file":
        target = spec.url.get_secret_value().split("://", 1)[1] or DEFAULT_FILE_NAME
        path = Path(target).expanduser()
        return FileChannel(spec.name, path if path.is_absolute() else home / path)
    return AppriseChannel(spec)
