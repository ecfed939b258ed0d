"""Filling the feature store from the operational database, at scale 1.

Writes the synthetic scale-1 tables of ``benchmarks/features.py`` into a fresh database (SQLite
by default, ``--url`` for PostgreSQL; the bulk path of the ingest), then times in one run:

- ``fill_features`` over 2019-01-01..03-01 (the first fill: 16k trips), a second fill that finds
  nothing new, and an incremental fill of one day's new trips (the streaming pipeline's case);
- baselines on the same database: the bare DBAPI fetch of the rows the first fill reads (no
  conversion: the floor for any reader), and the previous reader (SQLAlchemy Core rows into a
  DataFrame, dates parsed per row) against truckflow's reader on one 7-day partition.

Run: ``.venv/bin/python -m benchmarks.feature_fill [--url URL] [--keep FILE]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from benchmarks.features import synthesize
from truckflow.data.ingest.loader import insert_ignore
from truckflow.features.fill import fill_features
from truckflow.features.loading import load_inputs
from truckflow.features.tables import trip_features
from truckflow.store import Database, connect
from truckflow.store import tables as s
from truckflow.store.migrate import upgrade

PERIOD = (dt.datetime(2019, 1, 1), dt.datetime(2019, 3, 1))
DAY = (dt.datetime(2019, 2, 20), dt.datetime(2019, 2, 21))


def _kind(column: sa.Column[object]) -> str:
    if isinstance(column.type, sa.DateTime):
        return "datetime"
    if isinstance(column.type, sa.Date):
        return "date"
    if isinstance(column.type, sa.Integer):
        return "int"
    if isinstance(column.type, sa.Float):
        return "float"
    return "str"


def load_world(db: Database) -> None:
    inputs = synthesize(1)
    with db.begin() as conn:
        for table, frame in (
            (s.routes, inputs.routes),
            (s.trucks, inputs.trucks),
            (s.drivers, inputs.drivers),
            (s.route_weather, inputs.route_weather),
            (s.city_weather, inputs.city_weather),
            (s.truck_schedule, inputs.schedule),
            (s.traffic, inputs.traffic),
        ):
            kinds = {c.name: _kind(c) for c in table.columns}
            insert_ignore(conn, table.name, frame[list(kinds)], kinds)  # type: ignore[arg-type]


def _old_read(db: Database, start: dt.datetime, end: dt.datetime) -> int:
    """The previous reader: SQLAlchemy Core selects, rows into DataFrames (types processed)."""
    rows = 0
    with db.engine.connect() as conn:
        sched = pd.DataFrame(
            [
                tuple(r)
                for r in conn.execute(
                    sa.select(s.truck_schedule).where(
                        s.truck_schedule.c.departure_date >= start,
                        s.truck_schedule.c.departure_date < end,
                    )
                )
            ]
        )
        t1 = pd.Timestamp(sched[3].max()).ceil("6h")
        for table, column, hi in (
            (s.traffic, s.traffic.c.date, t1.date()),
            (s.route_weather, s.route_weather.c.ts, t1.to_pydatetime()),
            (s.city_weather, s.city_weather.c.date, t1.date()),
        ):
            query = sa.select(table).where(column.between(start.date(), hi))
            rows += len(pd.DataFrame([tuple(r) for r in conn.execute(query)]))
    return rows


def _bare_fetch(db: Database, start: dt.datetime, end: dt.datetime) -> int:
    """The DBAPI cursor's fetchall of the same rows, no conversion at all."""
    with db.engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        rows = 0
        last = dt.datetime(2019, 3, 12)
        for table, column in (
            ("truck_schedule", "departure_date"),
            ("traffic", "date"),
            ("route_weather", "ts"),
            ("city_weather", "date"),
        ):
            mark = "?" if db.dialect == "sqlite" else "%s"
            hi = end if table == "truck_schedule" else last
            fmt = "%Y-%m-%d %H:%M:%S.%f" if db.dialect == "sqlite" else None
            lo_p = start.strftime(fmt) if fmt else start
            hi_p = hi.strftime(fmt) if fmt else hi
            cur.execute(
                f"SELECT * FROM {table} WHERE {column} >= {mark} AND {column} < {mark}",
                (lo_p, hi_p),
            )
            rows += len(cur.fetchall())
        cur.close()
    return rows


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def run(db: Database, repeat: int) -> None:
    fills, seconds, incr = [], [], []
    for _ in range(repeat):
        with db.begin() as conn:
            conn.execute(sa.delete(trip_features))
        t, first = _timed(fill_features, db, *PERIOD)
        fills.append(t)
        t, again = _timed(fill_features, db, *PERIOD)
        seconds.append(t)
        with db.begin() as conn:  # the streaming case: one day's trips are new
            conn.execute(
                sa.delete(trip_features).where(
                    trip_features.c.departure_date >= DAY[0],
                    trip_features.c.departure_date < DAY[1],
                )
            )
        t, day = _timed(fill_features, db, *PERIOD)
        incr.append(t)
    print(f"first fill: median {statistics.median(fills):.2f}s of {fills} {first.summary()}")
    print(f"fill again (nothing new): median {statistics.median(seconds):.2f}s {again.summary()}")
    print(f"one new day ({day.computed} trips): median {statistics.median(incr):.2f}s")
    bare = [_timed(_bare_fetch, db, *PERIOD) for _ in range(repeat)]
    print(
        f"baseline, bare DBAPI fetchall of the window's source rows ({bare[0][1]:,} rows): "
        f"median {statistics.median(b[0] for b in bare):.2f}s"
    )
    week = (dt.datetime(2019, 1, 8), dt.datetime(2019, 1, 15))
    new = [_timed(load_inputs, db, *week) for _ in range(repeat)]
    t_old, n_old = _timed(_old_read, db, *week)
    t_new = statistics.median(t for t, _ in new)
    print(
        f"one 7-day partition ({n_old:,} forecast rows): previous SQLAlchemy reader "
        f"{t_old:.2f}s, truckflow reader median {t_new:.2f}s ({t_old / t_new:.1f}x)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an EMPTY database's URL (default: SQLite in a temp folder)")
    parser.add_argument("--keep", type=Path, help="SQLite file to build once and reuse")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "fill.db"
        fresh = args.url is not None or not path.exists()
        db = connect(args.url or f"sqlite:///{path}")
        upgrade(db)
        if fresh:
            t0 = time.perf_counter()
            load_world(db)
            print(f"loaded the scale-1 tables ({db.dialect}) in {time.perf_counter() - t0:.0f}s")
        run(db, args.repeat)
        db.dispose()


if __name__ == "__main__":
    main()
