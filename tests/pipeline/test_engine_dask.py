"""The Dask runner on a real LocalCluster with two worker processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import dask_runner_on, local_runner, outputs_without
from engine_steps import (
    arithmetic_pipeline,
    failing_pipeline,
    flaky,
    freed_memory_pipeline,
    resident_mb,
)

from truckflow.allocator import ARENA_ENV, ARENA_MAX
from truckflow.pipeline import DaskRunner, Pipeline, RetryPolicy, get_pipeline
from truckflow.settings import Settings
from truckflow.store import connect
from truckflow.store.migrate import upgrade


@pytest.fixture(scope="module")
def dask_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("dask") / "home")


@pytest.fixture(scope="module")
def dask_runner(dask_settings: Settings) -> Iterator[DaskRunner]:
    """Given no address, the runner starts its own LocalCluster: two worker processes (slow to
    start, hence one per module)."""
    settings = dask_settings
    db = connect(settings)
    upgrade(db)
    with dask_runner_on(settings, db, n_workers=2) as runner:
        yield runner  # type: ignore[misc]
    db.dispose()


def test_runs_on_its_own_cluster_of_two_worker_processes(dask_runner: DaskRunner) -> None:
    workers = dask_runner.client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert dask_runner.client.cluster is not None  # the LocalCluster it started


def _arena_setting() -> str | None:
    return os.environ.get(ARENA_ENV)


def test_its_workers_start_with_glibc_arenas_limited(dask_runner: DaskRunner) -> None:
    """Set by the nannies before the worker processes start, when glibc reads it."""
    found = dask_runner.client.run(_arena_setting)
    assert list(found.values()) == [str(ARENA_MAX)] * 2


def test_a_worker_gives_what_a_step_freed_back_when_the_step_ends(
    dask_runner: DaskRunner,
) -> None:
    result = dask_runner.run(freed_memory_pipeline(), {})
    assert result.ok, result.error
    step = result.outputs["leave"]
    pids, now = dask_runner.client.run(os.getpid), dask_runner.client.run(resident_mb)
    (after,) = [mb for address, mb in now.items() if pids[address] == step["pid"]]
    assert after < step["resident_mb"] - 100  # most of the 200 MB freed back to the system


def test_same_outputs_as_the_local_runner(dask_runner: DaskRunner, dask_settings: Settings) -> None:
    settings, db = dask_settings, dask_runner.db
    for params in ({"a": 2.0, "limit": 100.0}, {"a": 2.0, "limit": 1.0}):
        remote = dask_runner.run(arithmetic_pipeline(), params)
        with local_runner(settings, db) as local:
            local_result = local.run(arithmetic_pipeline(), params)
        assert remote.ok and local_result.ok
        assert outputs_without(remote.outputs, "where", "stored") == outputs_without(
            local_result.outputs, "where", "stored"
        )
        assert remote.outputs["stored"]["ref"] == local_result.outputs["stored"]["ref"]
        assert remote.outputs["where"]["pid"] != os.getpid()  # ran in a worker process
        assert remote.steps.keys() == local_result.steps.keys()
        assert {n: s.status for n, s in remote.steps.items()} == {
            n: s.status for n, s in local_result.steps.items()
        }


def test_example_pipeline_with_artifacts_caching_and_failure(
    dask_runner: DaskRunner, tmp_path: Path
) -> None:
    first = dask_runner.run(get_pipeline("example"), {"size": 9})
    assert first.ok, first.error
    assert first.outputs["summarise"]["stats"]["count"] == 9
    again = dask_runner.run(get_pipeline("example"), {"size": 9})
    assert again.steps["summarise"].cache_hit
    failed = dask_runner.run(failing_pipeline(str(tmp_path / "gate")))
    assert failed.status == "failed" and "RuntimeError" in (failed.steps["gated"].error or "")
    (tmp_path / "gate").touch()
    assert dask_runner.resume(failing_pipeline(str(tmp_path / "gate")), failed.execution_id).ok


def test_retries_on_workers(dask_runner: DaskRunner, tmp_path: Path) -> None:
    policy = RetryPolicy(max_attempts=3, interval_s=0.05, exceptions=(ConnectionError,))
    p = Pipeline(
        "retry", steps=[flaky.as_step(counter=str(tmp_path / "n"), fail_times=2, retry=policy)]
    )
    result = dask_runner.run(p)
    assert result.ok and result.steps["flaky"].attempts == 3


def test_connects_to_a_scheduler_address(
    dask_runner: DaskRunner, dask_settings: Settings, tmp_path: Path
) -> None:
    address = dask_runner.client.scheduler.address
    with dask_runner_on(dask_settings, dask_runner.db, address=address) as other:
        result = other.run(Pipeline("solo", steps=[arithmetic_pipeline().steps["where"]]))
        assert other._cluster is None  # it started no cluster of its own
    assert result.ok and result.outputs["where"]["pid"] != os.getpid()
