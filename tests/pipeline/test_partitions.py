"""Data-parallel steps: ``context.partitions`` maps over partitions as tasks of the runner:
serial without one, threads on the local runner, Dask tasks on a LocalCluster."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from engine_helpers import dask_runner_on, local_runner
from partition_steps import explode_on_three, partition_pipeline, square

from truckflow.pipeline import (
    SERIAL,
    DaskRunner,
    Limits,
    PartitionError,
    ThreadPartitions,
)
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade


def test_serial_and_threads_keep_the_order_and_name_a_failed_partition() -> None:
    items = list(range(8))
    expected = [x * x for x in items]
    assert [v for v, _, _ in SERIAL.map(square, items)] == expected
    threaded = ThreadPartitions(4).map(square, items)
    assert [v for v, _, _ in threaded] == expected
    assert len({t for _, _, t in threaded}) > 1
    for partitions in (SERIAL, ThreadPartitions(3)):
        with pytest.raises(PartitionError, match=r"partition 4 of 6 \(3\) failed: ValueError"):
            partitions.map(explode_on_three, list(range(6)))


def test_the_local_runner_runs_partitions_one_after_another_by_default(
    settings: Settings, db: Database
) -> None:
    with local_runner(settings, db) as runner:
        result = runner.run(partition_pipeline(), {"n": 4})
    assert result.ok
    out = result.outputs["squares"]
    assert out["values"] == [0, 1, 4, 9]
    assert out["threads"] == 1 and out["width"] == 1


def test_the_local_runner_maps_on_threads_bounded_by_partition_threads(
    settings: Settings, db: Database
) -> None:
    with local_runner(settings, db, limits=Limits(partition_threads=2)) as runner:
        result = runner.run(partition_pipeline(), {"n": 6})
        failed = runner.run(partition_pipeline(fail=True), {"n": 5})
    assert result.ok
    out = result.outputs["squares"]
    assert out["values"] == [x * x for x in range(6)]
    assert out["pids"] == [os.getpid()] and out["threads"] == 2
    assert out["tasks"] == [None] * 6 and out["width"] == 2
    assert not failed.ok
    error = failed.steps["exploding"].error or ""
    assert "PartitionError" in error and "partition 4 of 5 (3)" in error
    assert "three is not allowed" in error


@pytest.fixture(scope="module")
def dask_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskRunner]:
    settings = Settings(home=tmp_path_factory.mktemp("dask-partitions") / "home")
    db = connect(settings)
    upgrade(db)
    with dask_runner_on(settings, db, n_workers=2) as runner:
        yield runner  # type: ignore[misc]
    db.dispose()


def test_on_dask_partitions_are_cluster_tasks_and_a_failure_names_its_partition(
    dask_runner: DaskRunner,
) -> None:
    result = dask_runner.run(partition_pipeline(), {"n": 6})
    assert result.ok, result.steps["squares"].error
    out = result.outputs["squares"]
    assert out["values"] == [x * x for x in range(6)]
    # On worker processes, not here; the step's worker waited for them without holding its
    # only thread (one thread per worker: otherwise this would deadlock or run serially).
    assert os.getpid() not in out["pids"] and out["step_pid"] != os.getpid()
    assert out["width"] == 2  # two workers of one thread
    assert [k.rsplit("-", 1)[0].startswith("truckflow-task_key-") for k in out["tasks"]] == [
        True
    ] * 6
    failed = dask_runner.run(partition_pipeline(fail=True), {"n": 5})
    assert not failed.ok
    error = failed.steps["exploding"].error or ""
    assert "partition 4 of 5 (3)" in error and "three is not allowed" in error
