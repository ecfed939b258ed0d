"""Filling the feature store from the operational database (SQLite), at scale 1.

Writes the synthetic scale-1 tables of ``benchmarks/features.py`` into a fresh SQLite database
(minutes: 3.6M traffic rows), then times ``fill_features`` over the whole period (read the
inputs of each 7-day partition, compute, insert), and a second fill that finds nothing new.

Run: ``.venv/bin/python -m benchmarks.feature_fill [--partition-days 7]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from benchmarks.features import synthesize
from truckflow.features.fill import fill_features
from truckflow.store import connect
from truckflow.store import schema as s
from truckflow.store.migrate import upgrade


def _rows(frame: pd.DataFrame) -> list[dict[str, object]]:
    out = frame.astype(object).where(frame.notna(), None)
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            out[column] = list(frame[column].dt.to_pydatetime())
    return [{str(k): v for k, v in r.items()} for r in out.to_dict("records")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partition-days", type=int, default=7)
    args = parser.parse_args(argv)
    inputs = synthesize(1)
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(f"sqlite:///{Path(tmp) / 'fill.db'}")
        upgrade(db)
        t0 = time.perf_counter()
        with db.begin() as conn:
            for table, frame in (
                (s.routes, inputs.routes),
                (s.trucks, inputs.trucks),
                (s.drivers, inputs.drivers),
                (s.route_weather, inputs.route_weather),
                (
                    s.city_weather,
                    inputs.city_weather.assign(date=inputs.city_weather["date"].dt.date),
                ),
                (s.truck_schedule, inputs.schedule),
            ):
                conn.execute(sa.insert(table), _rows(frame))
            traffic = inputs.traffic.assign(date=inputs.traffic["date"].dt.date)
            for start in range(0, len(traffic), 500_000):
                conn.execute(sa.insert(s.traffic), _rows(traffic.iloc[start : start + 500_000]))
        print(f"loaded the scale-1 tables into SQLite in {time.perf_counter() - t0:.0f}s")
        period = (dt.datetime(2019, 1, 1), dt.datetime(2019, 3, 1))
        for label in ("fill", "fill again (nothing new)"):
            t0 = time.perf_counter()
            result = fill_features(db, *period, partition_days=args.partition_days)
            print(f"{label}: {time.perf_counter() - t0:.1f}s {result.summary()}")
        db.dispose()


if __name__ == "__main__":
    main()
