"""The streaming simulation: the persisted clock and what each simulated day sends."""

from truckflow.streaming.clock import COURSE_FIRST_DAY, ClockState, StreamingClock
from truckflow.streaming.errors import StreamingError
from truckflow.streaming.sources import (
    STREAMING_FILES,
    DayBatch,
    StreamingSources,
    day_batch,
    forecast_window,
)

__all__ = [
    "COURSE_FIRST_DAY",
    "STREAMING_FILES",
    "ClockState",
    "DayBatch",
    "StreamingClock",
    "StreamingError",
    "StreamingSources",
    "day_batch",
    "forecast_window",
]
