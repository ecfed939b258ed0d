"""MariaDB/MySQL: a day killed (kill -9) after its predictions, then rerun, equals a clean run.

One template database (history and a production model) is copied for the clean run and for the
killed one: the schema by the migrations, the rows by ``INSERT ... SELECT`` on the server."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fault_world import kill_then_rerun, stepper
from stream_world import assert_same, dump

from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.setup import prepare_history
from truckflow.settings import Settings
from truckflow.store import connect
from truckflow.store.migrate import upgrade

pytestmark = [pytest.mark.fault, pytest.mark.timeout(900)]

# The server the engine tests use (tests/conftest.py).
SERVER = os.environ.get("TRUCKFLOW_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql")


def _copy(admin: sa.Engine, source: str, target: str) -> str:
    """A copy of database ``source`` on the same server, as ``target``; its URL."""
    url = admin.url.set(database=target).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {target}"))
    db = connect(url)
    try:
        upgrade(db)
        with db.engine.begin() as conn:
            conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 0"))
            for table in sa.inspect(conn).get_table_names():
                if table != "alembic_version":
                    conn.execute(
                        sa.text(f"INSERT INTO {target}.{table} SELECT * FROM {source}.{table}")
                    )
    finally:
        db.dispose()
    return url


@pytest.fixture(scope="module")
def mariadb_world(
    stream_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path, sa.Engine, str]]:
    """(world folder, template home, server admin engine, template database)."""
    data, _ = stream_world
    admin = sa.create_engine(sa.make_url(SERVER), isolation_level="AUTOCOMMIT")
    name = f"tf_fault_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    home = tmp_path_factory.mktemp("faults-mariadb") / "template"
    try:
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        with Runtime.open(Settings(home=home, database_url=url)) as runtime:
            prepare_history(runtime, data, n_trials=2, families="logistic_regression")
        yield data, home, admin, name
    finally:
        with admin.connect() as conn:
            for row in conn.execute(sa.text("SHOW DATABASES LIKE :p"), {"p": f"{name}%"}):
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {row[0]}"))
        admin.dispose()


def test_a_day_killed_after_its_predictions_then_rerun_equals_a_clean_run(
    mariadb_world: tuple[Path, Path, sa.Engine, str], tmp_path: Path
) -> None:
    data, template, admin, name = mariadb_world
    homes = {k: shutil.copytree(template, tmp_path / k) for k in ("clean", "killed")}
    urls = {k: _copy(admin, name, f"{name}_{k}") for k in homes}
    assert stepper(homes["clean"], data, db_url=urls["clean"]).wait(timeout=300) == 0
    db = kill_then_rerun(homes["killed"], data, urls["killed"], "day.after_predictions")
    clean = connect(urls["clean"])
    try:
        assert_same(dump(clean), dump(db))
    finally:
        clean.dispose()
        db.dispose()
