"""Course-format data: the file format, and its validated, quarantining ingestion."""

from truckflow.data.errors import IngestError

__all__ = ["IngestError"]
