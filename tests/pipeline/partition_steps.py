"""Module-level partition functions and steps for the partition tests (Dask imports them)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from truckflow.pipeline import Parameter, Pipeline, StepContext, step


def square(x: int) -> tuple[int, int, int]:
    """x squared, with the process and thread it ran in; a little wait so that they overlap."""
    time.sleep(0.05)
    return x * x, os.getpid(), threading.get_ident()


def task_key(x: int) -> str | None:
    """The Dask task this partition runs as; None outside a Dask worker."""
    from distributed import get_worker

    try:
        return str(get_worker().get_current_task())
    except ValueError:
        return None


def explode_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x


@step
def squares(n: int, context: StepContext) -> dict[str, Any]:
    found = context.partitions.map(square, list(range(n)))
    return {
        "values": [v for v, _, _ in found],
        "pids": sorted({p for _, p, _ in found}),
        "threads": len({t for _, _, t in found}),
        "step_pid": os.getpid(),
        "width": context.partitions.width,
        "tasks": context.partitions.map(task_key, list(range(n))),
    }


@step
def exploding(n: int, context: StepContext) -> dict[str, Any]:
    return {"values": context.partitions.map(explode_on_three, list(range(n)))}


def partition_pipeline(fail: bool = False) -> Pipeline:
    n = Parameter("n", "integer", default=6)
    body = exploding if fail else squares
    return Pipeline("partitioned", parameters=[n], steps=[body.as_step(n=n)])
