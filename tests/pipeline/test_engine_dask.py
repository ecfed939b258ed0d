"""The Dask runner on a real LocalCluster with two worker processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import outputs_without
from distributed import LocalCluster
from engine_steps import arithmetic_pipeline, failing_pipeline, flaky

from truckflow.pipeline import DaskRunner, LocalRunner, Pipeline, RetryPolicy, get_pipeline
from truckflow.settings import Settings
from truckflow.store import Database


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


@pytest.fixture
def dask_runner(cluster: LocalCluster, settings: Settings, db: Database) -> Iterator[DaskRunner]:
    with DaskRunner(settings, db=db, address=cluster.scheduler_address) as r:
        yield r  # type: ignore[misc]


def test_same_outputs_as_the_local_runner(dask_runner: DaskRunner, settings: Settings, db: Database) -> None:
    for params in ({"a": 2.0, "limit": 100.0}, {"a": 2.0, "limit": 1.0}):
        remote = dask_runner.run(arithmetic_pipeline(), params)
        with LocalRunner(settings, db=db) as local_runner:
            local = local_runner.run(arithmetic_pipeline(), params)
        assert remote.ok and local.ok
        assert outputs_without(remote.outputs, "where", "stored") == outputs_without(local.outputs, "where", "stored")
        assert remote.outputs["stored"]["ref"] == local.outputs["stored"]["ref"]
        assert remote.outputs["where"]["pid"] != os.getpid()  # ran in a worker process
        assert remote.steps.keys() == local.steps.keys()
        assert {n: s.status for n, s in remote.steps.items()} == {n: s.status for n, s in local.steps.items()}


def test_example_pipeline_with_artifacts_caching_and_failure(dask_runner: DaskRunner, tmp_path: Path) -> None:
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
    p = Pipeline("retry", steps=[flaky.as_step(counter=str(tmp_path / "n"), fail_times=2, retry=policy)])
    result = dask_runner.run(p)
    assert result.ok and result.steps["flaky"].attempts == 3


def test_starts_its_own_local_cluster_when_given_no_address(settings: Settings, db: Database) -> None:
    with DaskRunner(settings, db=db, n_workers=1) as r:
        result = r.run(Pipeline("solo", steps=[arithmetic_pipeline().steps["where"]]))
        assert result.ok and result.outputs["where"]["pid"] != os.getpid()
        assert len(r.client.scheduler_info()["workers"]) == 1
