"""The streaming boundary: a setting, shown by ``stream status`` with where it came from."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.driver import stream_status
from truckflow.settings import Settings


def test_status_shows_a_boundary_that_was_set_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(The default's status, "default", is asserted on a replayed world in
    tests/pipelines/test_streaming_quirks.py.)"""
    monkeypatch.delenv("TRUCKFLOW_STREAMING__DATA", raising=False)
    monkeypatch.setenv("TRUCKFLOW_STREAMING__BOUNDARY", "2019-02-12")
    with Runtime.open(Settings(home=tmp_path / "home")) as runtime:
        status = stream_status(runtime).to_dict()
    assert status["boundary"] == dt.date(2019, 2, 12).isoformat()
    assert status["boundary_origin"].startswith("set (TRUCKFLOW_STREAMING__BOUNDARY")
    assert status["first_day"] is None  # no streaming files known yet
