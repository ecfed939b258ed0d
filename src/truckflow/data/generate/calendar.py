"""The generated world's calendar: historical and streaming periods, and the time grids.

Time inside the generator is counted in whole hours from ``history_start`` at midnight. Hourly
tables (city weather, traffic) and the 6-hourly route weather are arrays over that grid; the
writer turns indices back into the course's text formats.

The course's layout, which the defaults reproduce: historical departures every day from
2019-01-01 up to the day before the streaming start (2019-02-15); historical hourly data through
the streaming start day (46 days, the course's 1,104 hours per city and route), route weather
through the streaming start at 00:00 (the course's 181 six-hour slots); streaming departures
2019-02-15 .. 2019-02-28; streaming weather and traffic follow on through the last arrival.

The course's own streaming departures stop on 2019-02-27; the default here runs through
2019-02-28 so that both streaming weeks are whole: the weekly drift check then compares a full
week with the history, as it does for every later week (``stream_end`` sets it back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from truckflow.data.generate.errors import GenerateError

__all__ = ["SLOT_HOURS", "Calendar"]

SLOT_HOURS = 6  # route weather is 6-hourly: 00, 06, 12, 18


@dataclass(frozen=True)
class Calendar:
    """Dates of the generated world (all inclusive)."""

    history_start: date = date(2019, 1, 1)
    stream_start: date = date(2019, 2, 15)  # first streaming departure day
    stream_end: date = date(2019, 2, 28)  # last streaming departure day
    departure_hour: int = 7

    def __post_init__(self) -> None:
        if not self.history_start < self.stream_start <= self.stream_end:
            raise GenerateError(
                "calendar: need history_start < stream_start <= stream_end, got "
                f"{self.history_start} / {self.stream_start} / {self.stream_end}"
            )
        if not 0 <= self.departure_hour <= 23:
            raise GenerateError(f"calendar: departure_hour {self.departure_hour} is not 0..23")

    @property
    def history_days(self) -> int:
        """Number of historical departure days."""
        return (self.stream_start - self.history_start).days

    @property
    def departure_days(self) -> int:
        """Number of departure days, historical and streaming."""
        return (self.stream_end - self.history_start).days + 1

    @property
    def history_hours(self) -> int:
        """Hourly rows per city or route in the historical files (through the stream start day)."""
        return (self.history_days + 1) * 24

    @property
    def history_slots(self) -> int:
        """6-hourly route-weather slots in the historical file (through stream start 00:00)."""
        return self.history_days * (24 // SLOT_HOURS) + 1

    @property
    def streaming_weeks(self) -> int:
        return -(-((self.stream_end - self.stream_start).days + 1) // 7)

    def week_start(self, week: int) -> date:
        """First day of streaming week ``week`` (1-based: week 1 starts on ``stream_start``)."""
        if week < 1:
            raise GenerateError(f"calendar: streaming weeks count from 1, got {week}")
        return self.stream_start + timedelta(days=7 * (week - 1))

    def day_index(self, day: date) -> int:
        return (day - self.history_start).days

    def week_start_hour(self, week: int) -> int:
        return self.day_index(self.week_start(week)) * 24

    def at_hour(self, hour: int) -> datetime:
        start = datetime(self.history_start.year, self.history_start.month, self.history_start.day)
        return start + timedelta(hours=hour)

    def to_dict(self) -> dict[str, Any]:
        return {
            "history_start": self.history_start.isoformat(),
            "stream_start": self.stream_start.isoformat(),
            "stream_end": self.stream_end.isoformat(),
            "departure_hour": self.departure_hour,
            "streaming_week_starts": [
                self.week_start(w).isoformat() for w in range(1, self.streaming_weeks + 1)
            ],
        }
