"""What an execution that ran to its end means: a pipeline's own outcome, beside the engine's
status.

The engine's status says whether the steps ran (``succeeded``) or crashed (``failed``). For a
pipeline whose steps decide something (a release that waits for approval, or that acceptance
refused), that status alone reads as a success. Such a pipeline names an ``outcome`` function:
it reads the steps' outputs and returns an ``Outcome``, which the engine records with the
execution and whose event replaces the plain ``pipeline.succeeded`` notice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from truckflow.events import Event

__all__ = ["Outcome", "OutcomeFunction"]


@dataclass(frozen=True)
class Outcome:
    """``status`` names the outcome (``pending_approval``); ``summary`` says it in a line;
    ``event`` tells it (None when a step already emitted the event that tells it)."""

    status: str
    summary: str = ""
    event: Event | None = None


# (outputs of each step that ran, execution id) -> the outcome, or None for a plain success.
OutcomeFunction = Callable[[Mapping[str, Mapping[str, Any]], str], Outcome | None]
