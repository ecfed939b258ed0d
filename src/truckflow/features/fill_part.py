"""One partition of the feature fill: the trips of a departure window (and a block of routes)
not stored yet, read, computed and written by one task (see ``fill.fill_features``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.features.compute import compute_features
from truckflow.features.definition import FEATURE_COLUMNS, KEY_COLUMNS, LABEL, TRIP_COLUMNS
from truckflow.features.loading import load_inputs
from truckflow.features.sqlread import column_kinds, insert_rows
from truckflow.features.tables import trip_features
from truckflow.store import Database
from truckflow.store import tables as s

__all__ = [
    "KINDS",
    "MISSING",
    "ROW_COLUMNS",
    "Departures",
    "FillPart",
    "PartFilled",
    "departure_span",
    "fill_part",
    "route_blocks",
    "rows_to_store",
]

ROW_COLUMNS = (*KEY_COLUMNS, *TRIP_COLUMNS, *FEATURE_COLUMNS, LABEL)
KINDS = column_kinds(trip_features)

# Which input groups a stored row lacks (comma-separated), NULL when it is complete.
MISSING = "missing_inputs"


@dataclass(frozen=True)
class FillPart:
    """The trips departing in ``[start, end)`` (on ``routes`` only, unless None) to fill."""

    db: Database
    start: dt.datetime
    end: dt.datetime
    version: str
    deadline: dt.datetime | None = None
    routes: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        block = "" if self.routes is None else f", {len(self.routes)} routes from {self.routes[0]}"
        return f"fill {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}{block}"


@dataclass(frozen=True)
class PartFilled:
    """What one partition did (summed by the fill into its ``FillResult``)."""

    computed: int
    partial: int
    completed: int
    waiting: pd.DataFrame | None  # None when the partition had nothing pending


def route_blocks(
    db: Database, start: dt.datetime, end: dt.datetime, n: int
) -> list[tuple[str, ...]]:
    """The routes with trips departing in ``[start, end)``, sorted, cut into ``n`` blocks."""
    sched = s.truck_schedule
    query = (
        sa.select(sched.c.route_id)
        .where(sched.c.departure_date >= start, sched.c.departure_date < end)
        .distinct()
    )
    with db.engine.connect() as conn:
        routes = sorted(str(r) for (r,) in conn.execute(query))
    return [tuple(b.tolist()) for b in np.array_split(np.array(routes, dtype=object), n) if len(b)]


@dataclass(frozen=True)
class Departures:
    """The trips departing in a window: the first and last departure and how many."""

    first: dt.datetime
    last: dt.datetime
    trips: int


def departure_span(db: Database, start: dt.datetime, end: dt.datetime) -> Departures | None:
    """The departures in ``[start, end)``; None when no trip departs in it."""
    sched = s.truck_schedule
    column = sched.c.departure_date
    query = sa.select(sa.func.min(column), sa.func.max(column), sa.func.count())
    query = query.where(column >= start, column < end)
    with db.engine.connect() as conn:
        first, last, trips = conn.execute(query).one()
    if first is None or last is None:
        return None
    return Departures(
        pd.Timestamp(first).to_pydatetime(), pd.Timestamp(last).to_pydatetime(), int(trips)
    )


def fill_part(part: FillPart) -> PartFilled:
    """Compute and store the partition's trips without a stored row, or with an incomplete one
    (replaced); the trips still waiting are returned, not stored."""
    db, version = part.db, part.version
    pending = _pending(db, part)
    if not pending:
        return PartFilled(0, 0, 0, None)
    trips = [(t, d) for t, d, _ in pending]
    inputs = load_inputs(db, part.start, part.end, trips=trips, routes=part.routes)
    result = compute_features(inputs, partial=True)
    del inputs
    stored = {(t, pd.Timestamp(d)) for t, d, known in pending if known}
    rows, late = _with_missing(_only(result.features, pending), result.waiting, part.deadline)
    keys = [
        (int(t), pd.Timestamp(d))
        for t, d in zip(rows["truck_id"], rows["departure_date"], strict=True)
    ]
    _replace(db, rows, [k for k in keys if k in stored], version)
    fresh = rows[MISSING].isna().to_numpy()
    was = np.array([k in stored for k in keys], dtype=bool)
    return PartFilled(
        int((~was).sum()),
        int((~fresh & ~was).sum()),
        int((fresh & was).sum()),
        _only(late, pending),
    )


def _pending(db: Database, part: FillPart) -> list[tuple[int, dt.datetime, bool]]:
    """Trips in the window without a stored row, or with an incomplete one (True)."""
    sched, feat = s.truck_schedule, trip_features
    joined = sched.outerjoin(
        feat,
        sa.and_(
            feat.c.truck_id == sched.c.truck_id,
            feat.c.departure_date == sched.c.departure_date,
            feat.c.version == part.version,
        ),
    )
    query = (
        sa.select(sched.c.truck_id, sched.c.departure_date, feat.c.truck_id.is_not(None))
        .select_from(joined)
        .where(
            sched.c.departure_date >= part.start,
            sched.c.departure_date < part.end,
            sa.or_(feat.c.truck_id.is_(None), feat.c[MISSING].is_not(None)),
        )
    )
    if part.routes is not None:
        query = query.where(sched.c.route_id.in_(part.routes))
    with db.engine.connect() as conn:
        return [(int(t), d, bool(stored)) for t, d, stored in conn.execute(query)]


def rows_to_store(frame: pd.DataFrame, version: str, now: dt.datetime) -> pd.DataFrame:
    out = frame[list(ROW_COLUMNS)].assign(version=version, computed_at=now)
    named = frame[MISSING].tolist() if MISSING in frame.columns else [None] * len(out)
    flags = pd.Series([m if isinstance(m, str) else None for m in named], index=out.index)
    out = out.assign(**{MISSING: flags.astype(object)})
    return out.assign(label_updated_at=pd.Series(now, index=out.index).where(out[LABEL].notna()))


def _only(frame: pd.DataFrame, keys: list[tuple[int, dt.datetime, bool]]) -> pd.DataFrame:
    wanted = pd.MultiIndex.from_tuples([(t, pd.Timestamp(d)) for t, d, _ in keys])
    have = pd.MultiIndex.from_arrays([frame["truck_id"], frame["departure_date"]])
    return frame[have.isin(wanted)]


def _with_missing(
    features: pd.DataFrame, waiting: pd.DataFrame, deadline: dt.datetime | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows to store, each with its missing groups; incomplete trips still waiting)."""
    keys = pd.MultiIndex.from_arrays([features["truck_id"], features["departure_date"]])
    lacking = pd.MultiIndex.from_arrays([waiting["truck_id"], waiting["departure_date"]])
    groups = pd.Series(waiting["missing_groups"].to_numpy(), index=lacking)
    missing = groups.reindex(keys).to_numpy(dtype=object)
    incomplete = pd.notna(missing)
    due = np.zeros(len(features), dtype=bool)
    if deadline is not None:
        due = (features["departure_date"] < pd.Timestamp(deadline)).to_numpy()
    keep = ~incomplete | due
    named = np.full(len(features), None, dtype=object)
    named[incomplete] = missing[incomplete]
    rows = features.assign(**{MISSING: named})[keep]
    late_keys = keys[incomplete & ~due]
    return rows.reset_index(drop=True), waiting[lacking.isin(late_keys)].reset_index(drop=True)


def _replace(
    db: Database, rows: pd.DataFrame, known: list[tuple[int, pd.Timestamp]], version: str
) -> None:
    """Store ``rows``; the incomplete rows stored before for the same trips are replaced."""
    if rows.empty:
        return
    tf = trip_features
    with db.begin() as conn:
        if known:
            conn.execute(
                tf.delete().where(
                    tf.c.truck_id == sa.bindparam("k_truck"),
                    tf.c.departure_date == sa.bindparam("k_departure"),
                    tf.c.version == version,
                ),
                [{"k_truck": t, "k_departure": d.to_pydatetime()} for t, d in known],
            )
        insert_rows(conn, tf.name, rows_to_store(rows, version, utcnow(seconds=True)), KINDS)
