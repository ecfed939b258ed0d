"""The daily batch predictions and the weekly drift check by partitions (tasks on threads)
equal the serial ones row for row, on SQLite and PostgreSQL, in the prepared streaming world;
a step's run context carries the partitions of the runner it runs under."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from stream_world import assert_same, dump, fresh_home, prepare

from truckflow.data.ingest import ingest_directory
from truckflow.features.fill import fill_features
from truckflow.monitoring import report as report_module
from truckflow.monitoring.store import load_drift_columns
from truckflow.pipeline import SERIAL, ArtifactStore, StepContext, ThreadPartitions
from truckflow.pipelines.drift.steps import check_drift
from truckflow.pipelines.runtime import Runtime, runtime_of
from truckflow.pipelines.streaming.steps import LOOKBACK, predict_day
from truckflow.settings import Settings
from truckflow.streaming import StreamingClock
from truckflow.streaming.tables import batch_predictions

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST_DAY, DAY = dt.date(2019, 2, 1), dt.date(2019, 2, 14)
WEEK_START = dt.date(2019, 2, 15)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return prepare(tmp_path_factory.mktemp("stream-none"))


def _on_postgres(data: Path, settings: Settings, name: str) -> Runtime:
    """The template's history on a fresh PostgreSQL database, beside its model registry."""
    url = SecretStr(f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}")
    runtime = Runtime.open(settings.model_copy(update={"database_url": url}))
    ingest_directory(runtime.db, data, historical_only=True)
    finished = dt.datetime.combine(settings.streaming.boundary, dt.time()) - LOOKBACK
    fill_features(runtime.db, dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), deadline=finished)
    return runtime


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def runtime(
    request: pytest.FixtureRequest,
    world: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Runtime]:
    data, template = world
    settings = fresh_home(template, tmp_path_factory.mktemp(f"parts-{request.param}") / "home")
    if request.param == "sqlite":
        with Runtime.open(settings) as rt:
            yield rt
        return
    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        with _on_postgres(data, settings, name) as rt:
            yield rt
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _parted(rt: Runtime) -> Runtime:
    return dataclasses.replace(rt, partitions=ThreadPartitions(3))


def _predictions(rt: Runtime) -> pd.DataFrame:
    with rt.db.engine.connect() as conn:
        frame = pd.read_sql_table(batch_predictions.name, conn)
    frame["reasons"] = [json.dumps(r, sort_keys=True) for r in frame["reasons"]]
    return frame.sort_values(["truck_id", "departure_date"], ignore_index=True)


def _predict(rt: Runtime) -> tuple[dict[str, Any], pd.DataFrame]:
    out = predict_day(rt, FIRST_DAY, DAY)
    again = predict_day(rt, FIRST_DAY, DAY)  # idempotent: nothing left to predict
    assert again["predicted"] == 0
    rows = _predictions(rt)
    with rt.db.begin() as conn:
        conn.execute(batch_predictions.delete())
    return out, rows


def test_partitioned_batch_predictions_equal_the_serial_ones(runtime: Runtime) -> None:
    assert runtime.partitions is SERIAL
    serial, serial_rows = _predict(runtime)
    parted, parted_rows = _predict(_parted(runtime))
    assert serial["predicted"] > 100 and serial["late"] > 0
    assert parted == serial
    pd.testing.assert_frame_equal(parted_rows, serial_rows)


def _drift(rt: Runtime) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
    out = check_drift(rt, WEEK_START)
    report = json.loads(Path(out["report_json"]).read_text(encoding="utf-8"))
    report.pop("created_at")  # when it was written
    return out, load_drift_columns(rt.db, WEEK_START), report


def test_partitioned_drift_check_equals_the_serial_one(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The report's plots cost seconds and are drawn from the frames the check reads anyway.
    monkeypatch.setattr(report_module, "distribution_png", lambda *_: "")
    predict_day(runtime, FIRST_DAY, DAY)  # the week's predictions: prediction drift too
    try:
        serial = _drift(runtime)
        parted = _drift(_parted(runtime))
    finally:
        with runtime.db.begin() as conn:
            conn.execute(batch_predictions.delete())
    assert len(serial[1]) > 10
    assert parted[0] == serial[0]
    assert parted[1] == serial[1]
    assert parted[2] == serial[2]


def test_a_step_gets_the_partitions_of_its_runner(runtime: Runtime, tmp_path: Path) -> None:
    threads = ThreadPartitions(2)
    context = StepContext("e", "s", 1, ArtifactStore(tmp_path), tmp_path, runtime, threads)
    found = runtime_of(context)
    assert found.partitions is threads and found.db is runtime.db
    assert runtime.partitions is SERIAL  # the runner's runtime is left as it was


@pytest.mark.slow
def test_a_day_on_dask_equals_a_day_on_the_local_runner(
    world: tuple[Path, Path], tmp_path: Path
) -> None:
    """The daily pipeline with its fill and predictions as tasks of a LocalCluster (two worker
    processes) leaves the tables of a day on the local runner's threads."""
    data, template = world
    tables = {}
    for kind in ("local", "dask"):
        with Runtime.open(fresh_home(template, tmp_path / kind)) as rt:
            first = rt.settings.streaming.boundary  # the first streaming day
            StreamingClock(rt.db).start(first)
            params = {"day": first.isoformat(), "first_day": first.isoformat(), "data": str(data)}
            result = rt.run("daily", params, runner=kind)
            assert result.ok, {n: s.error for n, s in result.steps.items() if s.error}
            assert result.outputs["predict"]["predicted"] > 0
            tables[kind] = dump(rt.db)
    assert_same(tables["local"], tables["dask"])
