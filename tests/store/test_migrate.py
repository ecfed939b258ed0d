from __future__ import annotations

import datetime

import sqlalchemy as sa

from truckflow.store import Database, connect, metadata
from truckflow.store.migrate import current_revision, head_revision, target_metadata, upgrade


def test_upgrade_creates_every_declared_table(any_db: Database) -> None:
    tables = set(sa.inspect(any_db.engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert current_revision(any_db) == head_revision()


def test_upgrade_is_idempotent(any_db: Database) -> None:
    with any_db.begin() as conn:
        conn.execute(sa.text("INSERT INTO cities (city_id) VALUES ('C-1')"))
    assert upgrade(any_db) == head_revision()
    with any_db.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cities")).scalar_one() == 1


def test_natural_keys_are_unique(any_db: Database) -> None:
    row = {
        "city_id": "C-1",
        "date": datetime.date(2019, 1, 1),
        "hour": 100,
        "temp": 1.0,
        "wind_speed": 2.0,
        "description": "Clear",
        "precip": 0.0,
        "humidity": 50,
        "visibility": 6,
        "pressure": 1000,
    }
    table = metadata.tables["city_weather"]
    with any_db.begin() as conn:
        conn.execute(table.insert(), [row])
    try:
        with any_db.begin() as conn:
            conn.execute(table.insert(), [row])
    except sa.exc.IntegrityError:
        pass
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("a second row with the same (city_id, date, hour) was accepted")


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = connect(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=1234)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_migrations_build_the_declared_schema(any_db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with any_db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), target_metadata())
    assert differences == []
