"""Ingest speed at scale 1: a 2.6M-row traffic file into SQLite and into PostgreSQL.

truckflow's figure is end to end (parse, validate, load, commit) of ``ingest_directory`` on a
folder holding only traffic_table.csv, into a database whose routes are already loaded. Peers,
timed on the same rows in the same run:

- SQLite: plain ``sqlite3`` executemany of the already-parsed tuples into an empty table with
  the same primary key (no parsing, no validation: the floor the issue quotes), as a rowid
  table and as a WITHOUT ROWID table like truckflow's;
- PostgreSQL: psycopg ``COPY`` of the same CSV bytes straight into an empty table with the same
  primary key.

Run: ``python -m benchmarks.ingest [--routes 2352] [--hours 1104] [--runs 3] [--pg URL]``.
The traffic file is made here with numpy, in the course's format (2,352 routes x 1,104 hours).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from truckflow.data.ingest import ingest_directory
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def make_world(folder: Path, n_routes: int, n_hours: int, seed: int = 1) -> Path:
    """routes_table.csv + city_weather.csv (the cities) in ``folder``, traffic in a subfolder."""
    rng = np.random.default_rng(seed)
    cities = np.array([f"C-{x:08x}" for x in rng.choice(2**32, 49, replace=False)])
    routes = np.array([f"R-{x:08x}" for x in rng.choice(2**32, n_routes, replace=False)])
    origin = cities[rng.integers(0, 49, n_routes)]
    destination = cities[rng.integers(0, 49, n_routes)]
    distance = np.round(rng.uniform(4, 3000, n_routes), 2)
    pacsv.write_csv(
        pa.table(
            {
                "route_id": routes,
                "origin_id": origin,
                "destination_id": destination,
                "distance": distance,
                "average_hours": np.round(distance / 50, 2),
            }
        ),
        str(folder / "routes_table.csv"),
        pacsv.WriteOptions(quoting_style="none"),
    )
    weather = "city_id,date,hour,temp,wind_speed,description,precip,humidity,visibility,pressure\n"
    weather += "".join(f"{c},2019-01-01,0,30,10,Clear,0.0,80,6,1015\n" for c in cities)
    (folder / "city_weather.csv").write_text(weather)

    days = np.datetime64("2019-01-01") + np.arange((n_hours + 23) // 24)
    hour_index = np.arange(n_hours)
    n = n_routes * n_hours
    vehicles = rng.integers(100, 3637, n).astype(np.float64)
    vehicles[rng.random(n) < 0.0004] = np.nan  # the real file's few blanks
    traffic = pa.table(
        {
            "route_id": pa.DictionaryArray.from_arrays(
                np.repeat(np.arange(n_routes, dtype=np.int32), n_hours), pa.array(routes)
            ).cast(pa.string()),
            "date": np.tile(np.datetime_as_string(days[hour_index // 24]), n_routes),
            "hour": np.tile((hour_index % 24) * 100, n_routes),
            "no_of_vehicles": pa.array(vehicles, from_pandas=True),
            "accident": (rng.random(n) < 0.053).astype(np.int64),
        }
    )
    traffic_dir = folder / "traffic"
    traffic_dir.mkdir()
    pacsv.write_csv(
        traffic, str(traffic_dir / "traffic_table.csv"), pacsv.WriteOptions(quoting_style="none")
    )
    return traffic_dir


def _server_db(admin_url: str) -> tuple[Database, Callable[[], None]]:
    name = f"tf_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    db = connect(sa.make_url(admin_url).set(database=name))

    def drop() -> None:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return db, drop


def time_truckflow(db: Database, world: Path, traffic_dir: Path) -> tuple[float, int]:
    """Seconds for ingesting the traffic file (routes and cities loaded first, untimed)."""
    upgrade(db)
    ingest_directory(db, world)
    start = time.perf_counter()
    report = ingest_directory(db, traffic_dir)
    elapsed = time.perf_counter() - start
    counts = report.tables()["traffic"]
    assert counts.inserted == counts.read, counts  # every row new: nothing skipped
    return elapsed, counts.read


_TABLE = (
    "CREATE TABLE traffic_peer (route_id VARCHAR(32) NOT NULL, date DATE NOT NULL,"
    " hour SMALLINT NOT NULL, no_of_vehicles FLOAT, accident SMALLINT NOT NULL,"
    " PRIMARY KEY (route_id, date, hour))"
)


def time_sqlite_executemany(
    rows: list[tuple[object, ...]], folder: Path, *, without_rowid: bool = False
) -> float:
    path = folder / f"peer-{uuid.uuid4().hex[:8]}.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(_TABLE + (" WITHOUT ROWID" if without_rowid else ""))
    start = time.perf_counter()
    conn.executemany("INSERT INTO traffic_peer VALUES (?, ?, ?, ?, ?)", rows)
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    path.unlink()
    return elapsed


def time_pg_copy(csv_path: Path, admin_url: str) -> float:
    db, drop = _server_db(admin_url)
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(_TABLE.replace("FLOAT", "DOUBLE PRECISION"))
        data = csv_path.read_bytes()
        start = time.perf_counter()
        with db.engine.begin() as conn:
            raw = conn.connection.driver_connection
            with (
                raw.cursor() as cursor,
                cursor.copy(  # type: ignore[union-attr]
                    "COPY traffic_peer FROM STDIN (FORMAT csv, HEADER true)"
                ) as copy,
            ):
                copy.write(data)
        return time.perf_counter() - start
    finally:
        drop()


def _report(name: str, seconds: list[float], rows: int) -> float:
    median = statistics.median(seconds)
    runs = ", ".join(f"{s:.2f}" for s in seconds)
    print(f"{name:<44} median {median:6.2f} s  {rows / median:>11,.0f} rows/s   (runs: {runs})")
    return rows / median


def _parsed_rows(csv_path: Path) -> list[tuple[object, ...]]:
    """The traffic rows as the tuples a plain executemany takes (parsing is not timed)."""
    table = pacsv.read_csv(csv_path)
    return list(
        zip(
            table["route_id"].to_pylist(),
            table["date"].cast(pa.string()).to_pylist(),
            table["hour"].to_pylist(),
            table["no_of_vehicles"].to_pylist(),
            table["accident"].to_pylist(),
            strict=True,
        )
    )


def _report_sqlite(ours: list[float], peer: list[float], norowid: list[float], n: int) -> None:
    print("SQLite")
    a = _report("  truckflow ingest (parse+validate+load)", ours, n)
    b = _report("  plain sqlite3 executemany, rowid table", peer, n)
    c = _report("  plain sqlite3 executemany, WITHOUT ROWID", norowid, n)
    print(
        f"  ratio truckflow / plain executemany: {a / b:.2f} (rowid), {a / c:.2f} (WITHOUT ROWID)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=2352)
    parser.add_argument("--hours", type=int, default=1104)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=PG_ADMIN, help="admin URL of a PostgreSQL server")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="truckflow-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        traffic_dir = make_world(folder, args.routes, args.hours)
        csv_path = traffic_dir / "traffic_table.csv"
        n = args.routes * args.hours
        print(
            f"traffic_table.csv: {n:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB,"
            f" made in {time.perf_counter() - started:.1f} s"
        )
        rows = [] if args.no_sqlite else _parsed_rows(csv_path)

        ours, peer, peer_norowid = [], [], []
        for run in range(0 if args.no_sqlite else args.runs):
            db = connect(f"sqlite:///{folder / f'tf-{run}.db'}")
            elapsed, _ = time_truckflow(db, folder, traffic_dir)
            db.dispose()
            ours.append(elapsed)
            peer.append(time_sqlite_executemany(rows, folder))
            peer_norowid.append(time_sqlite_executemany(rows, folder, without_rowid=True))
        del rows
        if not args.no_sqlite:
            _report_sqlite(ours, peer, peer_norowid, n)
        if args.no_pg:
            return
        ours, peer = [], []
        for _ in range(args.runs):
            db, drop = _server_db(args.pg)
            try:
                ours.append(time_truckflow(db, folder, traffic_dir)[0])
            finally:
                drop()
            peer.append(time_pg_copy(csv_path, args.pg))
        print("PostgreSQL")
        a = _report("  truckflow ingest (parse+validate+load)", ours, n)
        b = _report("  psycopg COPY straight in (load only)", peer, n)
        print(f"  ratio truckflow / plain COPY: {a / b:.2f}")


if __name__ == "__main__":
    main()
