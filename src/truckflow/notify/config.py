"""Routing rules: which event types, at which severity, go to which channels.

The rules come from a TOML or YAML file (``notify.toml`` in the home by default) and from
settings (``TRUCKFLOW_NOTIFY__CHANNELS``, ``TRUCKFLOW_NOTIFY__ROUTES``), for example::

    [channels.ops]
    url = "mailtos://alerts:PASSWORD@smtp.example.com?to=ops@example.com"
    digest = "daily"            # one message a day instead of one per event

    [[routes]]
    events = ["pipeline.failed", "drift.*"]   # glob patterns over event types
    min_severity = "warning"
    channels = ["ops", "log"]

Two channels always exist: ``log`` (Python logging) and ``file`` (JSONL in the home). Without
any rules, every event of severity info or more goes to ``file`` and warnings or worse also to
``log``. Channel URLs are secrets: they are held as ``SecretStr`` and only ever shown redacted.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from truckflow.events import Event, Severity
from truckflow.notify.errors import NotifyError
from truckflow.notify.event_types import severity_rank
from truckflow.notify.secrets import redact_url, secret_parts
from truckflow.settings import Settings

__all__ = [
    "DEFAULT_FILE_NAME",
    "ChannelSpec",
    "NotifyConfig",
    "Route",
    "load_config",
]

DEFAULT_FILE_NAME = "notifications.jsonl"
_RULE_FILES = ("notify.toml", "notify.yaml", "notify.yml")
_BUILTIN = {"log": "log://", "file": f"file://{DEFAULT_FILE_NAME}"}
_DEFAULT_ROUTES: list[dict[str, Any]] = [
    {"events": ["*"], "min_severity": "info", "channels": ["file"]},
    {"events": ["*"], "min_severity": "warning", "channels": ["log"]},
]


class ChannelSpec(BaseModel):
    """A named channel; ``url`` is secret, ``redacted_url`` is what may be shown."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=64)
    url: SecretStr
    digest: Literal["none", "daily"] = "none"

    @property
    def kind(self) -> Literal["log", "file", "apprise"]:
        scheme = self.url.get_secret_value().split("://", 1)[0].lower()
        if scheme == "log":
            return "log"
        if scheme == "file":
            return "file"
        return "apprise"

    @property
    def redacted_url(self) -> str:
        url = self.url.get_secret_value()
        return url if self.kind != "apprise" else redact_url(url)

    def secrets(self) -> list[str]:
        """Fragments of the URL that must never be printed (none for the built-in kinds)."""
        return [] if self.kind != "apprise" else secret_parts(self.url.get_secret_value())

    def public(self) -> dict[str, str]:
        return {"name": self.name, "url": self.redacted_url, "digest": self.digest}


class Route(BaseModel):
    """Events whose type matches one of ``events`` and severity is at least ``min_severity``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    events: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    min_severity: Severity = Severity.INFO
    channels: list[str] = Field(min_length=1)

    @field_validator("events", "channels", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def matches(self, event: Event) -> bool:
        if severity_rank(event.severity) < severity_rank(self.min_severity):
            return False
        return any(fnmatch.fnmatchcase(event.type, pattern) for pattern in self.events)


class NotifyConfig(BaseModel):
    """Channels by name and the routes over them; ``source`` says where the rules came from."""

    model_config = ConfigDict(frozen=True)

    channels: dict[str, ChannelSpec]
    routes: list[Route]
    source: str = "built-in defaults"

    def channels_for(self, event: Event) -> list[ChannelSpec]:
        """The channels an event goes to, each once, in the order the routes name them."""
        names: dict[str, None] = {}
        for route in self.routes:
            if route.matches(event):
                names.update(dict.fromkeys(route.channels))
        return [self.channels[name] for name in names]

    def channel(self, name: str) -> ChannelSpec | None:
        return self.channels.get(name)

    def with_channel(self, spec: ChannelSpec) -> NotifyConfig:
        return self.model_copy(update={"channels": {**self.channels, spec.name: spec}})

    def secrets(self) -> list[str]:
        return [part for spec in self.channels.values() for part in spec.secrets()]

    def public(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "channels": [spec.public() for spec in self.channels.values()],
            "routes": [route.model_dump(mode="json") for route in self.routes],
        }


def _rules_file(settings: Settings) -> Path | None:
    if settings.notify.file is not None:
        path = settings.notify.file.expanduser()
        if not path.is_absolute():
            path = settings.home / path
        if not path.is_file():
            raise NotifyError(f"notification rules file {path} does not exist")
        return path
    for name in _RULE_FILES:
        candidate = settings.home / name
        if candidate.is_file():
            return candidate
    return None


def _read_rules(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data: Any = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise NotifyError(f"notification rules file {path} is not valid TOML: {exc}") from None
    except yaml.YAMLError as exc:
        # YAML errors quote the offending line, which may hold a channel URL: say only where.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise NotifyError(
            f"notification rules file {path} is not valid YAML{where}: {problem}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise NotifyError(f"notification rules file {path} must hold a table/mapping at the top")
    unknown = set(data) - {"channels", "routes"}
    if unknown:
        raise NotifyError(
            f"notification rules file {path}: unknown section(s) {', '.join(sorted(unknown))}",
            hint="allowed: channels, routes",
        )
    return data


def _validation_message(where: str, exc: ValidationError) -> str:
    # Pydantic echoes the input value by default; for channels that would be the URL.
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
    )
    return f"{where}: {problems}"


def _channel_specs(
    raw: Mapping[str, Any], overrides: Mapping[str, SecretStr], where: str
) -> dict[str, ChannelSpec]:
    specs: dict[str, ChannelSpec] = {}
    for name, default in _BUILTIN.items():
        specs[name] = ChannelSpec(name=name, url=SecretStr(default))
    names = list(dict.fromkeys([*raw, *overrides]))
    for name in names:
        entry = raw.get(name, {})
        if isinstance(entry, str):
            entry = {"url": entry}
        if not isinstance(entry, dict):
            raise NotifyError(f"{where}: channel {name!r} must be a URL or a table")
        fields = {**entry, "name": name}
        if name in overrides:
            fields["url"] = overrides[name]
        elif "url" not in fields and name in specs:
            fields["url"] = specs[name].url
        if "url" not in fields:
            raise NotifyError(
                f"{where}: channel {name!r} has no url",
                hint=f"set it in the rules file or in TRUCKFLOW_NOTIFY__CHANNELS ({name!r} key)",
            )
        try:
            specs[name] = ChannelSpec.model_validate(fields)
        except ValidationError as exc:
            raise NotifyError(_validation_message(f"{where}: channel {name!r}", exc)) from None
    return specs


def _routes(raw: Sequence[Any], channels: Mapping[str, ChannelSpec], where: str) -> list[Route]:
    routes: list[Route] = []
    for i, entry in enumerate(raw):
        try:
            route = Route.model_validate(entry)
        except ValidationError as exc:
            raise NotifyError(_validation_message(f"{where}: route {i + 1}", exc)) from None
        missing = [name for name in route.channels if name not in channels]
        if missing:
            raise NotifyError(
                f"{where}: route {i + 1} names unknown channel(s) {', '.join(missing)}",
                hint=f"known channels: {', '.join(sorted(channels))}",
            )
        routes.append(route)
    return routes


def load_config(settings: Settings) -> NotifyConfig:
    """The routing rules in force: rules file, then settings, over the built-in defaults."""
    path = _rules_file(settings)
    data = _read_rules(path) if path else {}
    where = str(path) if path else "settings"
    raw_channels = data.get("channels", {}) or {}
    if not isinstance(raw_channels, dict):
        raise NotifyError(f"{where}: 'channels' must be a table of name = url or table")
    channels = _channel_specs(raw_channels, settings.notify.channels, where)
    if settings.notify.routes is not None:
        raw_routes, where = settings.notify.routes, "TRUCKFLOW_NOTIFY__ROUTES"
    else:
        raw_routes = data.get("routes", _DEFAULT_ROUTES)
    if not isinstance(raw_routes, list):
        raise NotifyError(f"{where}: 'routes' must be a list of rules")
    routes = _routes(raw_routes, channels, where)
    source = ", ".join(
        part
        for part in (
            str(path) if path else "",
            "TRUCKFLOW_NOTIFY__CHANNELS" if settings.notify.channels else "",
            "TRUCKFLOW_NOTIFY__ROUTES" if settings.notify.routes is not None else "",
        )
        if part
    )
    return NotifyConfig(channels=channels, routes=routes, source=source or "built-in defaults")
