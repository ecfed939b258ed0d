"""Shared fixtures: settings in a temporary home, and a fresh database on each real engine.

``any_db`` runs a test on SQLite, PostgreSQL (127.0.0.1:5432) and MariaDB/MySQL
(127.0.0.1:3306): each test gets a database of its own, dropped afterwards. Set
``TRUCKFLOW_TEST_PG_URL`` / ``TRUCKFLOW_TEST_MYSQL_URL`` to point at other servers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "1"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COURSE_SAMPLE = PROJECT_ROOT / "tests" / "fixtures" / "course_sample"

SERVER_URLS = {
    "postgresql": os.environ.get(
        "TRUCKFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mysql": os.environ.get(
        "TRUCKFLOW_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
    ),
}


def _server_database(kind: str) -> Iterator[str]:
    admin_url = sa.make_url(SERVER_URLS[kind])
    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"{kind} server at {admin_url} is not reachable: {exc}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture
def new_server_database() -> Iterator[Callable[[str], str]]:
    """A factory of fresh, empty databases on a server ("postgresql" or "mysql"), by URL;
    every one of them is dropped after the test."""
    made: list[Iterator[str]] = []

    def make(kind: str) -> str:
        made.append(_server_database(kind))
        return next(made[-1])

    yield make
    for database in made:
        database.close()  # runs the generator's finally: DROP DATABASE


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a fresh, empty database on each of the three engines."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'truckflow.db'}"
    else:
        yield from _server_database(request.param)


@pytest.fixture
def any_db(any_db_url: str) -> Iterator[Database]:
    """A migrated database on each engine."""
    db = connect(any_db_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh home in a temporary folder (SQLite inside it)."""
    return Settings(home=tmp_path / "home")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """A migrated SQLite database in the temporary home."""
    database = connect(settings)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def course_sample() -> Path:
    """The course's real files, trimmed (tests/fixtures/course_sample/README.md says how)."""
    return COURSE_SAMPLE
