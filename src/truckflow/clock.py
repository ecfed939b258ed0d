"""The one clock: naive UTC, as every table stores its times.

Databases differ in how they keep a time zone (SQLite keeps none, MySQL's DATETIME ignores it),
so truckflow stores naive datetimes that mean UTC. ``utcnow`` is that "now";
``naive_utc`` brings an aware datetime to the same form.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["naive_utc", "utcnow"]


def utcnow(*, seconds: bool = False) -> datetime:
    """Now, naive UTC; ``seconds=True`` drops the microseconds (for columns that every engine
    must store and compare alike, MySQL's DATETIME keeping none by default)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=0) if seconds else now


def naive_utc(moment: datetime) -> datetime:
    """An aware datetime as naive UTC; a naive one is taken to be UTC already."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
