"""``truckflow demo``: the whole loop on the embedded default, from an empty home.

generate (or the user's course files) -> ingest the historical window -> features -> training
pipeline -> release to production -> replay the streaming days -> summary and HTML report.
"""

from truckflow.demo.model import (
    DailyPoint,
    DemoError,
    DemoOptions,
    DemoProgress,
    DemoSummary,
    DriftWeek,
    ModelServing,
    StageOutcome,
)
from truckflow.demo.run import STAGES, run_demo

__all__ = [
    "STAGES",
    "DailyPoint",
    "DemoError",
    "DemoOptions",
    "DemoProgress",
    "DemoSummary",
    "DriftWeek",
    "ModelServing",
    "StageOutcome",
    "run_demo",
]
