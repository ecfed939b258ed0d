"""The feature fill by partitions (departure weeks x blocks of routes, as tasks on threads)
stores the same rows and reports the same counts as the serial fill, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pytest
import sqlalchemy as sa
from fill_steps import fill_pipeline

from truckflow.data.generate import generate_world
from truckflow.data.ingest import ingest_directory
from truckflow.features.fill import FillResult, fill_features
from truckflow.features.fill_part import FillPart, departure_span
from truckflow.features.tables import trip_features
from truckflow.pipeline import SERIAL, ArtifactStore, DaskRunner, Partitions, ThreadPartitions
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START, MIDDLE, END = dt.datetime(2019, 1, 1), dt.datetime(2019, 1, 24), dt.datetime(2019, 2, 16)
DEADLINE = dt.datetime(2019, 2, 8)
WALL_CLOCK = ["computed_at", "label_updated_at"]
T = TypeVar("T")
R = TypeVar("R")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fill-world") / "world"
    generate_world(folder, seed=3, scale=0.05)
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, world: Path, tmp_path: Path) -> Iterator[Database]:
    """The generated world's history ingested, no features yet."""
    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    if request.param == "sqlite":
        db = connect(f"sqlite:///{tmp_path / 'truckflow.db'}")
    else:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        db = connect(sa.make_url(PG_ADMIN).set(database=name))
    try:
        upgrade(db)
        ingest_directory(db, world, historical_only=True)
        yield db
    finally:
        db.dispose()
        if request.param == "postgresql":
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _fills(
    db: Database, partitions: Partitions, blocks: int
) -> tuple[list[FillResult], pd.DataFrame]:
    """A fill of the first weeks, then of all with a deadline (the late trips stored partial);
    the results and the stored rows, in key order."""
    options = {"partitions": partitions, "route_blocks": blocks, "partition_days": 7}
    results = [
        fill_features(db, START, MIDDLE, **options),  # type: ignore[arg-type]
        fill_features(db, START, END, deadline=DEADLINE, **options),  # type: ignore[arg-type]
    ]
    with db.engine.connect() as conn:
        rows = pd.read_sql_table(trip_features.name, conn).drop(columns=WALL_CLOCK)
    with db.begin() as conn:
        conn.execute(trip_features.delete())
    return results, rows.sort_values(["truck_id", "departure_date"], ignore_index=True)


def test_partitions_on_a_dask_cluster_fill_the_same_rows(world: Path, tmp_path: Path) -> None:
    """Each partition a task of a LocalCluster of two worker processes, which reopen the
    SQLite database and write to it beside each other (they wait for its lock)."""
    db = connect(f"sqlite:///{tmp_path / 'truckflow.db'}")
    upgrade(db)
    ingest_directory(db, world, historical_only=True)
    params = {"start": START.isoformat(), "end": END.isoformat(), "deadline": DEADLINE.isoformat()}
    serial = fill_features(db, START, END, deadline=DEADLINE)
    with db.engine.connect() as conn:
        serial_rows = pd.read_sql_table(trip_features.name, conn).drop(columns=WALL_CLOCK)
    with db.begin() as conn:
        conn.execute(trip_features.delete())
    options = {"artifacts": ArtifactStore(tmp_path / "artifacts"), "work_root": tmp_path}
    with DaskRunner(db, n_workers=2, resources=db, **options) as runner:  # type: ignore[arg-type]
        result = runner.run(fill_pipeline(), params)
    assert result.ok, result.steps["fill"].error
    with db.engine.connect() as conn:
        rows = pd.read_sql_table(trip_features.name, conn).drop(columns=WALL_CLOCK)
    db.dispose()
    assert result.outputs["fill"] == {**serial.to_dict(), "width": 2}
    keys = ["truck_id", "departure_date"]
    pd.testing.assert_frame_equal(
        rows.sort_values(keys, ignore_index=True), serial_rows.sort_values(keys, ignore_index=True)
    )


def _waiting(result: FillResult) -> pd.DataFrame:
    return result.waiting.sort_values(["truck_id", "departure_date"], ignore_index=True)


def test_partitioned_fill_equals_the_serial_fill(history: Database) -> None:
    serial, serial_rows = _fills(history, SERIAL, 1)
    parted, parted_rows = _fills(history, ThreadPartitions(3), 3)
    assert len(serial_rows) > 500 and serial_rows["missing_inputs"].notna().any()
    assert serial[0].waiting.shape[0] > 0  # trips whose inputs are not all there
    pd.testing.assert_frame_equal(parted_rows, serial_rows)
    for one, other in zip(serial, parted, strict=True):
        assert one.to_dict() == other.to_dict()
        pd.testing.assert_frame_equal(_waiting(other), _waiting(one))


@dataclass
class _Recorded:
    """Serial partitions that keep what they were given."""

    parts: list[FillPart] = field(default_factory=list)
    width: int = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        self.parts.extend(items)  # type: ignore[arg-type]
        return SERIAL.map(fn, items)


def test_a_larger_fleet_makes_more_partitions_not_larger_ones(world: Path, tmp_path: Path) -> None:
    """Without a number of route blocks, each departure window is cut into blocks of about
    ``max_partition_trips`` trips; the stored rows are those of one partition per window."""
    db = connect(f"sqlite:///{tmp_path / 'truckflow.db'}")
    upgrade(db)
    ingest_directory(db, world, historical_only=True)
    whole, small = _Recorded(), _Recorded()
    serial = fill_features(db, START, END, partitions=whole)
    with db.engine.connect() as conn:
        serial_rows = pd.read_sql_table(trip_features.name, conn).drop(columns=WALL_CLOCK)
    with db.begin() as conn:
        conn.execute(trip_features.delete())
    bounded = fill_features(db, START, END, partitions=small, max_partition_trips=40)
    with db.engine.connect() as conn:
        rows = pd.read_sql_table(trip_features.name, conn).drop(columns=WALL_CLOCK)
    assert all(p.routes is None for p in whole.parts)
    weeks = len(whole.parts)
    assert len(small.parts) >= 3 * weeks and all(p.routes for p in small.parts)
    departures = departure_span(db, START, END)
    assert departures is not None
    assert len(small.parts) == weeks * math.ceil(departures.trips / weeks / 40)
    assert bounded.to_dict() == serial.to_dict()
    keys = ["truck_id", "departure_date"]
    pd.testing.assert_frame_equal(
        rows.sort_values(keys, ignore_index=True), serial_rows.sort_values(keys, ignore_index=True)
    )
    db.dispose()


def test_features_fill_on_the_dask_runner_setting_fills_the_same_rows(
    world: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``TRUCKFLOW_PIPELINE__RUNNER=dask``: the CLI's fill sends its partitions to a
    LocalCluster of two worker processes (none is named) and stores what the serial fill stores."""
    from typer.testing import CliRunner

    from truckflow.cli.app import app

    home = tmp_path / "home"
    db = connect(Settings(home=home))
    upgrade(db)
    ingest_directory(db, world, historical_only=True)
    serial = fill_features(db, START, END)
    with db.engine.connect() as conn:
        serial_rows = pd.read_sql_table(trip_features.name, conn).drop(columns=WALL_CLOCK)
    with db.begin() as conn:
        conn.execute(trip_features.delete())
    args = ["--home", str(home), "features", "fill", "--start", "2019-01-01"]
    env = {"TRUCKFLOW_PIPELINE__RUNNER": "dask"}
    with caplog.at_level("INFO", logger="truckflow.pipeline.partitions"):
        result = CliRunner().invoke(
            app, [*args, "--end", END.date().isoformat(), "--json"], env=env
        )
    assert result.exit_code == 0, result.output
    assert "partitions on the Dask cluster at tcp://127.0.0.1:" in caplog.text
    assert "(2 threads)" in caplog.text
    assert json.loads(result.stdout)["computed"] == serial.computed > 0
    with db.engine.connect() as conn:
        rows = pd.read_sql_table(trip_features.name, conn).drop(columns=WALL_CLOCK)
    db.dispose()
    keys = ["truck_id", "departure_date"]
    pd.testing.assert_frame_equal(
        rows.sort_values(keys, ignore_index=True), serial_rows.sort_values(keys, ignore_index=True)
    )
