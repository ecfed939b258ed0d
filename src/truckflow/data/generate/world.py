"""``generate_world``: make a synthetic world and write it in the course's file format.

Order of work: entities -> trips -> city weather (and its trip signals) -> route weather, then
traffic, a block of routes at a time (written as it is made, its trips' signals taken) -> delay
labels -> the other files -> ``world.json``. Memory follows the blocks, not the number of routes. Files are written as ``<name>.part`` and renamed only when all are
complete, so a failure never leaves a half-written course file.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truckflow import __version__
from truckflow.data.generate import tables
from truckflow.data.generate.calendar import SLOT_HOURS, Calendar
from truckflow.data.generate.dirt import DirtRates
from truckflow.data.generate.entities import (
    COURSE_FLEET,
    Cities,
    Fleet,
    Routes,
    make_cities,
    make_fleet,
    make_routes,
)
from truckflow.data.generate.errors import GenerateError
from truckflow.data.generate.labels import TripSignals, delay_labels
from truckflow.data.generate.quirks import QuirkReport, apply_quirks
from truckflow.data.generate.rng import stream
from truckflow.data.generate.scenarios import ScenarioSpec, resolve_scenario
from truckflow.data.generate.schedule import Trips, simulate_trips
from truckflow.data.generate.text import CsvSink
from truckflow.data.generate.traffic import BLOCK_ROUTES, traffic_block
from truckflow.data.generate.weather import (
    CityWeather,
    city_weather,
    route_blocks,
    route_weather,
)

__all__ = ["FILES", "MANIFEST", "GenerateReport", "Progress", "generate_world"]

MANIFEST = "world.json"
# File name -> header, in the order they are listed in reports.
FILES: dict[str, tuple[str, ...]] = {
    "trucks_table.csv": tables.TRUCKS,
    "drivers_table.csv": tables.DRIVERS,
    "routes_table.csv": tables.ROUTES,
    "city_weather.csv": tables.CITY_WEATHER,
    "routes_weather.csv": tables.ROUTE_WEATHER,
    "traffic_table.csv": tables.TRAFFIC,
    "truck_schedule_table.csv": tables.SCHEDULE,
    "streaming_schedule.csv": tables.SCHEDULE,
    "streaming_city_weather.csv": tables.CITY_WEATHER,
    "streaming_route_weather.csv": tables.ROUTE_WEATHER,
    "streaming_traffic.csv": tables.TRAFFIC,
}
MAX_SCALE = 50.0

# Called as progress(what, done, total) while the world is made.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class GenerateReport:
    """What was written, and how long it took."""

    out: Path
    seed: int
    scale: float
    scenario: ScenarioSpec
    calendar: Calendar
    rows: dict[str, int]
    bytes: dict[str, int]
    counts: dict[str, int]
    delay_rate: dict[str, float]
    quirks: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def manifest(self) -> dict[str, Any]:
        """The deterministic part: same seed and options, same document."""
        return {
            "generator": f"truckflow {__version__}",
            "seed": self.seed,
            "scale": self.scale,
            "scenario": self.scenario.to_dict(),
            "calendar": self.calendar.to_dict(),
            "counts": self.counts,
            "rows": self.rows,
            "delay_rate": self.delay_rate,
            "quirks": self.quirks,
        }

    def to_dict(self) -> dict[str, Any]:
        doc = self.manifest()
        doc.update(
            out=str(self.out),
            bytes=self.bytes,
            total_rows=self.total_rows,
            seconds={k: round(v, 3) for k, v in self.seconds.items()},
            total_seconds=round(self.total_seconds, 3),
        )
        return doc


class _Clock:
    def __init__(self, progress: Progress | None) -> None:
        self.seconds: dict[str, float] = {}
        self._progress = progress
        self.total = 1
        self._done = 0
        self._last = time.perf_counter()

    def lap(self, step: str, units: int = 1) -> None:
        now = time.perf_counter()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - self._last
        self._last = now
        self._done += units
        if self._progress is not None:
            self._progress(step, self._done, self.total)


def _check(seed: int, scale: float, delay_rate: float, out: Path) -> None:
    if seed < 0:
        raise GenerateError(f"seed must be >= 0, got {seed}")
    if not (math.isfinite(scale) and 0.0 < scale <= MAX_SCALE):
        raise GenerateError(f"scale must be in (0, {MAX_SCALE:g}], got {scale}")
    if not 0.05 <= delay_rate <= 0.95:
        raise GenerateError(f"delay_rate must be in 0.05..0.95, got {delay_rate}")
    if out.exists() and not out.is_dir():
        raise GenerateError(f"output {out} exists and is not a folder")


def _rates(cal: Calendar, trips: Trips, delay: np.ndarray) -> dict[str, float]:
    hist = trips.historical(cal)
    rates = {"historical": float(delay[hist].mean()), "streaming": float(delay[~hist].mean())}
    for week in range(1, cal.streaming_weeks + 1):
        first = cal.day_index(cal.week_start(week))
        mine = (trips.day >= first) & (trips.day < first + 7)
        if mine.any():
            rates[f"streaming_week_{week}"] = float(delay[mine].mean())
    return {k: round(v, 4) for k, v in rates.items()}


@dataclass(frozen=True)
class _World:
    cities: Cities
    routes: Routes
    fleet: Fleet
    trips: Trips
    city: CityWeather
    signals: TripSignals
    hours: int  # length of the time grid (every possible arrival)
    end: int  # hour after the last one written (the last arrival's day, whole)


def _build(seed: int, scale: float, cal: Calendar, spec: ScenarioSpec, clock: _Clock) -> _World:
    cities = make_cities(seed, scale)
    routes = make_routes(seed, cities)
    clock.total = 6 + _n_blocks(routes) + route_blocks(len(routes))
    fleet = _fleet(seed, scale, cal, spec)
    clock.lap("entities")
    trips = simulate_trips(seed, cal, fleet, routes)
    # The arrays span every possible arrival (the same for every scenario); the files stop
    # after the last actual arrival, with the 6-hour slot that follows it.
    longest = math.ceil((cal.departure_hour + routes.average_hours.max()) / 24)
    hours = (cal.departure_days + longest + 1) * 24
    last_day = int((trips.arrive_s.max() + SLOT_HOURS * 3600) // 86400)
    clock.lap("schedule")
    city = city_weather(seed, cal, cities, hours, spec)
    signals = TripSignals.from_weather(trips, routes, city.observed)
    clock.lap("weather")
    return _World(
        cities, routes, fleet, trips, city, signals, hours, min(hours, (last_day + 1) * 24)
    )


def _write_route_weather(
    w: _World, sinks: dict[str, CsvSink], seed: int, cal: Calendar, rates: DirtRates,
    vocab: tables.Vocab, clock: _Clock,
) -> None:  # fmt: skip
    """Route weather a block of routes at a time: written, and its trips' signal taken, in turn."""
    s, last = cal.history_slots, w.end // SLOT_HOURS
    n = len(w.routes)
    files = (
        tables.RouteWeatherRows(seed, sinks["routes_weather.csv"], vocab, (0, s), rates, n),
        tables.RouteWeatherRows(
            seed, sinks["streaming_route_weather.csv"], vocab, (s, last), rates, n
        ),
    )
    for first, weather in route_weather(seed, w.city, w.routes, w.hours):
        w.signals.add_route_weather(w.trips, first, weather)
        for rows in files:
            rows.write(first, weather)
        clock.lap("weather")


def _write_traffic(
    w: _World, sinks: dict[str, CsvSink], seed: int, cal: Calendar, spec: ScenarioSpec,
    rates: DirtRates, vocab: tables.Vocab, clock: _Clock,
) -> None:  # fmt: skip
    """Traffic a block of routes at a time: written, and its trips' signals taken, in turn."""
    spans = (
        ("traffic_table.csv", (0, cal.history_hours)),
        ("streaming_traffic.csv", (cal.history_hours, w.end)),
    )
    for block in range(_n_blocks(w.routes)):
        made = traffic_block(seed, cal, w.routes, block, w.hours, w.city.wet, spec)
        w.signals.add_traffic(w.trips, made)
        for part, (name, span) in enumerate(spans):
            sinks[name].write(tables.traffic_columns(seed, made, part, span, vocab, rates))
        clock.lap("traffic")


def _write_rest(
    w: _World, sinks: dict[str, CsvSink], seed: int, cal: Calendar, rates: DirtRates,
    vocab: tables.Vocab, delay: NDArray[np.int8], twins: int,
) -> None:  # fmt: skip
    sinks["trucks_table.csv"].write(tables.trucks_columns(seed, w.fleet, rates))
    sinks["drivers_table.csv"].write(tables.drivers_columns(seed, w.fleet, rates))
    sinks["routes_table.csv"].write(tables.routes_columns(w.cities, w.routes))
    hist = w.trips.historical(cal)
    for name, mask in (("truck_schedule_table.csv", hist), ("streaming_schedule.csv", ~hist)):
        columns = tables.schedule_columns(w.trips.take(mask), w.fleet, w.routes, vocab, delay[mask])
        sinks[name].write(columns)
    h = cal.history_hours
    for name, span in (("city_weather.csv", (0, h)), ("streaming_city_weather.csv", (h, w.end))):
        tables.write_city_weather(seed, sinks[name], w.city.observed, vocab, span, rates, twins)


def _data_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh) - 1


def _n_blocks(routes: Routes) -> int:
    return -(-len(routes) // BLOCK_ROUTES)


def _report(
    out: Path,
    seed: int,
    scale: float,
    spec: ScenarioSpec,
    cal: Calendar,
    w: _World,
    sinks: dict[str, CsvSink],
    delay: np.ndarray,
    quirk: QuirkReport | None,
) -> GenerateReport:
    """What was written: rows and bytes per file, entity and trip counts, delay rates."""
    hist = w.trips.historical(cal)
    moved = 0 if quirk is None else quirk.early_trips
    rows = {name: sink.rows for name, sink in sinks.items()}
    if quirk is not None:
        rows = {name: _data_rows(out / name) for name in sinks}
    return GenerateReport(
        out=out,
        seed=seed,
        scale=scale,
        scenario=spec,
        calendar=cal,
        rows=rows,
        bytes={name: (out / name).stat().st_size for name in sinks},
        counts={
            "cities": len(w.cities.ids),
            "routes": len(w.routes),
            "trucks": len(w.fleet),
            "drivers": len(w.fleet),
            "historical_trips": int(hist.sum()) - moved,
            "streaming_trips": int((~hist).sum()) + moved,
        },
        delay_rate=_rates(cal, w.trips, delay),
        quirks=None if quirk is None else quirk.to_dict(),
    )


def generate_world(
    out: Path,
    *,
    seed: int = 0,
    scale: float = 1.0,
    scenario: str | ScenarioSpec = "default",
    shift_week: int | None = None,
    calendar: Calendar | None = None,
    dirt: float | DirtRates = 1.0,
    delay_rate: float = 0.35,
    quirks: bool = True,
    progress: Progress | None = None,
) -> GenerateReport:
    """Write the course files of a synthetic world into ``out`` (created if missing).

    ``scale`` 1 is the course's size; ``scenario`` is a preset name or a spec, ``shift_week``
    moves its changes to that streaming week; ``dirt`` multiplies the course's dirt rates (or
    gives them); ``delay_rate`` is the historical share of delayed trips; ``quirks`` reproduces
    the full course files' quirks (``truckflow.data.generate.quirks``; False: none).
    """
    out = Path(out)
    cal = calendar or Calendar()
    _check(seed, scale, delay_rate, out)
    spec = resolve_scenario(scenario, start_week=shift_week, weeks=cal.streaming_weeks)
    rates = dirt if isinstance(dirt, DirtRates) else DirtRates().scaled(dirt)
    out.mkdir(parents=True, exist_ok=True)

    clock = _Clock(progress)
    w = _build(seed, scale, cal, spec, clock)
    vocab = tables.Vocab(cal, w.cities, w.routes, w.hours)
    sinks = {name: CsvSink(out / name, header) for name, header in FILES.items()}
    try:
        _write_route_weather(w, sinks, seed, cal, rates, vocab, clock)
        _write_traffic(w, sinks, seed, cal, spec, rates, vocab, clock)
        delay, _ = delay_labels(seed, cal, w.trips, w.signals, w.fleet, spec, delay_rate)
        clock.lap("labels")
        _write_rest(w, sinks, seed, cal, rates, vocab, delay, 1 if quirks else 0)
    except BaseException:
        for sink in sinks.values():
            sink.discard()
        raise
    for sink in sinks.values():
        sink.commit()
    quirk = apply_quirks(seed, out, cal) if quirks else None
    clock.lap("write")

    report = _report(out, seed, scale, spec, cal, w, sinks, delay, quirk)
    (out / MANIFEST).write_text(json.dumps(report.manifest(), indent=2, sort_keys=True) + "\n")
    clock.lap("manifest")
    return replace(report, seconds=clock.seconds)


def _fleet(seed: int, scale: float, cal: Calendar, spec: ScenarioSpec) -> Fleet:
    n = max(10, round(COURSE_FLEET * scale))
    if spec.fleet_week is None:
        return make_fleet(seed, n)
    start = cal.day_index(cal.week_start(spec.fleet_week))
    extra = max(1, round(spec.fleet_share * n))
    fleet = make_fleet(seed, n, extra=extra, extra_from_day=start)
    retired = stream(seed, "fleet-retire").choice(n, size=extra, replace=False)
    retire_day = fleet.retire_day.copy()
    retire_day[retired] = start
    return replace(fleet, retire_day=retire_day)
