"""The online feature read: the serving API's ``FeatureSource`` over the feature store and the
feature code's one-trip path.

A trip is named by truck, route and departure. A trip whose features are stored (the daily
pipeline or ``truckflow features fill`` computed them) is answered from its stored row, one
indexed read; any other trip is computed on demand by the same feature code. For those, the
estimated arrival comes from the schedule when the trip is scheduled, else from the route's
average hours (as the course computes it). A few trips are computed one by one by the feature
code's one-trip path (``truckflow.features.one_trip``: indexed reads, no DataFrame; equal to the
batch compute value for value), many by the batch compute. Unknown trucks and routes raise
``UnknownTripEntityError`` (the API's 404); trips whose forecasts are not in yet are returned as
positions not built (the API answers 409; the one-trip path reports them incomplete).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.features.definition import FEATURE_COLUMNS, FEATURE_SET_VERSION, KEY_COLUMNS
from truckflow.features.loading import features_for_schedule
from truckflow.features.one_trip import one_trip, read_entities
from truckflow.features.prepared import Prepared
from truckflow.features.rows import frame_rows
from truckflow.features.stored import StoredFeatures
from truckflow.features.trip import Trip, UnknownTripEntityError
from truckflow.store import Database
from truckflow.store import tables as s

__all__ = ["DatabaseFeatureSource"]

# Up to this many trips not stored are computed one by one (a few indexed reads each, no
# DataFrame); more go through the batch compute, whose reads cover them all at once.
_ONE_BY_ONE = 16
_FEATURES = frozenset(FEATURE_COLUMNS)
# Built once: building a statement (and its cache key) cost more than running it.
_SCHEDULED = Prepared(
    sa.select(s.truck_schedule.c.route_id, s.truck_schedule.c.estimated_arrival).where(
        s.truck_schedule.c.truck_id == sa.bindparam("truck"),
        s.truck_schedule.c.departure_date == sa.bindparam("departure"),
    )
)


class DatabaseFeatureSource:
    """Features of requested trips: stored rows first, else built by ``truckflow.features``.

    ``stored_hits`` and ``computed`` count the trips each path answered (tests and operators
    can tell which path served).
    """

    def __init__(self, db: Database, *, version: str = FEATURE_SET_VERSION) -> None:
        self._db = db
        self._stored = StoredFeatures(version)
        self.stored_hits = 0
        self.computed = 0

    @property
    def local(self) -> bool:
        """Whether the database is a local file (SQLite), where a key probe costs less than
        handing the request to a worker thread."""
        return self._db.engine.dialect.name == "sqlite"

    def stored_rows(
        self,
        trips: Sequence[Trip],
        names: Sequence[str],
        lacking: dict[int, list[str]] | None = None,
    ) -> dict[int, list[object]]:
        """The stored model rows of the trips that have one, by position (one indexed read);
        ``lacking`` gets the input groups each was stored without."""
        if not self._stored.usable(names):
            return {}
        with self._db.engine.connect() as conn:
            found = self._stored.rows(conn, trips, names, lacking)
        self.stored_hits += len(found)
        return found

    def feature_rows(
        self,
        trips: Sequence[Trip],
        names: Sequence[str],
        model_version: str,
        stored: dict[int, list[object]] | None = None,
        lacking: dict[int, list[str]] | None = None,
    ) -> tuple[np.ndarray, Sequence[int]]:
        """Model rows for the trips (``names`` order); positions of trips not computable yet.

        ``stored`` is what ``stored_rows`` already found, when the caller looked first;
        ``lacking`` gets the input groups of stored rows kept without them (computed rows are
        complete: a trip that cannot be is among the positions returned).
        """
        found = self.stored_rows(trips, names, lacking) if stored is None else stored
        rest = [i for i in range(len(trips)) if i not in found]
        if rest and len(rest) <= _ONE_BY_ONE and set(names) <= _FEATURES:
            return self._one_by_one(trips, names, found, rest)
        if not found:
            frame, missing = self.features_for_trips(trips)
            self.computed += len(trips) - len(missing)
            return frame_rows(frame, names, model_version), missing
        numeric = self._stored.numeric(names)
        rows = np.empty((len(trips), len(names)), dtype=np.float64 if numeric else object)
        for i, values in found.items():
            rows[i] = [np.nan if v is None else v for v in values] if numeric else values
        if len(found) == len(trips):
            return rows, []
        frame, missing = self.features_for_trips([trips[i] for i in rest])
        self.computed += len(rest) - len(missing)
        skipped = set(missing)
        computed = frame_rows(frame, names, model_version)
        for k, i in enumerate(i for j, i in enumerate(rest) if j not in skipped):
            rows[i] = computed[k]
        return rows, [rest[j] for j in missing]

    def _one_by_one(
        self,
        trips: Sequence[Trip],
        names: Sequence[str],
        found: dict[int, list[object]],
        rest: list[int],
    ) -> tuple[np.ndarray, Sequence[int]]:
        """A few trips not stored: each computed by the one-trip path (no DataFrame)."""
        rows = np.empty((len(trips), len(names)), dtype=object)
        for i, values in found.items():
            rows[i] = values
        missing: list[int] = []
        with self._db.engine.connect() as conn:
            known = {i: read_entities(conn, trips[i].truck_id, trips[i].route_id) for i in rest}
            for kind in ("truck", "route"):  # as _schedule: unknown trucks first
                for i in rest:
                    if getattr(known[i], kind) is None:
                        trip = trips[i]
                        raise UnknownTripEntityError(kind, getattr(trip, f"{kind}_id"))
            for i in rest:
                trip = trips[i]
                arrival = self._scheduled_arrival(conn, trip)
                computed = one_trip(conn, trip.truck_id, trip.departure, known[i], arrival)
                if computed.complete:
                    rows[i] = computed.row(names)
                else:  # the API answers 409 for it (see the module docstring)
                    missing.append(i)
        self.computed += len(rest) - len(missing)
        return rows, missing

    @staticmethod
    def _scheduled_arrival(conn: sa.Connection, trip: Trip) -> dt.datetime | None:
        row = _SCHEDULED.first(conn, {"truck": trip.truck_id, "departure": trip.departure})
        if row is None or row.route_id != trip.route_id:
            return None
        arrival: dt.datetime = row.estimated_arrival
        return arrival

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
                raise UnknownTripEntityError("truck", trip.truck_id)
            if trip.route_id not in hours:
                raise UnknownTripEntityError("route", trip.route_id)
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
        """The on-demand path: every trip computed from the source tables."""
        features = features_for_schedule(self._db, self._schedule(trips)).features
        truck_ids, departures = (features[c].tolist() for c in KEY_COLUMNS)
        where = {key: i for i, key in enumerate(zip(truck_ids, departures, strict=True))}
        at = [where.get((t.truck_id, pd.Timestamp(t.departure))) for t in trips]
        missing = [i for i, row in enumerate(at) if row is None]
        frame = features.iloc[[row for row in at if row is not None]].reset_index(drop=True)
        return frame, missing
