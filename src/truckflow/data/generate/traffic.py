"""Traffic: vehicles per hour and accidents, hourly per route, generated a block of routes at a time.

Volume follows the route's typical level, the hour of the day (a day peak at 14:00 about 2.6
times the night low, as in the course's file), the weekend, slow random swings, and bad weather
(fewer vehicles). Accidents are rare (about 5% of route-hours, as in the course) and more likely
with more vehicles and in bad weather. Scenarios scale volume and accident odds from a week on.

Routes come in fixed-size blocks with their own random streams, so the output never depends on
memory or on how the blocks are processed; a block's rows are written, and its trips' traffic
aggregates taken, before the next block is made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truckflow.data.generate.calendar import Calendar
from truckflow.data.generate.entities import Routes
from truckflow.data.generate.rng import ar1, stream
from truckflow.data.generate.scenarios import ScenarioSpec

__all__ = ["BLOCK_ROUTES", "TrafficBlock", "traffic_block"]

BLOCK_ROUTES = 512
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class TrafficBlock:
    first_route: int
    volume: F64  # (routes, hours), whole vehicles
    accident: NDArray[np.int8]  # (routes, hours), 0/1


def _hour_factors(cal: Calendar, hours: int) -> F64:
    t = np.arange(hours)
    daily = 1.0 + 0.445 * np.cos(2 * np.pi * ((t % 24) - 14) / 24)
    weekday = (cal.history_start.weekday() + t // 24) % 7
    return daily * np.where(weekday >= 5, 0.88, 1.0)


def traffic_block(
    seed: int,
    cal: Calendar,
    routes: Routes,
    block: int,
    hours: int,
    city_wet: F64,
    spec: ScenarioSpec,
) -> TrafficBlock:
    lo = block * BLOCK_ROUTES
    hi = min(lo + BLOCK_ROUTES, len(routes))
    rng = stream(seed, "traffic", block)
    wet = np.minimum(0.5 * (city_wet[routes.origin[lo:hi]] + city_wet[routes.dest[lo:hi]]), 2.0)
    swing = np.exp(0.12 * ar1(rng, (hi - lo, hours), 0.9))
    volume = routes.base_volume[lo:hi, None] * _hour_factors(cal, hours)[None, :] * swing
    volume *= 1.0 - 0.08 * wet
    odds = np.ones(hours)
    t = np.arange(hours)
    if spec.traffic_week is not None:
        after = t >= cal.week_start_hour(spec.traffic_week)
        volume *= np.where(after, spec.traffic_volume_factor, 1.0)[None, :]
        odds = np.where(after, spec.traffic_accident_factor, odds)
    if spec.covariate_week is not None:
        after = t >= cal.week_start_hour(spec.covariate_week)
        volume *= np.where(after, spec.covariate_volume_factor, 1.0)[None, :]
    volume = np.maximum(np.rint(volume), 100.0)
    p = 0.04 * (volume / 1300.0) ** 0.7 * (1.0 + 0.8 * wet) * odds[None, :]
    accident = (rng.random(volume.shape) < np.minimum(p, 0.6)).astype(np.int8)
    return TrafficBlock(first_route=lo, volume=volume, accident=accident)
