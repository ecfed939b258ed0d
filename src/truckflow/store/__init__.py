"""The operational database: engine set-up, schema, and migrations."""

from truckflow.store.database import Database, StoreError, connect
from truckflow.store.schema import metadata

__all__ = ["Database", "StoreError", "connect", "metadata"]
