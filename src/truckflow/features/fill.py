"""Filling the feature store incrementally, updating labels, and reading a window back."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.features.compute import WAITING_COLUMNS, canonical_dtypes
from truckflow.features.definition import (
    EVENT_TIME,
    FEATURE_COLUMNS,
    FEATURE_SET_NAME,
    FEATURE_SET_VERSION,
    KEY_COLUMNS,
    LABEL,
    definition_hash,
)
from truckflow.features.fill_part import (
    KINDS,
    MISSING,
    ROW_COLUMNS,
    FillPart,
    departure_span,
    fill_part,
    rows_to_store,
)
from truckflow.features.fill_part import route_blocks as _route_blocks
from truckflow.features.inputs import FeatureError
from truckflow.features.sqlread import SqlText, fetch_frame, insert_rows
from truckflow.features.tables import feature_sets, trip_features
from truckflow.pipeline import SERIAL, Partitions
from truckflow.store import Database
from truckflow.store import tables as s

__all__ = [
    "MAX_PARTITION_TRIPS",
    "MISSING",
    "FillResult",
    "date_partitions",
    "fill_features",
    "load_features",
    "register_feature_set",
    "store_features",
    "update_labels",
]


# Trips in one fill partition, about: what one task reads and holds at once (some 10 KB a
# trip). A week of the course's fleet is 2,000 trips, of ten times it 19,000: cut into four
# blocks of routes, the larger fleet's partitions hold at most 2.5 times the course's, and the
# fill's peak memory stays that of a partition (at 25,000, one block a week: scale 10 peaked
# 1.6 times scale 1).
MAX_PARTITION_TRIPS = 5_000


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
                conn, trip_features.name, rows_to_store(frame, version, utcnow(seconds=True)), KINDS
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
    route_blocks: int | None = None,
    partitions: Partitions = SERIAL,
    max_partition_trips: int = MAX_PARTITION_TRIPS,
) -> FillResult:
    """Compute and store the trips departing in ``[start, end)`` not stored yet, by partitions.

    Trips still waiting for data are reported and left out; a later fill computes them. With a
    ``deadline``, the incomplete trips departing before it wait no more: they are stored with
    what is missing left blank and named (``missing_inputs``), and a later fill completes them
    when the data arrives. Labels of stored trips whose ground truth has arrived since are
    brought up to date.

    The partitions (``partition_days`` of departures, times ``route_blocks`` blocks of routes)
    each read, compute and write their own trips: one after another by default, as separate
    tasks with ``partitions`` (a step's ``context.partitions``); the result is the same.
    Without ``route_blocks``, the routes are cut into as few blocks as give at least as many
    partitions as run at once (``partitions.width``; one block when serial) and hold about
    ``max_partition_trips`` trips at most (a task's memory follows its partition, so a larger
    fleet makes more partitions, not larger ones).
    """
    register_feature_set(db, version)
    # Windows without a departure are left out (a fill from 1900 has thousands of them).
    span = departure_span(db, start, end)
    windows = [
        (d0, d1)
        for d0, d1 in date_partitions(start, end, partition_days)
        if span is not None and d1 > span.first and d0 <= span.last
    ]
    if route_blocks is None and span is not None and windows:
        per_window = span.trips / len(windows)
        route_blocks = max(
            -(-partitions.width // len(windows)), math.ceil(per_window / max_partition_trips)
        )
    blocks: list[tuple[str, ...] | None] = [None]
    if route_blocks is not None and route_blocks > 1 and windows:
        blocks = list(_route_blocks(db, start, end, route_blocks)) or [None]
    parts = [FillPart(db, d0, d1, version, deadline, b) for d0, d1 in windows for b in blocks]
    done = partitions.map(fill_part, parts)
    computed = sum(p.computed for p in done)
    partial = sum(p.partial for p in done)
    completed = sum(p.completed for p in done)
    labels = update_labels(db, version=version)
    empty = pd.DataFrame(columns=list(WAITING_COLUMNS))
    waiting = [p.waiting for p in done if p.waiting is not None]
    waited = pd.concat([empty, *waiting], ignore_index=True)
    return FillResult(computed - partial, waited, labels, partial, completed)


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
    columns: Sequence[str] | None = None,
    trucks: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Stored feature rows of ``version`` whose ``by`` time (departure or arrival) is in the
    window; ``with_missing`` adds the ``missing_inputs`` column (None: complete).

    A partition reads its slice: only the feature ``columns`` named (the keys, trip columns
    and label always), only the trucks of block ``trucks`` = (k, n), ``truck_id % n == k``."""
    if by not in (EVENT_TIME, "estimated_arrival"):
        raise FeatureError(f"cannot window feature rows by {by!r}")
    names = ROW_COLUMNS
    if columns is not None:
        unknown = sorted(set(columns) - set(FEATURE_COLUMNS))
        if unknown:
            raise FeatureError(f"no feature column(s) {', '.join(unknown)}")
        chosen = set(columns)
        names = tuple(c for c in ROW_COLUMNS if c not in FEATURE_COLUMNS or c in chosen)
    names = (*names, MISSING) if with_missing else names
    with db.engine.connect() as conn:
        sql = SqlText(conn)
        text, params = _window_sql(sql, names, version, by, (start, end), labelled_only, trucks)
        frame = fetch_frame(conn, text, params, {n: KINDS[n] for n in names}, text_objects=True)
    typed = _typed(frame)
    if with_missing:
        typed[MISSING] = frame[MISSING].to_numpy(dtype=object)
    return typed


def _window_sql(
    sql: SqlText,
    names: Sequence[str],
    version: str,
    by: str,
    window: tuple[dt.datetime | None, dt.datetime | None],
    labelled_only: bool,
    trucks: tuple[int, int] | None,
) -> tuple[str, list[object]]:
    """``load_features``' query in the driver's own spelling, and its parameters."""
    where = [f"{sql.name('version')} = {sql.mark}"]
    params: list[object] = [version]
    for bound, op in zip(window, (">=", "<"), strict=True):
        if bound is not None:
            where.append(f"{sql.name(by)} {op} {sql.mark}")
            params.append(sql.value(bound))
    if labelled_only:
        where.append(f"{sql.name(LABEL)} IS NOT NULL")
    if trucks is not None:
        modulo = "%%" if sql.mark == "%s" else "%"  # a literal % among pyformat marks
        where.append(f"{sql.name('truck_id')} {modulo} {sql.mark} = {sql.mark}")
        params.extend([trucks[1], trucks[0]])
    text = (
        f"SELECT {sql.names(names)} FROM {sql.name(trip_features.name)}"
        f" WHERE {' AND '.join(where)} ORDER BY {sql.names(KEY_COLUMNS[::-1])}"
    )
    return text, params


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The dtypes compute gives, whatever the database driver returned."""
    return canonical_dtypes(frame)
