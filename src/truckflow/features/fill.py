"""Filling the feature store incrementally, updating labels, and reading a window back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.features.compute import WAITING_COLUMNS, canonical_dtypes, compute_features
from truckflow.features.definition import (
    EVENT_TIME,
    FEATURE_COLUMNS,
    FEATURE_SET_NAME,
    FEATURE_SET_VERSION,
    KEY_COLUMNS,
    LABEL,
    TRIP_COLUMNS,
    definition_hash,
)
from truckflow.features.inputs import FeatureError
from truckflow.features.loading import load_inputs
from truckflow.features.sqlread import column_kinds, insert_rows
from truckflow.features.tables import feature_sets, trip_features
from truckflow.store import Database
from truckflow.store import tables as s

__all__ = [
    "MISSING",
    "FillResult",
    "date_partitions",
    "fill_features",
    "load_features",
    "register_feature_set",
    "store_features",
    "update_labels",
]

_ROW_COLUMNS = (*KEY_COLUMNS, *TRIP_COLUMNS, *FEATURE_COLUMNS, LABEL)
_KINDS = column_kinds(trip_features)


# Which input groups a stored row lacks (comma-separated), NULL when it is complete.
MISSING = "missing_inputs"


@dataclass(frozen=True)
class FillResult:
    """What one fill did: trips computed and stored, trips still waiting (and why).

    ``partial`` rows were stored incomplete (their deadline passed; what is missing is blank
    and named), ``completed`` rows stored incomplete before now have everything.
    """

    computed: int
    waiting: pd.DataFrame
    labels_updated: int
    partial: int = 0
    completed: int = 0

    def to_dict(self) -> dict[str, object]:
        """As JSON (``truckflow features fill --json``): the waiting trips by their number."""
        return {
            "computed": self.computed,
            "waiting": len(self.waiting),
            "labels_updated": self.labels_updated,
            "partial": self.partial,
            "completed": self.completed,
        }


def register_feature_set(db: Database, version: str = FEATURE_SET_VERSION) -> str:
    """Record the feature set's definition; refuse a version whose definition has changed."""
    digest = definition_hash()
    with db.begin() as conn:
        known = conn.execute(
            sa.select(feature_sets.c.definition_hash).where(
                feature_sets.c.name == FEATURE_SET_NAME, feature_sets.c.version == version
            )
        ).scalar_one_or_none()
        if known is None:
            conn.execute(
                feature_sets.insert().values(
                    name=FEATURE_SET_NAME,
                    version=version,
                    primary_key=",".join(KEY_COLUMNS),
                    event_time_column=EVENT_TIME,
                    definition_hash=digest,
                    columns=list(FEATURE_COLUMNS),
                    created_at=utcnow(seconds=True),
                )
            )
        elif known != digest:
            raise FeatureError(
                f"feature set {FEATURE_SET_NAME} version {version} was registered with "
                f"definition {known}, the code now defines {digest}",
                hint="bump FEATURE_SET_VERSION when a feature's definition changes",
            )
    return digest


def _pending(
    db: Database, start: dt.datetime, end: dt.datetime, version: str
) -> list[tuple[int, dt.datetime, bool]]:
    """Trips in the window without a stored row, or with an incomplete one (True)."""
    sched, feat = s.truck_schedule, trip_features
    joined = sched.outerjoin(
        feat,
        sa.and_(
            feat.c.truck_id == sched.c.truck_id,
            feat.c.departure_date == sched.c.departure_date,
            feat.c.version == version,
        ),
    )
    query = (
        sa.select(sched.c.truck_id, sched.c.departure_date, feat.c.truck_id.is_not(None))
        .select_from(joined)
        .where(
            sched.c.departure_date >= start,
            sched.c.departure_date < end,
            sa.or_(feat.c.truck_id.is_(None), feat.c[MISSING].is_not(None)),
        )
    )
    with db.engine.connect() as conn:
        return [(int(t), d, bool(stored)) for t, d, stored in conn.execute(query)]


def _rows(frame: pd.DataFrame, version: str, now: dt.datetime) -> pd.DataFrame:
    out = frame[list(_ROW_COLUMNS)].assign(version=version, computed_at=now)
    named = frame[MISSING].tolist() if MISSING in frame.columns else [None] * len(out)
    flags = pd.Series([m if isinstance(m, str) else None for m in named], index=out.index)
    out = out.assign(**{MISSING: flags.astype(object)})
    return out.assign(label_updated_at=pd.Series(now, index=out.index).where(out[LABEL].notna()))


def date_partitions(
    start: dt.datetime, end: dt.datetime, days: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[start, end)`` cut into consecutive windows of ``days`` days (the last may be shorter)."""
    if days < 1:
        raise FeatureError(f"partition length must be at least one day, got {days}")
    bounds, day = [], pd.Timestamp(start)
    while day < pd.Timestamp(end):
        stop = min(day + pd.Timedelta(days=days), pd.Timestamp(end))
        bounds.append((day.to_pydatetime(), stop.to_pydatetime()))
        day = stop
    return bounds


def _only(frame: pd.DataFrame, keys: list[tuple[int, dt.datetime, bool]]) -> pd.DataFrame:
    wanted = pd.MultiIndex.from_tuples([(t, pd.Timestamp(d)) for t, d, _ in keys])
    have = pd.MultiIndex.from_arrays([frame["truck_id"], frame["departure_date"]])
    return frame[have.isin(wanted)]


def store_features(db: Database, frame: pd.DataFrame, *, version: str = FEATURE_SET_VERSION) -> int:
    """Insert computed feature rows (as ``compute_features`` returns them) in one transaction.

    For callers that compute partitions elsewhere (a Dask worker) and store them here; a row
    already stored for the same trip and version is a conflict, as the key says.
    """
    if frame.empty:
        return 0
    try:
        with db.begin() as conn:
            insert_rows(
                conn, trip_features.name, _rows(frame, version, utcnow(seconds=True)), _KINDS
            )
    except sa.exc.SQLAlchemyError as exc:
        raise FeatureError(f"writing {len(frame)} rows to trip_features failed: {exc}") from exc
    return len(frame)


def fill_features(
    db: Database,
    start: dt.datetime,
    end: dt.datetime,
    *,
    version: str = FEATURE_SET_VERSION,
    partition_days: int = 7,
    deadline: dt.datetime | None = None,
) -> FillResult:
    """Compute and store the trips departing in ``[start, end)`` not stored yet, by partitions.

    Trips still waiting for data are reported and left out; a later fill computes them. With a
    ``deadline``, the incomplete trips departing before it wait no more: they are stored with
    what is missing left blank and named (``missing_inputs``), and a later fill completes them
    when the data arrives. Labels of stored trips whose ground truth has arrived since are
    brought up to date.
    """
    register_feature_set(db, version)
    computed, partial, completed, waiting = 0, 0, 0, []
    for d0, d1 in date_partitions(start, end, partition_days):
        pending = _pending(db, d0, d1, version)
        if not pending:
            continue
        trips = [(t, d) for t, d, _ in pending]
        result = compute_features(load_inputs(db, d0, d1, trips=trips), partial=True)
        stored = {(t, pd.Timestamp(d)) for t, d, known in pending if known}
        rows, late = _with_missing(_only(result.features, pending), result.waiting, deadline)
        keys = [
            (int(t), pd.Timestamp(d))
            for t, d in zip(rows["truck_id"], rows["departure_date"], strict=True)
        ]
        _replace(db, rows, [k for k in keys if k in stored], version)
        fresh = rows[MISSING].isna().to_numpy()
        was = np.array([k in stored for k in keys], dtype=bool)
        computed += int((~was).sum())
        partial += int((~fresh & ~was).sum())
        completed += int((fresh & was).sum())
        waiting.append(_only(late, pending))
    labels = update_labels(db, version=version)
    empty = pd.DataFrame(columns=list(WAITING_COLUMNS))
    waited = pd.concat([empty, *waiting], ignore_index=True)
    return FillResult(computed - partial, waited, labels, partial, completed)


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
        insert_rows(conn, tf.name, _rows(rows, version, utcnow(seconds=True)), _KINDS)


def update_labels(
    db: Database, labels: pd.DataFrame | None = None, *, version: str = FEATURE_SET_VERSION
) -> int:
    """Set the label of stored trips in place; returns how many rows changed.

    ``labels`` has columns truck_id, departure_date, delay; when None, the labels come from the
    schedule table, for the stored trips that have none yet.
    """
    if labels is None:
        sched, feat = s.truck_schedule, trip_features
        query = (
            sa.select(sched.c.truck_id, sched.c.departure_date, sched.c.delay)
            .join(
                feat,
                sa.and_(
                    feat.c.truck_id == sched.c.truck_id,
                    feat.c.departure_date == sched.c.departure_date,
                ),
            )
            .where(feat.c.version == version, feat.c.delay.is_(None), sched.c.delay.is_not(None))
        )
        with db.engine.connect() as conn:
            pairs = [(int(t), d, int(y)) for t, d, y in conn.execute(query)]
    else:
        missing = {"truck_id", "departure_date", LABEL} - set(labels.columns)
        if missing:
            raise FeatureError(f"labels lack column(s) {', '.join(sorted(missing))}")
        pairs = [
            (int(t), pd.Timestamp(d).to_pydatetime(), int(y))
            for t, d, y in labels[["truck_id", "departure_date", LABEL]].itertuples(index=False)
        ]
    if not pairs:
        return 0
    stmt = (
        trip_features.update()
        .where(
            trip_features.c.truck_id == sa.bindparam("k_truck"),
            trip_features.c.departure_date == sa.bindparam("k_departure"),
            trip_features.c.version == version,
        )
        .values(delay=sa.bindparam("k_delay"), label_updated_at=utcnow(seconds=True))
    )
    params = [{"k_truck": t, "k_departure": d, "k_delay": y} for t, d, y in pairs]
    with db.begin() as conn:
        result = conn.execute(stmt, params)
    return int(result.rowcount)


def load_features(
    db: Database,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    *,
    version: str = FEATURE_SET_VERSION,
    by: str = EVENT_TIME,
    labelled_only: bool = False,
    with_missing: bool = False,
) -> pd.DataFrame:
    """Stored feature rows of ``version`` whose ``by`` time (departure or arrival) is in the
    window; ``with_missing`` adds the ``missing_inputs`` column (None: complete)."""
    if by not in (EVENT_TIME, "estimated_arrival"):
        raise FeatureError(f"cannot window feature rows by {by!r}")
    column = trip_features.c[by]
    names = (*_ROW_COLUMNS, MISSING) if with_missing else _ROW_COLUMNS
    query = sa.select(*(trip_features.c[c] for c in names)).where(
        trip_features.c.version == version
    )
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    if labelled_only:
        query = query.where(trip_features.c.delay.is_not(None))
    with db.engine.connect() as conn:
        result = conn.execute(
            query.order_by(trip_features.c.departure_date, trip_features.c.truck_id)
        )
        columns = list(result.keys())
        frame = pd.DataFrame([tuple(row) for row in result.fetchall()], columns=columns)
    typed = _typed(frame)
    if with_missing:
        typed[MISSING] = frame[MISSING].to_numpy(dtype=object)
    return typed


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The dtypes compute gives, whatever the database driver returned."""
    return canonical_dtypes(frame)
