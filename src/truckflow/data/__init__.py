"""Course-format data: the file format, its ingestion, and a synthetic world generator."""

from truckflow.data.errors import IngestError

__all__ = ["IngestError"]
