"""Schema migrations (Alembic), run from code so that ``truckflow init`` needs no alembic.ini.

``upgrade`` is idempotent: on an up-to-date database it does nothing.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from truckflow.store.database import Database, StoreError

__all__ = ["current_revision", "head_revision", "target_metadata", "upgrade"]

_MIGRATIONS = Path(__file__).with_name("migrations")
# Modules that declare tables on the shared metadata; imported so that Alembic sees them all.
_TABLE_MODULES: tuple[str, ...] = (
    "truckflow.store.schema",
    "truckflow.pipeline.records",
    "truckflow.notify.schema",
    "truckflow.serving.capture",
    "truckflow.features.store",
    "truckflow.monitoring.store",
    "truckflow.registry.deployments",
)


def target_metadata() -> sa.MetaData:
    for module in _TABLE_MODULES:
        importlib.import_module(module)
    from truckflow.store.schema import metadata

    return metadata


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Bring the schema to ``revision``; returns the revision the database is at afterwards."""
    try:
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), revision)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(
            f"migrating {db.safe_url} failed: {exc.__class__.__name__}: {exc}"
        ) from exc
    return current_revision(db)
