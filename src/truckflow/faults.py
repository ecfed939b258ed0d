"""Named fault-injection points: where the fault suite (tests/faults) crashes or holds a process.

The code calls ``fault_point("day.after_ingest")`` at a few places that matter for recovery. The
environment variable ``TRUCKFLOW_FAULT_POINT`` names at most one of them and what happens there:

- ``<point>``: the process kills itself with SIGKILL when it gets there (as kill -9: no cleanup,
  no ``finally``, no record written), every time it gets there;
- ``<point>:pause=<file>``: it waits there while ``<file>`` exists, so that a test can act on
  it meanwhile (kill it, cut its database, start a second process).

Unset (the default, and always outside the tests), a point costs one environment lookup. An
unknown point named in the variable fails the first point reached, so that a typo in a test
cannot pass as a run that was never crashed.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

__all__ = ["ENV", "POINTS", "FaultPointError", "fault_point"]

ENV = "TRUCKFLOW_FAULT_POINT"

POINTS = {
    "day.after_ingest": "a streaming day's rows committed, before the day's ground truth",
    "day.after_features": "a streaming day's features stored, before its predictions",
    "day.after_predictions": "a streaming day's predictions stored, before its labels, "
    "metrics and day record",
    "training.after_load": "the training window read and stored as an artifact",
    "training.after_candidates": "the candidates trained and the best one chosen",
    "registration.version_created": "the MLflow model version created, none of its tags set",
    "training.after_register": "the version registered with its tags, the step not yet recorded",
}


class FaultPointError(ValueError):
    """``TRUCKFLOW_FAULT_POINT`` names no known point or has a malformed action."""


def fault_point(name: str) -> None:
    """Crash or hold here when ``TRUCKFLOW_FAULT_POINT`` names this point; nothing otherwise."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, action = spec.partition(":")
    if point not in POINTS or name not in POINTS:
        raise FaultPointError(f"{ENV}={spec!r}: known points are {', '.join(sorted(POINTS))}")
    if point != name:
        return
    if not action:
        os.kill(os.getpid(), signal.SIGKILL)
    elif action.startswith("pause="):
        pause = Path(action.removeprefix("pause="))
        while pause.exists():
            time.sleep(0.05)
    else:
        raise FaultPointError(f"{ENV}={spec!r}: the action is 'pause=<file>' or none (kill)")
