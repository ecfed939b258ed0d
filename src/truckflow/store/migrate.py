"""Schema migrations (Alembic), run from code so that ``truckflow init`` needs no alembic.ini.

``upgrade`` is idempotent: on an up-to-date database it does nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from truckflow.store.database import Database, StoreError
from truckflow.store.tables import metadata

__all__ = ["current_revision", "head_revision", "table_modules", "target_metadata", "upgrade"]

_MIGRATIONS = Path(__file__).with_name("migrations")
_ROOT_PACKAGE = "truckflow"


def table_modules() -> list[str]:
    """Every ``truckflow.<package>.tables`` module, found on disk rather than named here.

    The store is the lowest layer: it must not know the packages above it, yet Alembic has to
    see all their tables. Each package that owns tables declares them in its ``tables.py`` on
    the shared metadata; looking for those files keeps the store free of domain names.
    """
    root = importlib.import_module(_ROOT_PACKAGE)
    found: set[str] = set()
    for location in root.__path__:
        for info in pkgutil.iter_modules([location]):
            package = Path(location) / info.name
            if info.ispkg and (package / "tables.py").is_file():
                found.add(f"{_ROOT_PACKAGE}.{info.name}.tables")
    return sorted(found)


def target_metadata() -> sa.MetaData:
    for module in table_modules():
        importlib.import_module(module)
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
