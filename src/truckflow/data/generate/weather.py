"""Weather: hourly per city, 6-hourly per route, with day-level weather spells.

Each city has a climate (mean temperature, day-night swing) and slow random anomalies (an AR(1)
process with a memory of a few days) for temperature, wind, humidity, pressure, cloud and wetness.
On top come spells: a storm front hits a region of cities for a day or two, raising wetness
(hence precipitation, lower visibility, snow or rain descriptions), wind and humidity, and
cooling the air. Exactly one regular spell starts in every 7-day block aligned on the streaming
weeks, so every week, historical or streaming, holds the same share of stormy hours: the
stationary scenario really is stationary week by week, and some days still reach the course's
delay rates of 0.7-0.8. Scenarios add a storm or move the climate from a week on.

Route weather is the mean of its two end cities' weather at the slot, plus a little route noise,
so that a storm along a route shows in the route's slots as it does in the cities.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.random import Generator
from numpy.typing import NDArray

from truckflow.data.generate.calendar import SLOT_HOURS, Calendar
from truckflow.data.generate.descriptions import (
    LEVEL_FOG,
    LEVEL_HEAVY,
    LEVEL_LIGHT,
    LEVEL_MODERATE,
    describe,
)
from truckflow.data.generate.entities import Cities, Routes
from truckflow.data.generate.rng import ar1, ar1_noise, stream
from truckflow.data.generate.scenarios import ScenarioSpec

__all__ = [
    "ROUTE_BLOCK",
    "Spell",
    "Weather",
    "city_weather",
    "route_blocks",
    "route_weather",
    "spells_for",
]

F64 = NDArray[np.float64]
_Draw = Callable[[Generator, int], object]  # makes a draw's numbers for so many rows

ROUTE_BLOCK = 1024  # routes of route weather made at a time


SPELL_DAY_IN_WEEK = 4  # the regular spell's day in each 7-day block (0-based; 4 = 2019-01-01)
SPELL_COVERAGE = 0.6  # share of cities it hits
SPELL_INTENSITY = 1.4
SPELL_LEAD_HOURS = 10  # it starts this long before the departure hour of its day
SPELL_HOURS = 30  # so it ends 4 h before the next day's departures
_RAMP_HOURS = 6.0


@dataclass(frozen=True)
class Spell:
    start_hour: int
    hours: int
    cities: tuple[int, ...]  # the cities it hits
    intensity: float


@dataclass(frozen=True)
class Weather:
    """Weather on a grid (cities x hours, or routes x 6-hour slots), as the files hold it."""

    temp: F64  # whole degrees F
    wind: F64  # whole mph
    humidity: F64  # whole percent
    pressure: F64  # whole millibar
    visibility: F64  # whole 0..6
    precip: F64  # inches, one decimal
    description: NDArray[np.int16]
    level: NDArray[np.int8]  # 0 dry, 1 fog, 2 light, 3 moderate, 4 heavy precipitation


@dataclass(frozen=True)
class _Raw:
    temp: F64
    wind: F64
    humidity: F64
    pressure: F64
    cloud: F64
    wet: F64  # latent wetness, >= 0; spells add to it


def _hit(rng: np.random.Generator, n_cities: int, share: float) -> tuple[int, ...]:
    # A random set rather than a region: the files carry no coordinates, and a random set
    # hits a steady share of the trips whatever the centre of the traffic.
    k = max(1, round(share * n_cities))
    return tuple(int(c) for c in rng.choice(n_cities, size=k, replace=False))


def spells_for(
    seed: int, cal: Calendar, n_cities: int, hours: int, spec: ScenarioSpec
) -> list[Spell]:
    """One regular spell per 7-day block aligned on the streaming weeks, plus a scenario storm.

    The regular spell always covers the departure morning of the block's fourth day, and only
    that one, over a fixed share of the cities around a random centre: every week then holds the
    same share of stormy trips, so weekly feature distributions match the history's (no drift
    in the stationary scenario) while single days still reach high delay rates.
    """
    stream_day = cal.day_index(cal.stream_start)
    first_block = -(-stream_day // 7)
    out: list[Spell] = []
    for block in range(-first_block, hours // 24 // 7 + 1):
        spell_day = stream_day + 7 * block + SPELL_DAY_IN_WEEK
        rng = stream(seed, "spell", block + 10_000)
        # Same timing and strength every week (only the cities hit differ), so that every week
        # holds the same stormy share: full strength from the night before the day's departures
        # to the evening, gone by the next day's departures.
        out.append(
            Spell(
                start_hour=spell_day * 24 + cal.departure_hour - SPELL_LEAD_HOURS,
                hours=SPELL_HOURS,
                cities=_hit(rng, n_cities, SPELL_COVERAGE),
                intensity=SPELL_INTENSITY,
            )
        )
    if spec.storm_week is not None:
        rng = stream(seed, "storm")
        out.append(
            Spell(
                start_hour=cal.week_start_hour(spec.storm_week) + 30,
                hours=spec.storm_hours,
                cities=_hit(rng, n_cities, spec.storm_coverage),
                intensity=spec.storm_intensity,
            )
        )
    return out


def _spell_field(spells: list[Spell], cities: Cities, hours: int) -> F64:
    n = len(cities.ids)
    field = np.zeros((n, hours))
    t = np.arange(hours)
    for spell in spells:
        rise = np.clip((t - spell.start_hour) / _RAMP_HOURS, 0, 1)
        fall = np.clip((spell.start_hour + spell.hours - t) / _RAMP_HOURS, 0, 1)
        envelope = np.minimum(rise, fall)
        if not envelope.any():
            continue
        hit = np.asarray(spell.cities, dtype=np.int64)
        strength = np.zeros(n)
        strength[hit] = spell.intensity * np.linspace(1.0, 0.8, len(hit))
        field += strength[:, None] * envelope[None, :]
    return field


def _raw_city(seed: int, cal: Calendar, cities: Cities, hours: int, spec: ScenarioSpec) -> _Raw:
    rng = stream(seed, "city-weather")
    n = len(cities.ids)
    a = {
        k: ar1(rng, (n, hours), phi)
        for k, phi in (
            ("temp", 0.92),
            ("wind", 0.85),
            ("hum", 0.85),
            ("pres", 0.92),
            ("cloud", 0.9),
            ("wet", 0.9),
        )
    }
    hod = np.arange(hours) % 24
    diurnal = np.cos(2 * np.pi * (hod - 15) / 24)[None, :] * cities.temp_amp[:, None]
    wet = np.maximum(0.0, 0.6 * a["wet"] - 0.5) + _spell_field(
        spells_for(seed, cal, n, hours, spec), cities, hours
    )
    capped = np.minimum(wet, 2.0)
    temp = cities.base_temp[:, None] + diurnal + 4.5 * a["temp"] - 4.0 * capped
    humidity = (
        cities.base_humidity[:, None] + 5 * a["hum"] + 20 * np.minimum(wet, 1.0) - 0.9 * diurnal
    )
    if spec.covariate_week is not None:
        after = np.arange(hours) >= cal.week_start_hour(spec.covariate_week)
        temp = temp + spec.covariate_temp_shift * after
        humidity = humidity + spec.covariate_humidity_shift * after
    return _Raw(
        temp=temp,
        wind=np.maximum(
            0.0,
            cities.base_wind[:, None]
            + 0.25 * diurnal
            + 1.5 * a["wind"]
            + 3.5 * np.minimum(wet, 2.5),
        ),
        humidity=humidity,
        pressure=cities.base_pressure[:, None] + 3 * a["pres"] - 7 * capped,
        cloud=a["cloud"] + 1.5 * wet,
        wet=wet,
    )


def _observe(raw: _Raw, hour_of_day: NDArray[np.int64], coins: Sequence[Generator]) -> Weather:
    """What a weather service reports, from the raw state.

    ``coins`` are the generators of its three draws (fog visibility, precipitation noise,
    description variant), each of the raw state's shape: one generator three times draws them
    in turn; route weather passes each block of routes the three streams where its rows start.
    """
    fog_coin, precip_noise, variant_coin = coins
    temp = np.rint(raw.temp)
    wind = np.rint(raw.wind)
    humidity = np.rint(raw.humidity).clip(3, 100)
    wet = raw.wet
    fog = (wet < 0.25) & (humidity >= 96) & (wind <= 6)
    level = np.where(
        wet >= 1.2,
        LEVEL_HEAVY,
        np.where(wet >= 0.7, LEVEL_MODERATE, np.where(wet >= 0.25, LEVEL_LIGHT, 0)),
    )
    level = np.where(fog, LEVEL_FOG, level).astype(np.int8)
    visibility = 6 - np.rint(3.6 * (wet - 0.3)).clip(0, 6)
    visibility = np.where(fog, 1 + (fog_coin.random(wet.shape) < 0.5), visibility)
    noise = precip_noise.standard_normal(wet.shape)
    precip = np.round((0.12 * (wet - 0.5) + 0.03 * noise).clip(0, 0.8), 1)
    daytime = np.broadcast_to((hour_of_day >= 7) & (hour_of_day < 18), wet.shape)
    return Weather(
        temp=temp,
        wind=wind,
        humidity=humidity,
        pressure=np.rint(raw.pressure).clip(950, 1080),
        visibility=visibility,
        precip=precip + 0.0,  # no negative zeros
        description=describe(level, raw.temp, raw.cloud, daytime, variant_coin.random(wet.shape)),
        level=level,
    )


@dataclass(frozen=True)
class CityWeather:
    observed: Weather
    wet: F64  # latent wetness per city and hour, for traffic accidents
    raw: _Raw


def city_weather(
    seed: int, cal: Calendar, cities: Cities, hours: int, spec: ScenarioSpec
) -> CityWeather:
    raw = _raw_city(seed, cal, cities, hours, spec)
    rng = stream(seed, "city-observe")
    observed = _observe(raw, np.arange(hours) % 24, (rng, rng, rng))
    return CityWeather(observed=observed, wet=raw.wet, raw=raw)


def _starts(rng: Generator, draws: Sequence[_Draw], rows: int) -> list[Generator]:
    """Copies of ``rng`` where each of ``draws`` starts when they are made in turn over ``rows``.

    ``draw(g, k)`` makes a draw's numbers for k rows. Each draw but the last is made (and
    dropped) a block of rows at a time: a stream's numbers do not depend on how a draw is cut,
    so the copies are where one whole-grid draw after another would have started.
    """
    out: list[Generator] = []
    for i, draw in enumerate(draws):
        out.append(copy.deepcopy(rng))
        if i < len(draws) - 1:
            for lo in range(0, rows, ROUTE_BLOCK):
                draw(rng, min(ROUTE_BLOCK, rows - lo))
    return out


def _route_block(
    raw: _Raw, routes: Routes, slots: NDArray[np.int64], span: tuple[int, int],
    mixing: Sequence[Generator], observing: Sequence[Generator],
) -> Weather:  # fmt: skip
    """The route weather of the routes ``span``, the generators at those routes' first rows."""
    lo, hi = span
    origin, dest = routes.origin[lo:hi], routes.dest[lo:hi]
    shape = (hi - lo, len(slots))

    def mix(field: F64, rng: Generator, noise_sd: float, phi: float = 0.7) -> F64:
        both = 0.5 * (field[origin][:, slots] + field[dest][:, slots])
        return both + noise_sd * ar1(rng, shape, phi)

    temp, wind, humidity, pressure, cloud, wet = mixing
    mixed = _Raw(
        temp=mix(raw.temp, temp, 2.0),
        wind=np.maximum(0.0, mix(raw.wind, wind, 1.5)),
        humidity=mix(raw.humidity, humidity, 4.0),
        pressure=mix(raw.pressure, pressure, 1.5),
        cloud=mix(raw.cloud, cloud, 0.4),
        wet=np.maximum(0.0, mix(raw.wet, wet, 0.12)),
    )
    return _observe(mixed, slots % 24, observing)


def route_blocks(n_routes: int) -> int:
    """How many blocks ``route_weather`` makes by default."""
    return -(-n_routes // ROUTE_BLOCK)


def route_weather(
    seed: int, city: CityWeather, routes: Routes, hours: int, block: int | None = None
) -> Iterator[tuple[int, Weather]]:
    """6-hourly route weather, the mean of the end cities plus route noise, ``block`` routes at
    a time: (first route, its routes x slots weather), in route order.

    The numbers are those of the whole grid made at once, whatever ``block``: each field's
    noise, and each draw of the observation, comes from the stream position where a whole-grid
    draw reaches the block's first route; memory follows the block, not the number of routes.
    ``block`` defaults to ``ROUTE_BLOCK``.
    """
    block = block or ROUTE_BLOCK
    slots = np.arange(0, hours, SLOT_HOURS)
    n, width = len(routes), len(slots)

    def noise(g: Generator, k: int) -> object:
        return ar1_noise(g, (k, width))

    def coin(g: Generator, k: int) -> object:
        return g.random((k, width))

    def normal(g: Generator, k: int) -> object:
        return g.standard_normal((k, width))

    mixing = _starts(stream(seed, "route-weather"), [noise] * 6, n)
    observing = _starts(stream(seed, "route-observe"), [coin, normal, coin], n)
    for lo in range(0, n, block):
        span = (lo, min(lo + block, n))
        yield lo, _route_block(city.raw, routes, slots, span, mixing, observing)
