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

The edits are made on the written text, line by line as it is read (never a whole file in
memory), so every other byte of the files stays as the writer made it. They depend only on the seed and the historical files, which are the
same in every scenario: scenarios still share their history.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator
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


def _lines(path: Path) -> Iterator[str]:
    """The lines of a written file, header first, without their newlines, as they are read."""
    with path.open(encoding="utf-8", newline="") as fh:
        for line in fh:
            yield line.removesuffix("\n")


def _rows(path: Path) -> Iterator[str]:
    """The data lines of a written file (its header skipped)."""
    return itertools.islice(_lines(path), 1, None)


def _rewrite(path: Path, lines: Iterable[str]) -> None:
    """``path`` becomes ``lines``, each ended by a newline, written as they come."""
    tmp = path.with_name(path.name + ".quirk")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(line + "\n" for line in lines)
    tmp.replace(path)


def _move_early_trips(seed: int, out: Path, day: dt.date) -> int:
    """A share of the historical trips departing on ``day`` moves to the streaming schedule."""
    hist, streaming = out / "truck_schedule_table.csv", out / "streaming_schedule.csv"
    prefix = day.isoformat()
    on_day = [i for i, row in enumerate(_rows(hist)) if row.split(",", 3)[2].startswith(prefix)]
    if not on_day:
        return 0
    rng = stream(seed, "quirk-early-trips")
    k = max(1, round(EARLY_SHARE * len(on_day)))
    chosen = set(rng.choice(on_day, size=k, replace=False).tolist())
    moved: list[str] = []

    def kept() -> Iterator[str]:
        lines = _lines(hist)
        yield next(lines)
        for i, row in enumerate(lines):
            if i in chosen:
                moved.append(row)
            else:
                yield row

    _rewrite(hist, kept())
    lines = _lines(streaming)
    _rewrite(streaming, itertools.chain([next(lines)], moved, lines))
    return len(moved)


def _end_city_weather(out: Path, last: dt.date) -> None:
    """The streaming city weather stops after ``last``: later arrivals never get theirs."""
    path = out / "streaming_city_weather.csv"
    cutoff = last.isoformat()
    lines = _lines(path)
    header = next(lines)
    _rewrite(path, itertools.chain([header], (r for r in lines if r.split(",", 2)[1] <= cutoff)))


def _twins(rows: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    twins: set[str] = set()
    for row in rows:
        key = row.split(",", 3)[:3]
        joined = ",".join(key)
        if joined in seen:
            twins.add(key[0])
        seen.add(joined)
    return twins


def _remove_city_day(seed: int, out: Path, cal: Calendar) -> tuple[str | None, str | None, int]:
    """The historical weather of one (city, day) with a few departures is removed."""
    origin = {r.split(",")[0]: r.split(",")[1] for r in _rows(out / "routes_table.csv")}
    departures = Counter(
        (origin.get(parts[1], ""), parts[2][:10])
        for parts in (r.split(",", 3) for r in _rows(out / "truck_schedule_table.csv"))
    )
    path = out / "city_weather.csv"
    twins = _twins(_rows(path))
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
    lines = _lines(path)
    header = next(lines)
    kept = (r for r in lines if not (r.startswith(city + ",") and r.split(",", 2)[1] == day))
    _rewrite(path, itertools.chain([header], kept))
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
