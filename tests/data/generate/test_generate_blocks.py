"""Route weather is made and written a block of routes at a time: the blocks never show.

The generator's memory follows its block sizes, not the scale; the world it writes must be the
same bytes whatever the sizes, as if every grid had been made whole and written at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from truckflow.data.generate import FILES, MANIFEST, DirtRates, generate_world, tables, weather
from truckflow.data.generate.calendar import Calendar
from truckflow.data.generate.entities import make_cities, make_routes
from truckflow.data.generate.scenarios import resolve_scenario


def _digests(folder: Path) -> dict[str, str]:
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in [*FILES, MANIFEST]}


def test_route_weather_blocks_are_the_whole_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    seed, cal, hours = 3, Calendar(), 24 * 20
    cities = make_cities(seed, 0.1)
    routes = make_routes(seed, cities)
    city = weather.city_weather(seed, cal, cities, hours, resolve_scenario("default"))
    whole = list(weather.route_weather(seed, city, routes, hours, block=len(routes)))
    monkeypatch.setattr(weather, "ROUTE_BLOCK", 5)  # the draws skipped in blocks of 5 too
    parts = list(weather.route_weather(seed, city, routes, hours, block=7))
    assert len(whole) == 1
    assert [first for first, _ in parts] == list(range(0, len(routes), 7))
    for f in fields(weather.Weather):
        joined = np.concatenate([getattr(w, f.name) for _, w in parts])
        assert np.array_equal(joined, getattr(whole[0][1], f.name)), f.name


def test_world_bytes_do_not_depend_on_the_block_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Impossible humidities drawn per 32 routes: tiny blocks of 5 routes straddle their edges.
    monkeypatch.setattr(tables, "DIRT_ROUTES", 32)
    rates = DirtRates(impossible_humidity=0.01)
    options = {"seed": 9, "scale": 0.05, "scenario": "default", "dirt": rates}
    whole = generate_world(tmp_path / "whole", **options)  # type: ignore[arg-type]
    monkeypatch.setattr(weather, "ROUTE_BLOCK", 5)
    blocks = generate_world(tmp_path / "blocks", **options)  # type: ignore[arg-type]
    assert whole.counts["routes"] > 2 * 32
    route = pd.read_csv(whole.out / "routes_weather.csv")
    assert (route["humidity"] > 100).sum() == pytest.approx(0.01 * len(route), abs=3)
    assert _digests(blocks.out) == _digests(whole.out)
