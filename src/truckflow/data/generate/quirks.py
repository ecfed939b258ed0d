"""The full course files' quirks, applied to a written world (on by default, ``quirks=False`` off).

The course's complete files hold what a correct loop must survive (``DATA.md``, "Quirks of the
full real files"); the generated world reproduces them:

- streaming trips departing before the streaming boundary: a share of the trips departing
  ``EARLY_DAYS`` days before the stream start is published in the streaming schedule instead of
  the historical one (the course's 188 trips of 2019-02-12);
- streaming city weather that ends on the last departure day, while trips arrive for days after
  it: their destination weather never comes;
- a city with two conflicting hourly weather series (made by the weather writer:
  ``write_city_weather(..., at_least=1)``);
- a few historical trips whose origin city has no weather that day (one city-day of the
  historical city weather removed).

The edits are made on the written text, line by line, so every other byte of the files stays
as the writer made it. They depend only on the seed and the historical files, which are the
same in every scenario: scenarios still share their history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truckflow.data.generate.calendar import Calendar
from truckflow.data.generate.rng import stream

__all__ = ["EARLY_DAYS", "EARLY_SHARE", "QuirkReport", "apply_quirks"]

EARLY_DAYS = 3  # the course's early streaming trips depart three days before the boundary
EARLY_SHARE = 0.25  # about the course's 188 streaming of 805 trips departing that day


@dataclass(frozen=True)
class QuirkReport:
    """What the quirks changed: to be read in the manifest and checked by the tests."""

    early_trips: int
    early_day: str
    city_weather_ends: str
    weatherless_city: str | None
    weatherless_day: str | None
    weatherless_departures: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "early_trips": self.early_trips,
            "early_day": self.early_day,
            "streaming_city_weather_ends": self.city_weather_ends,
            "weatherless_city": self.weatherless_city,
            "weatherless_day": self.weatherless_day,
            "weatherless_departures": self.weatherless_departures,
        }


def _lines(path: Path) -> tuple[str, list[str]]:
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    return header, rows


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def _move_early_trips(seed: int, out: Path, day: dt.date) -> int:
    """A share of the historical trips departing on ``day`` moves to the streaming schedule."""
    hist_header, hist = _lines(out / "truck_schedule_table.csv")
    stream_header, streaming = _lines(out / "streaming_schedule.csv")
    prefix = day.isoformat()
    on_day = [i for i, row in enumerate(hist) if row.split(",", 3)[2].startswith(prefix)]
    if not on_day:
        return 0
    rng = stream(seed, "quirk-early-trips")
    k = max(1, round(EARLY_SHARE * len(on_day)))
    chosen = set(rng.choice(on_day, size=k, replace=False).tolist())
    moved = [row for i, row in enumerate(hist) if i in chosen]
    _write(
        out / "truck_schedule_table.csv",
        hist_header,
        [r for i, r in enumerate(hist) if i not in chosen],
    )
    _write(out / "streaming_schedule.csv", stream_header, [*moved, *streaming])
    return len(moved)


def _end_city_weather(out: Path, last: dt.date) -> None:
    """The streaming city weather stops after ``last``: later arrivals never get theirs."""
    header, rows = _lines(out / "streaming_city_weather.csv")
    cutoff = last.isoformat()
    _write(
        out / "streaming_city_weather.csv",
        header,
        [r for r in rows if r.split(",", 2)[1] <= cutoff],
    )


def _twins(rows: list[str]) -> set[str]:
    seen: set[tuple[str, str, str]] = set()
    twins: set[str] = set()
    for row in rows:
        city, date, hour = row.split(",", 3)[:3]
        if (city, date, hour) in seen:
            twins.add(city)
        seen.add((city, date, hour))
    return twins


def _remove_city_day(seed: int, out: Path, cal: Calendar) -> tuple[str | None, str | None, int]:
    """The historical weather of one (city, day) with a few departures is removed."""
    _, routes = _lines(out / "routes_table.csv")
    origin = {r.split(",")[0]: r.split(",")[1] for r in routes}
    _, hist = _lines(out / "truck_schedule_table.csv")
    departures = Counter(
        (origin.get(parts[1], ""), parts[2][:10]) for parts in (r.split(",", 3) for r in hist)
    )
    header, weather = _lines(out / "city_weather.csv")
    twins = _twins(weather)
    # Away from the ends of the history, so the trips are in the first model's training part.
    first = (cal.history_start + dt.timedelta(days=7)).isoformat()
    last = (cal.stream_start - dt.timedelta(days=14)).isoformat()
    candidates = sorted(
        (n, city, day)
        for (city, day), n in departures.items()
        if city and city not in twins and first <= day <= last
    )
    if not candidates:
        return None, None, 0
    fewest = [c for c in candidates if c[0] == candidates[0][0]]
    n, city, day = fewest[int(stream(seed, "quirk-weatherless").integers(0, len(fewest)))]
    kept = [r for r in weather if not (r.startswith(city + ",") and r.split(",", 2)[1] == day)]
    _write(out / "city_weather.csv", header, kept)
    return city, day, n


def apply_quirks(seed: int, out: Path, cal: Calendar) -> QuirkReport:
    """Apply the quirks to the world written in ``out`` (before its manifest is written)."""
    early_day = cal.stream_start - dt.timedelta(days=EARLY_DAYS)
    moved = _move_early_trips(seed, out, early_day)
    _end_city_weather(out, cal.stream_end)
    city, day, n = _remove_city_day(seed, out, cal)
    return QuirkReport(
        early_trips=moved,
        early_day=early_day.isoformat(),
        city_weather_ends=cal.stream_end.isoformat(),
        weatherless_city=city,
        weatherless_day=day,
        weatherless_departures=n,
    )
