"""One simulated day at a time: the lock a stream step or replay holds while it runs a day.

A second process asking for the same home's day waits (``streaming.lock_wait_s``) or is refused
with who holds the day and since when (``LockHeldError``, exit code 75), before it starts
anything: no pipeline execution, so no failure event.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager

from truckflow.store import Database
from truckflow.store.locks import LockHeldError, process_lock

__all__ = ["LockHeldError", "day_lock"]

_NAME = "stream-day"


def day_lock(db: Database, day: dt.date, *, wait_s: float = 0.0) -> AbstractContextManager[None]:
    """Hold the streaming day of ``db`` while working on ``day``."""
    return process_lock(db, _NAME, f"day {day.isoformat()}", wait_s=wait_s)
