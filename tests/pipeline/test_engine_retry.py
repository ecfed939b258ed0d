"""Retry policy (attempts, backoff, which errors) and per-step timeouts."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

from engine_helpers import RecordingSink
from engine_steps import flaky, wait_for

from truckflow.pipeline import LocalRunner, Pipeline, RetryPolicy


def _gaps(log: list[dict[str, str]]) -> list[float]:
    """Seconds between the end of each attempt and the start of the next."""
    return [
        (
            datetime.fromisoformat(b["started_at"]) - datetime.fromisoformat(a["finished_at"])
        ).total_seconds()
        for a, b in itertools.pairwise(log)
    ]


def test_retries_until_success_with_backoff(
    runner: LocalRunner, sink: RecordingSink, tmp_path: Path
) -> None:
    policy = RetryPolicy(
        max_attempts=4, interval_s=0.1, backoff_rate=3.0, exceptions=(ConnectionError,)
    )
    p = Pipeline(
        "retry", steps=[flaky.as_step(counter=str(tmp_path / "n"), fail_times=2, retry=policy)]
    )
    result = runner.run(p)
    assert result.ok
    s = result.steps["flaky"]
    assert s.attempts == 3
    assert result.outputs["flaky"] == {"calls": 3}
    assert [entry["attempt"] for entry in s.attempt_log] == [1, 2, 3]
    assert s.attempt_log[0]["error"] == "ConnectionError: call 1 failed"
    assert s.attempt_log[2]["error"] is None
    first_gap, second_gap = _gaps(s.attempt_log)
    assert first_gap >= 0.1  # interval_s
    assert second_gap >= 0.3  # interval_s * backoff_rate
    retried = sink.of("step.retried")
    assert [e.body["attempt"] for e in retried] == [2, 3]


def test_gives_up_after_max_attempts(runner: LocalRunner, tmp_path: Path) -> None:
    policy = RetryPolicy(max_attempts=2, interval_s=0.01, exceptions=(ConnectionError,))
    p = Pipeline(
        "retry", steps=[flaky.as_step(counter=str(tmp_path / "n"), fail_times=5, retry=policy)]
    )
    result = runner.run(p)
    assert result.status == "failed"
    assert result.steps["flaky"].attempts == 2
    assert result.steps["flaky"].error == "ConnectionError: call 2 failed"
    assert (tmp_path / "n").read_text() == "2"


def test_errors_outside_the_filter_are_not_retried(runner: LocalRunner, tmp_path: Path) -> None:
    policy = RetryPolicy(max_attempts=5, interval_s=0.01, exceptions=(ConnectionError,))
    step = flaky.as_step(counter=str(tmp_path / "n"), fail_times=3, error="value", retry=policy)
    result = runner.run(Pipeline("retry", steps=[step]))
    assert result.status == "failed"
    assert result.steps["flaky"].attempts == 1
    assert result.steps["flaky"].error == "ValueError: call 1 failed"


def test_no_policy_means_one_attempt(runner: LocalRunner, tmp_path: Path) -> None:
    result = runner.run(
        Pipeline("retry", steps=[flaky.as_step(counter=str(tmp_path / "n"), fail_times=1)])
    )
    assert result.steps["flaky"].attempts == 1 and result.status == "failed"


def test_timeout_fails_the_step(runner: LocalRunner, sink: RecordingSink, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    step = wait_for.as_step(gate=str(gate), max_s=20, timeout_s=0.3)
    try:
        result = runner.run(Pipeline("slow", steps=[step]))
    finally:
        gate.touch()  # lets the abandoned thread finish
    assert result.status == "failed"
    assert result.steps["wait_for"].error == "step 'wait_for' timed out after 0.3s"
    assert result.steps["wait_for"].attempts == 1
    assert sink.of("step.failed")[0].body["step"] == "wait_for"


def test_timeout_can_be_retried(runner: LocalRunner, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    policy = RetryPolicy(max_attempts=2, interval_s=0.0)
    step = wait_for.as_step(gate=str(gate), max_s=20, timeout_s=0.2, retry=policy)
    try:
        result = runner.run(Pipeline("slow", steps=[step]))
    finally:
        gate.touch()
    assert result.steps["wait_for"].attempts == 2
    assert all("timed out" in entry["error"] for entry in result.steps["wait_for"].attempt_log)
