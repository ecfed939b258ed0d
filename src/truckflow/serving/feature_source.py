"""The serving API's ``FeatureSource`` over the feature code's online path and the database.

A trip is named by truck, route and departure. Its estimated arrival comes from the schedule
when the trip is scheduled, else from the route's average hours (as the course computes it).
Unknown trucks and routes answer 404; trips whose forecasts are not in yet answer 409.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from truckflow.features.definition import KEY_COLUMNS
from truckflow.features.loading import features_for_schedule
from truckflow.serving.errors import UnknownEntityError
from truckflow.serving.model import Trip
from truckflow.store import Database
from truckflow.store import schema as s

__all__ = ["DatabaseFeatureSource"]


class DatabaseFeatureSource:
    """Features of requested trips, built from the operational database by ``truckflow.features``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _schedule(self, trips: Sequence[Trip]) -> pd.DataFrame:
        truck_ids = sorted({t.truck_id for t in trips})
        route_ids = sorted({t.route_id for t in trips})
        with self._db.engine.connect() as conn:
            trucks = set(
                conn.execute(
                    sa.select(s.trucks.c.truck_id).where(s.trucks.c.truck_id.in_(truck_ids))
                ).scalars()
            )
            hours = dict(
                conn.execute(
                    sa.select(s.routes.c.route_id, s.routes.c.average_hours).where(
                        s.routes.c.route_id.in_(route_ids)
                    )
                ).all()
            )
            key = sa.tuple_(s.truck_schedule.c.truck_id, s.truck_schedule.c.departure_date)
            scheduled = {
                (int(r.truck_id), pd.Timestamp(r.departure_date), r.route_id): r.estimated_arrival
                for r in conn.execute(
                    sa.select(s.truck_schedule).where(
                        key.in_([(t.truck_id, t.departure) for t in trips])
                    )
                )
            }
        for trip in trips:
            if trip.truck_id not in trucks:
                raise UnknownEntityError("truck", trip.truck_id)
            if trip.route_id not in hours:
                raise UnknownEntityError("route", trip.route_id)
        rows = []
        for trip in trips:
            departure = pd.Timestamp(trip.departure)
            arrival = scheduled.get((trip.truck_id, departure, trip.route_id))
            if arrival is None:
                arrival = departure + pd.Timedelta(hours=float(hours[trip.route_id]))
            rows.append((trip.truck_id, trip.route_id, departure, pd.Timestamp(arrival)))
        return pd.DataFrame(
            rows, columns=["truck_id", "route_id", "departure_date", "estimated_arrival"]
        ).drop_duplicates(["truck_id", "departure_date"])

    def features_for_trips(self, trips: Sequence[Trip]) -> tuple[pd.DataFrame, Sequence[int]]:
        result = features_for_schedule(self._db, self._schedule(trips))
        found = result.features.set_index(list(KEY_COLUMNS), drop=False)
        keys = [(t.truck_id, pd.Timestamp(t.departure)) for t in trips]
        present = [i for i, k in enumerate(keys) if k in found.index]
        missing = [i for i, k in enumerate(keys) if k not in found.index]
        frame = found.loc[[keys[i] for i in present]].reset_index(drop=True)
        return frame, missing
