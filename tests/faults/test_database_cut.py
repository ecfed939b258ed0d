"""The database cut in the middle of a day, on PostgreSQL: connections reset and refused for a
few seconds (a loopback proxy stopped under the stepper), then back."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fault_world import ingest_runs, stepper, wait_mid_day
from stream_world import assert_same, dump
from tcp_proxy import CuttableProxy

from truckflow.notify.schema import notify_outbox
from truckflow.pipeline.records import pipeline_executions
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.stream_setup import prepare_history
from truckflow.settings import Settings
from truckflow.store import connect

pytestmark = [pytest.mark.fault, pytest.mark.timeout(900)]

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def databases() -> Iterator[dict[str, str]]:
    """A template database (filled by the test) and the names of its two copies."""
    names = {k: f"tf_fault_{k}_{uuid.uuid4().hex[:8]}" for k in ("template", "clean", "cut")}
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {names['template']}"))
    try:
        yield names
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _url(name: str, port: int = 5432) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"


def test_a_database_cut_mid_day_fails_cleanly_and_a_rerun_equals_a_clean_run(
    stream_world: tuple[Path, Path], databases: dict[str, str], tmp_path: Path
) -> None:
    data, _ = stream_world
    template = tmp_path / "template"
    settings = Settings(home=template, database_url=_url(databases["template"]))
    with Runtime.open(settings) as runtime:
        prepare_history(runtime, data, n_trials=2, families="logistic_regression")
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # Engines made inside the steps may still hold a pooled session: a copy needs none.
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": databases["template"]},
        )
        for copy in ("clean", "cut"):
            conn.execute(
                sa.text(f"CREATE DATABASE {databases[copy]} TEMPLATE {databases['template']}")
            )
    admin.dispose()
    homes = {k: shutil.copytree(template, tmp_path / k) for k in ("clean", "cut")}
    clean_url, cut_url = _url(databases["clean"]), _url(databases["cut"])
    assert stepper(homes["clean"], data, db_url=clean_url).wait(timeout=300) == 0

    proxy = CuttableProxy(("127.0.0.1", 5432))
    try:
        pause = tmp_path / "pause"
        pause.touch()
        proc = stepper(
            homes["cut"],
            data,
            db_url=_url(databases["cut"], proxy.port),
            TRUCKFLOW_FAULT_POINT=f"day.after_ingest:pause={pause}",
            TRUCKFLOW_DB_RECOVERY_WAIT_S="60",
        )
        wait_mid_day(cut_url, proc, ingest_runs(cut_url))
        proxy.cut()  # every connection reset, new ones refused
        pause.unlink()
        time.sleep(4)
        proxy.restore()
        out, err = proc.communicate(timeout=300)
        assert proc.returncode != 0
        doc = json.loads(out)  # one document, nothing else
        assert set(doc) == {"error"} and doc["error"]["message"], doc
        assert b"Traceback" not in err

        db = connect(cut_url)
        with db.engine.connect() as conn:
            statuses = conn.execute(
                sa.select(pipeline_executions.c.pipeline, pipeline_executions.c.status)
            ).all()
            failed = conn.execute(
                sa.select(sa.func.count()).where(notify_outbox.c.event_type == "pipeline.failed")
            ).scalar_one()
        assert ("daily", "failed") in [tuple(s) for s in statuses]  # marked once it could
        assert failed >= 1  # and its event waits in the outbox
        assert (
            stepper(homes["cut"], data, db_url=_url(databases["cut"], proxy.port)).wait(timeout=300)
            == 0
        )
    finally:
        proxy.close()
    clean = connect(clean_url)
    try:
        assert_same(dump(clean), dump(db))
    finally:
        clean.dispose()
        db.dispose()
