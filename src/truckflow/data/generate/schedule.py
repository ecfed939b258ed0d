"""Trips: which truck leaves on which route, day by day.

Every trip departs at the calendar's departure hour (07:00) and is expected after the route's
average_hours. A truck leaves again only once back and rested; on a day it is free, it leaves
with a fixed probability, so the number of departures per day is steady from the first day
(the trucks start as if they had been on the road before). Routes are drawn with a preference
for short ones, as the course's trips show: most stay within a region, a few cross to the other.

The simulation loops over days (about 60), each step vectorised over the whole fleet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truckflow.data.generate.calendar import Calendar
from truckflow.data.generate.entities import Fleet, Routes
from truckflow.data.generate.rng import stream

__all__ = ["DEPART_P", "ROUTE_SCALE_MILES", "Trips", "simulate_trips"]

I64 = NDArray[np.int64]

DEPART_P = 0.30  # chance that a free truck leaves on a given day
ROUTE_SCALE_MILES = 1200.0  # route preference: weight exp(-distance / this)
LONG_HAUL_SHARE = 0.04  # share of trips drawn uniformly over all routes instead


@dataclass(frozen=True)
class Trips:
    truck: I64  # index into the fleet
    route: I64  # index into the routes
    day: I64  # departure day index
    depart_s: I64  # seconds from history start
    arrive_s: I64  # estimated arrival, seconds from history start

    def __len__(self) -> int:
        return len(self.truck)

    def historical(self, cal: Calendar) -> NDArray[np.bool_]:
        return self.day < cal.history_days

    def take(self, mask: NDArray[np.bool_]) -> Trips:
        return Trips(
            *(a[mask] for a in (self.truck, self.route, self.day, self.depart_s, self.arrive_s))
        )


def route_weights(routes: Routes) -> NDArray[np.float64]:
    near = np.exp(-routes.distance / ROUTE_SCALE_MILES)
    weights: NDArray[np.float64] = (1 - LONG_HAUL_SHARE) * near / near.sum()
    weights = weights + LONG_HAUL_SHARE / len(routes)
    normed: NDArray[np.float64] = weights / weights.sum()
    return normed


def simulate_trips(seed: int, cal: Calendar, fleet: Fleet, routes: Routes) -> Trips:
    n = len(fleet)
    weights = route_weights(routes)
    cdf = np.cumsum(weights)
    # Free since or from a random hour around the start, as if coming back from earlier trips.
    free_at = stream(seed, "schedule-start").uniform(-90, 50, n) * 3600
    out: list[tuple[I64, I64, int]] = []
    for d in range(cal.departure_days):
        # Separate streams per day and per draw: a fleet change (more trucks) leaves the
        # draws of the days before it, and of the trucks that were there, as they were.
        depart = (d * 24 + cal.departure_hour) * 3600
        active = (fleet.active_from_day <= d) & (d < fleet.retire_day)
        wants = stream(seed, "schedule-leave", d).random(n) < DEPART_P
        leaving = np.flatnonzero(active & (free_at <= depart) & wants)
        u_route = stream(seed, "schedule-route", d).random(len(leaving))
        chosen = np.minimum(np.searchsorted(cdf, u_route * cdf[-1], side="right"), len(routes) - 1)
        arrive = depart + routes.hours_centi[chosen] * 36
        rest = stream(seed, "schedule-rest", d).uniform(10, 40, len(leaving)) * 3600
        free_at[leaving] = arrive + rest
        out.append((leaving.astype(np.int64), chosen.astype(np.int64), d))
    truck = np.concatenate([t for t, _, _ in out])
    route = np.concatenate([r for _, r, _ in out])
    day: I64 = np.concatenate([np.full(len(t), d, np.int64) for t, _, d in out])
    depart_s: I64 = (day * 24 + cal.departure_hour) * 3600
    return Trips(
        truck=truck,
        route=route,
        day=day,
        depart_s=depart_s,
        arrive_s=depart_s + routes.hours_centi[route] * 36,
    )
