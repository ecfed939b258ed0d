"""The fault-injection points: nothing when unset, a typo refused, a pause held while its file
exists (their kill -9 is what the fault suite, tests/faults, runs)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from truckflow.faults import ENV, FaultPointError, fault_point

pytestmark = pytest.mark.fault


def test_unset_or_another_point_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    fault_point("day.after_ingest")
    monkeypatch.setenv(ENV, "training.after_load")
    fault_point("day.after_ingest")  # still alive: the variable names another point


def test_an_unknown_point_or_action_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "day.after_ingset")
    with pytest.raises(FaultPointError, match=re.escape("known points are day.after_features")):
        fault_point("day.after_ingest")
    monkeypatch.setenv(ENV, "day.after_ingest:sleep")
    with pytest.raises(FaultPointError, match=re.escape("pause=<file>")):
        fault_point("day.after_ingest")


def test_a_pause_holds_while_its_file_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pause = tmp_path / "pause"
    pause.touch()
    monkeypatch.setenv(ENV, f"day.after_ingest:pause={pause}")
    held = threading.Thread(target=fault_point, args=("day.after_ingest",))
    held.start()
    time.sleep(0.3)
    assert held.is_alive()
    pause.unlink()
    held.join(timeout=5)
    assert not held.is_alive()
