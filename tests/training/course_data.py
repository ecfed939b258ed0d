"""Where the training tests find the course sample, and the split bounds they use on it."""

from __future__ import annotations

from pathlib import Path

COURSE_SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "course_sample"
TRAIN_END = "2019-01-03"
VALIDATION_END = "2019-01-07 13:00"
