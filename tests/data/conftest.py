"""Fixtures for ingestion tests: a small copy of the course slice, and table dumps."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from truckflow.store import Database

SOURCE_TABLES = (
    "trucks",
    "drivers",
    "cities",
    "routes",
    "city_weather",
    "route_weather",
    "traffic",
    "truck_schedule",
)


def head_lines(source: Path, target: Path, n: int) -> None:
    """The header and the first ``n`` data lines of a CSV file."""
    with source.open("rb") as fin, target.open("wb") as fout:
        for i, line in enumerate(fin):
            if i > n:
                break
            fout.write(line)


@pytest.fixture
def small_sample(course_sample: Path, tmp_path: Path) -> Path:
    """The course sample with its city weather cut to the first day (every city, duplicates
    included); the other files are copied whole (the heads below are the whole files)."""
    out = tmp_path / "small_sample"
    out.mkdir()
    for name in ("trucks_table.csv", "drivers_table.csv", "routes_table.csv"):
        shutil.copy(course_sample / name, out / name)
    shutil.copy(course_sample / "truck_schedule_table.csv", out / "truck_schedule_table.csv")
    # Every city (routes refer to all 49), on the first day only; its duplicates come along.
    with (course_sample / "city_weather.csv").open("rb") as fin:
        lines = fin.readlines()
    first_day = [line for line in lines[1:] if line.split(b",")[1] == b"2019-01-01"]
    (out / "city_weather.csv").write_bytes(b"".join([lines[0], *first_day]))
    head_lines(course_sample / "routes_weather.csv", out / "routes_weather.csv", 3_000)
    head_lines(course_sample / "traffic_table.csv", out / "traffic_table.csv", 9_000)
    return out


def _dump(
    db: Database, tables: tuple[str, ...] = SOURCE_TABLES
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table, sorted: equal dumps mean equal contents."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        meta = sa.MetaData()
        for name in tables:
            table = sa.Table(name, meta, autoload_with=conn)
            rows = conn.execute(sa.select(table)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
        q = sa.text("SELECT table_name, source_file, line_no, row_hash, reason FROM quarantine")
        out["quarantine"] = sorted(tuple(r) for r in conn.execute(q).all())
        q = sa.text(
            "SELECT table_name, source_file, line_no, row_hash, kept_from FROM ingest_conflicts"
        )
        out["ingest_conflicts"] = sorted(tuple(r) for r in conn.execute(q).all())
    return out


@pytest.fixture
def dump() -> Callable[..., dict[str, list[tuple[Any, ...]]]]:
    """``dump(db)``: every source table, the quarantine and the conflicts, sorted."""
    return _dump


@pytest.fixture
def scalar() -> Callable[[Database, str], Any]:
    """``scalar(db, sql)``: the one value a query returns."""

    def run(db: Database, sql: str) -> Any:
        with db.engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()

    return run
