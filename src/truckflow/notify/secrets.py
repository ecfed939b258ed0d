"""Keeping channel secrets (SMTP passwords, webhook tokens) out of everything that is printed.

A channel URL is a secret as a whole. What may be shown of it is its scheme, user, host and port,
minus any part that apprise itself declares private (Slack and Discord put tokens where a host
would be). Error texts and third-party log records (apprise, urllib3) are scrubbed of every
fragment of every configured URL that could be a secret.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

__all__ = ["MASK", "ScrubFilter", "install_log_scrubber", "redact_url", "scrub", "secret_parts"]

MASK = "***"
# Fragments shorter than this are not scrubbed from free text: doing so would garble messages.
_MIN_FRAGMENT = 4
_SECRET_QUERY_KEYS = ("token", "key", "secret", "pass", "pwd", "auth", "sig", "webhook", "apikey")
_THIRD_PARTY_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3", "requests")


def _apprise_private_values(url: str) -> list[str]:
    """Values apprise marks private for this URL's plugin (tokens, passwords, keys)."""
    # Apprise logs the URL it loads (debug level): make sure the scrubber knows it first.
    install_log_scrubber(_generic_parts(url))
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if plugin is None:
            return []
        parsed = type(plugin).parse_url(url) or {}
    except Exception:  # apprise could not parse it: the generic rules below still apply
        return []
    out: list[str] = []
    specs = {**getattr(plugin, "template_tokens", {}), **getattr(plugin, "template_args", {})}
    for key, spec in specs.items():
        if not isinstance(spec, dict) or not spec.get("private"):
            continue
        value = parsed.get(spec.get("map_to", key), parsed.get(key))
        if isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, list | tuple):
            out.extend(v for v in value if isinstance(v, str) and v)
    return out


def secret_parts(url: str) -> list[str]:
    """Every fragment of ``url`` that must never be printed, longest first."""
    parts = set(_generic_parts(url))
    parts.update(_apprise_private_values(url))
    return _with_variants(parts, urlsplit(url).password)


def _generic_parts(url: str) -> list[str]:
    """The fragments any URL may hide secrets in, whatever its scheme."""
    parts = {url}
    split = urlsplit(url)
    if split.password:
        parts.add(split.password)
        parts.add(f"{split.username}:{split.password}")
    # Paths and query strings of webhook URLs routinely carry tokens; they are all suspect.
    parts.update(seg for seg in split.path.split("/") if seg)
    if split.path.strip("/"):
        parts.add(split.path)
    for pair in split.query.split("&"):
        key, _, value = pair.partition("=")
        if value and any(word in key.lower() for word in _SECRET_QUERY_KEYS):
            parts.add(value)
    if split.query:
        parts.add(split.query)
    if split.netloc:
        parts.add(split.netloc + split.path)
    return _with_variants(parts, split.password)


def _with_variants(parts: set[str], password: str | None) -> list[str]:
    variants: set[str] = set()
    for part in parts:
        variants.update({part, unquote(part), quote(part, safe=""), quote(unquote(part), safe="")})
    keep = {p for p in variants if len(p) >= _MIN_FRAGMENT or p == password}
    keep.discard("")
    return sorted(keep, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of every secret fragment replaced by ``***``."""
    pattern = _pattern(frozenset(p for p in secrets if p))
    return text if pattern is None else pattern.sub(MASK, text)


@functools.lru_cache(maxsize=64)
def _pattern(parts: frozenset[str]) -> re.Pattern[str] | None:
    if not parts:
        return None
    ordered = sorted(parts, key=len, reverse=True)  # longest first: no half-masked fragments
    # Case-insensitive: a library that lower-cases a host must not leak a token that stood there.
    return re.compile("|".join(re.escape(p) for p in ordered), re.IGNORECASE)


def redact_url(url: str) -> str:
    """What may be shown of a channel URL: ``scheme://user:***@host:port/***?***``."""
    split = urlsplit(url)
    if not split.scheme:
        return MASK
    host = split.netloc.rpartition("@")[2]  # keeps case: a token may stand where a host would
    user = ""
    if split.username:
        user = f"{split.username}:{MASK}@" if split.password else f"{split.username}@"
    shown = f"{split.scheme}://{user}{host}"
    if split.path.strip("/"):
        shown += f"/{MASK}"
    if split.query:
        shown += f"?{MASK}"
    # Some plugins (Slack, Discord, Teams) keep tokens where the host would be.
    private = [p for p in _apprise_private_values(url) if p != split.username]
    return scrub(shown, [*private, *([split.password] if split.password else [])])


class ScrubFilter(logging.Filter):
    """Rewrites log records of chatty libraries so that no known secret fragment gets through."""

    def __init__(self) -> None:
        super().__init__("truckflow-notify-scrub")
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets = self._secrets | {s for s in secrets if s}

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix; let logging report it
            return True
        cleaned = scrub(message, secrets)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = ScrubFilter()
_installed = False
_install_lock = threading.Lock()


def install_log_scrubber(secrets: Iterable[str]) -> ScrubFilter:
    """Register secrets and make sure the library loggers that may echo URLs are filtered."""
    global _installed
    _FILTER.add(secrets)
    with _install_lock:
        if not _installed:
            for name in _THIRD_PARTY_LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
            _installed = True
    return _FILTER
