"""The streaming clock: the one persisted row that says which simulated day it is.

The course keeps this state in one row: current day, start of the current week, a day-in-week
counter (1..7), a "first day of a new week" flag and the rows processed per source. Every
method is one transaction; pass ``connection`` to make it part of the caller's transaction
(the daily pipeline advances the clock in the same transaction as the day's work, so a day
either happened completely or not at all).

``new_week`` is the drift trigger: it is set on the first day of every week except the very
first simulated day (no week has ended yet). Forecasts arrive on every first day of a week,
the very first included: ``ClockState.is_week_start``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from truckflow.store.database import Database
from truckflow.streaming.errors import StreamingError
from truckflow.streaming.tables import streaming_clock

__all__ = ["COURSE_FIRST_DAY", "DAYS_PER_WEEK", "ClockState", "StreamingClock"]

DAYS_PER_WEEK = 7
COURSE_FIRST_DAY = dt.date(2019, 2, 15)
_ROW_ID = 1


@dataclass(frozen=True)
class ClockState:
    """A snapshot of the clock. ``day_in_week`` is 0 and ``current_day`` None before ``start``."""

    current_day: dt.date | None
    week_start: dt.date | None
    day_in_week: int
    new_week: bool
    processed: dict[str, int] = field(default_factory=dict)
    updated_at: dt.datetime | None = None

    @property
    def started(self) -> bool:
        return self.current_day is not None

    @property
    def is_week_start(self) -> bool:
        """The first day of a week (forecasts for the next seven days arrive)."""
        return self.day_in_week == 1

    @property
    def previous_week(self) -> tuple[dt.date, dt.date] | None:
        """The seven days that just ended (the drift check's current window) on a new week."""
        if not self.new_week or self.week_start is None:
            return None
        return (
            self.week_start - dt.timedelta(days=DAYS_PER_WEEK),
            self.week_start - dt.timedelta(days=1),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "current_day": None if self.current_day is None else self.current_day.isoformat(),
            "week_start": None if self.week_start is None else self.week_start.isoformat(),
            "day_in_week": self.day_in_week,
            "new_week": self.new_week,
            "is_week_start": self.is_week_start,
            "processed": dict(self.processed),
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
        }


_INITIAL: dict[str, Any] = {
    "current_day": None,
    "week_start": None,
    "day_in_week": 0,
    "new_week": False,
    "processed": {},
}


class StreamingClock:
    """Reads and moves the clock row of ``streaming_clock`` (created on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def _transaction(self, connection: sa.Connection | None) -> Iterator[sa.Connection]:
        if connection is not None:
            yield connection
        else:
            with self.db.begin() as conn:
                yield conn

    def _locked(self, conn: sa.Connection) -> ClockState:
        """The row, locked for the rest of the transaction (PostgreSQL/MySQL), created if absent."""
        query = streaming_clock.select().where(streaming_clock.c.id == _ROW_ID)
        row = conn.execute(query.with_for_update()).first()
        if row is None:
            conn.execute(streaming_clock.insert(), [{"id": _ROW_ID, **_INITIAL}])
            row = conn.execute(query.with_for_update()).one()
        return _state(row)

    def _write(self, conn: sa.Connection, state: ClockState) -> ClockState:
        conn.execute(
            streaming_clock.update()
            .where(streaming_clock.c.id == _ROW_ID)
            .values(
                current_day=state.current_day,
                week_start=state.week_start,
                day_in_week=state.day_in_week,
                new_week=state.new_week,
                processed=dict(state.processed),
                updated_at=sa.func.now(),
            )
        )
        return _state(
            conn.execute(streaming_clock.select().where(streaming_clock.c.id == _ROW_ID)).one()
        )

    def status(self, connection: sa.Connection | None = None) -> ClockState:
        with self._transaction(connection) as conn:
            row = conn.execute(
                streaming_clock.select().where(streaming_clock.c.id == _ROW_ID)
            ).first()
        return ClockState(**_INITIAL) if row is None else _state(row)

    def start(
        self, first_day: dt.date = COURSE_FIRST_DAY, connection: sa.Connection | None = None
    ) -> ClockState:
        """Put the clock on day 1 of week 1 at ``first_day``; refused once it is running."""
        with self._transaction(connection) as conn:
            state = self._locked(conn)
            if state.started:
                raise StreamingError(
                    f"the streaming clock is already running (day {state.current_day}); "
                    "reset it first to start again"
                )
            return self._write(conn, ClockState(first_day, first_day, 1, False, {}))

    def advance(self, connection: sa.Connection | None = None) -> ClockState:
        """Move one simulated day on; every seventh day starts a new week and sets ``new_week``."""
        with self._transaction(connection) as conn:
            state = self._locked(conn)
            if state.current_day is None or state.week_start is None:
                raise StreamingError("the streaming clock has not been started")
            day = state.current_day + dt.timedelta(days=1)
            day_in_week = state.day_in_week % DAYS_PER_WEEK + 1
            new_week = day_in_week == 1
            week_start = day if new_week else state.week_start
            return self._write(
                conn, ClockState(day, week_start, day_in_week, new_week, state.processed)
            )

    def reset(self, connection: sa.Connection | None = None) -> ClockState:
        """Back to the state before ``start``: no day, counters cleared."""
        with self._transaction(connection) as conn:
            self._locked(conn)
            return self._write(conn, ClockState(**_INITIAL))

    def record_processed(
        self, source: str, count: int, connection: sa.Connection | None = None
    ) -> ClockState:
        """Add ``count`` rows to the running total of ``source``."""
        if count < 0:
            raise StreamingError(f"processed count for {source!r} must be >= 0, got {count}")
        with self._transaction(connection) as conn:
            state = self._locked(conn)
            processed = dict(state.processed)
            processed[source] = processed.get(source, 0) + int(count)
            return self._write(
                conn,
                ClockState(
                    state.current_day,
                    state.week_start,
                    state.day_in_week,
                    state.new_week,
                    processed,
                ),
            )


def _state(row: sa.Row[Any]) -> ClockState:
    processed = row.processed or {}
    return ClockState(
        current_day=row.current_day,
        week_start=row.week_start,
        day_in_week=int(row.day_in_week),
        new_week=bool(row.new_week),
        processed={str(k): int(v) for k, v in processed.items()},
        updated_at=row.updated_at,
    )
