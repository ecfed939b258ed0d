"""PostgreSQL: the database cut in the middle of a day (connections reset and refused for a few
seconds by a loopback proxy stopped under the stepper, then back), and a day killed (kill -9)
after its predictions. One template database and one clean run serve both."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fault_world import ingest_runs, kill_then_rerun, stepper, wait_mid_day
from stream_world import assert_same, dump
from tcp_proxy import CuttableProxy

from truckflow.notify.tables import notify_outbox
from truckflow.pipeline.tables import pipeline_executions
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.setup import prepare_history
from truckflow.settings import Settings
from truckflow.store import connect

pytestmark = [pytest.mark.fault, pytest.mark.timeout(900)]

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class PostgresWorld:
    """A template database and home (history and a production model), the clean run's tables
    from a copy of them, and ``copy()`` for each scenario's own database and home."""

    data: Path
    template_home: Path
    template_db: str
    clean: dict[str, pd.DataFrame]
    base: Path
    made: list[str] = field(default_factory=list)

    def copy(self, name: str) -> tuple[Path, str]:
        database = f"{self.template_db}_{name}"
        admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {database} TEMPLATE {self.template_db}"))
        admin.dispose()
        self.made.append(database)
        return shutil.copytree(self.template_home, self.base / name), database


def _url(name: str, port: int = 5432) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"


def _drop(*names: str) -> None:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="module")
def pg_world(
    stream_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresWorld]:
    data, _ = stream_world
    base = tmp_path_factory.mktemp("faults-pg")
    name = f"tf_fault_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    world = PostgresWorld(data, base / "template", name, {}, base)
    try:
        settings = Settings(home=world.template_home, database_url=_url(name))
        with Runtime.open(settings) as runtime:
            prepare_history(runtime, data, n_trials=2, families="logistic_regression")
        with admin.connect() as conn:
            # Engines made inside the steps may still hold a pooled session: a copy needs none.
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        home, clean = world.copy("clean")
        assert stepper(home, data, db_url=_url(clean)).wait(timeout=300) == 0
        db = connect(_url(clean))
        world.clean = dump(db)
        db.dispose()
        yield world
    finally:
        admin.dispose()
        _drop(name, *world.made)


def test_a_database_cut_mid_day_fails_cleanly_and_a_rerun_equals_a_clean_run(
    pg_world: PostgresWorld, tmp_path: Path
) -> None:
    data = pg_world.data
    home, database = pg_world.copy("cut")
    cut_url = _url(database)
    proxy = CuttableProxy(("127.0.0.1", 5432))
    try:
        pause = tmp_path / "pause"
        pause.touch()
        proc = stepper(
            home,
            data,
            db_url=_url(database, proxy.port),
            TRUCKFLOW_FAULT_POINT=f"day.after_ingest:pause={pause}",
            TRUCKFLOW_DATABASE__RECOVERY_WAIT_S="60",
        )
        wait_mid_day(cut_url, proc, ingest_runs(cut_url))
        proxy.cut()  # every connection reset, new ones refused
        pause.unlink()
        time.sleep(4)
        proxy.restore()
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 69, (out, err)  # EX_UNAVAILABLE: the database, not the input
        (error,) = json.loads(out).values()  # one document, nothing else: {"error": {...}}
        assert error["type"] == "DatabaseUnavailable", error
        assert error["message"].startswith("the database failed: OperationalError: "), error
        assert "database is running and reachable, then run the command again" in error["hint"]
        assert b"Traceback" not in err

        db = connect(cut_url)
        with db.engine.connect() as conn:
            executions = conn.execute(
                sa.select(pipeline_executions.c.id, pipeline_executions.c.status).where(
                    pipeline_executions.c.pipeline == "daily"
                )
            ).all()
            failed = conn.execute(
                sa.select(notify_outbox.c.event_key, notify_outbox.c.body).where(
                    notify_outbox.c.event_type == "pipeline.failed"
                )
            ).all()
        # Marked failed once the database took writes again, never left executing; its
        # failure event is in the outbox, about that execution.
        assert [s for _, s in executions] == ["failed"]
        assert failed and all(executions[0].id in json.dumps(b) for _, b in failed), failed
        rerun = stepper(home, data, db_url=_url(database, proxy.port))
        assert rerun.wait(timeout=300) == 0
    finally:
        proxy.close()
    try:
        assert_same(pg_world.clean, dump(db))
    finally:
        db.dispose()


def test_a_day_killed_after_its_predictions_then_rerun_equals_a_clean_run(
    pg_world: PostgresWorld,
) -> None:
    home, database = pg_world.copy("killed")
    db = kill_then_rerun(home, pg_world.data, _url(database), "day.after_predictions")
    try:
        assert_same(pg_world.clean, dump(db))
    finally:
        db.dispose()
