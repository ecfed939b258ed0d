"""Validated, quarantining, idempotent ingestion of course-format rows into the database."""

from truckflow.data.ingest.labels import apply_ground_truth
from truckflow.data.ingest.records import QuarantinedRow, list_quarantine
from truckflow.data.ingest.report import IngestReport, SourceReport, TableCounts
from truckflow.data.ingest.run import Progress, course_files, ingest_directory, ingest_frames

__all__ = [
    "IngestReport",
    "Progress",
    "QuarantinedRow",
    "SourceReport",
    "TableCounts",
    "apply_ground_truth",
    "course_files",
    "ingest_directory",
    "ingest_frames",
    "list_quarantine",
]
