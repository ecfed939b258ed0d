"""The operational database: engine set-up, schema, and migrations."""

from truckflow.store.database import Database, SchemaMissingError, StoreError, connect
from truckflow.store.tables import metadata

__all__ = ["Database", "SchemaMissingError", "StoreError", "connect", "metadata"]
