"""Module-level step functions for the engine's tests (runners import steps by name)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from truckflow.pipeline import (
    Condition,
    ConditionStep,
    FailStep,
    Parameter,
    Pipeline,
    StepContext,
    ref,
    step,
)

_lock = threading.Lock()
_active = 0
peak = 0


def reset_peak() -> None:
    global peak, _active
    with _lock:
        peak = _active = 0


@step
def probe(i: int, hold_s: float = 0.1) -> dict[str, Any]:
    """Counts how many probes run at the same time (threads of one process)."""
    global _active, peak
    with _lock:
        _active += 1
        peak = max(peak, _active)
    time.sleep(hold_s)
    with _lock:
        _active -= 1
    return {"i": i}


@step
def add(a: float, b: float) -> dict[str, Any]:
    return {"sum": a + b}


@step
def scale(values: list[float], factor: float) -> dict[str, Any]:
    return {"values": [v * factor for v in values], "total": sum(v * factor for v in values)}


@step
def noop() -> dict[str, Any]:
    return {}


@step
def chain(previous: Any = None) -> dict[str, Any]:
    return {"n": 0 if previous is None else previous + 1}


@step
def where() -> dict[str, Any]:
    return {"pid": os.getpid()}


@step
def store_text(text: str, context: StepContext) -> dict[str, Any]:
    return {"ref": context.artifacts.put_bytes(text.encode()), "execution": context.execution_id}


@step
def read_text(document: Any, context: StepContext) -> dict[str, Any]:
    return {"text": context.artifacts.get_bytes(document).decode()}


@step
def flaky(counter: str, fail_times: int, error: str = "connection") -> dict[str, Any]:
    """Fails its first ``fail_times`` calls (counted in a file, so any process may run it)."""
    path = Path(counter)
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    if calls <= fail_times:
        if error == "connection":
            raise ConnectionError(f"call {calls} failed")
        raise ValueError(f"call {calls} failed")
    return {"calls": calls}


@step
def wait_for(gate: str, max_s: float = 30.0) -> dict[str, Any]:
    """Returns once the file ``gate`` exists (or after ``max_s``)."""
    deadline = time.monotonic() + max_s
    while not Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return {"released": Path(gate).exists()}


@step
def fail_unless(gate: str) -> dict[str, Any]:
    if not Path(gate).exists():
        raise RuntimeError(f"gate {gate} is closed")
    return {"ok": True}


def arithmetic_pipeline() -> Pipeline:
    """Arithmetic, a nested reference, a condition with both branches, an artifact; no cache."""
    a = Parameter("a", "float", default=2.0)
    limit = Parameter("limit", "float", default=10.0)
    return Pipeline(
        "arithmetic",
        parameters=[a, limit],
        steps=[
            add.as_step("first", a=a, b=3),
            scale.as_step("scaled", values=[ref("first")["sum"], 1.5, a], factor=2),
            store_text.as_step("stored", text="hello", depends_on=["first"]),
            read_text.as_step("read", document=ref("stored")["ref"]),
            ConditionStep(
                "small",
                Condition.lt(ref("scaled")["total"], limit) | Condition.in_(a, [0.0, 1.0]),
                if_steps=[add.as_step("bonus", a=ref("scaled")["values"][0], b=100)],
                else_steps=[add.as_step("penalty", a=ref("scaled")["total"], b=-1)],
            ),
            where.as_step("where"),
        ],
    )


def failing_pipeline(gate: str) -> Pipeline:
    """first -> gated (fails while the gate file is missing) -> last; side -> nothing."""
    return Pipeline(
        "gated",
        steps=[
            add.as_step("first", a=1, b=2),
            add.as_step("side", a=10, b=20),
            fail_unless.as_step("gated", gate=gate, depends_on=["first"]),
            add.as_step("last", a=ref("first")["sum"], b=1, depends_on=["gated"]),
        ],
    )


def fail_step_pipeline() -> Pipeline:
    x = Parameter("x", "int", default=1)
    return Pipeline(
        "failer",
        parameters=[x],
        steps=[
            add.as_step("one", a=x, b=0),
            ConditionStep(
                "positive",
                Condition.gt(ref("one")["sum"], 0),
                else_steps=[FailStep("negative", "x was {x}, sum {s}", x=x, s=ref("one")["sum"])],
            ),
        ],
    )


@step
def not_a_dict() -> Any:
    return [1, 2]


@step
def report_database(context: StepContext) -> dict[str, Any]:
    return {"db_url": context.resources.db_url, "work_dir": str(context.work_dir)}


_pinned: list[bytes] = []


def resident_mb() -> int:
    """This process's resident memory, in MB."""
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


@step
def leave_freed_memory() -> dict[str, Any]:
    """Allocate 200 MB in small blocks and free all but one in a hundred: the freed blocks stay
    in the process's heap (the kept ones pin it) until someone gives them back."""
    blocks = [bytes(2048) for _ in range(100_000)]
    _pinned.extend(blocks[99::100])
    del blocks
    return {"pid": os.getpid(), "resident_mb": resident_mb()}


def freed_memory_pipeline() -> Pipeline:
    return Pipeline("freed", steps=[leave_freed_memory.as_step("leave", cache=False)])
