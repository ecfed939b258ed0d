"""A small built-in pipeline, ``example``, for demos and tests: nothing domain-specific.

generate -> summarise -> check? --true--> report
                                --false-> too_small (fail)
generate -> slow (waits while the file ``hold`` exists, when given)
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from truckflow.pipeline.conditions import Condition
from truckflow.pipeline.context import StepContext
from truckflow.pipeline.definition import Pipeline
from truckflow.pipeline.params import Parameter
from truckflow.pipeline.refs import ref
from truckflow.pipeline.registry import register_pipeline
from truckflow.pipeline.steps import CachePolicy, ConditionStep, FailStep, RetryPolicy, step

__all__ = ["example_pipeline"]


@step
def generate(size: int, seed: int, context: StepContext) -> dict[str, Any]:
    """Random numbers, kept as an artifact; the reference is the output."""
    rng = random.Random(seed)
    values = [rng.randint(0, 100) for _ in range(size)]
    artifact = context.artifacts.put_bytes(",".join(map(str, values)).encode(), kind="csv")
    return {"numbers": artifact, "count": size}


@step(retry=RetryPolicy(max_attempts=2, interval_s=0.1))
def summarise(numbers: Any, context: StepContext) -> dict[str, Any]:
    text = context.artifacts.get_bytes(numbers).decode()
    values = [int(v) for v in text.split(",") if v]
    mean = sum(values) / len(values) if values else 0.0
    return {"stats": {"count": len(values), "mean": mean, "max": max(values, default=0)}}


@step
def report(stats: dict[str, Any], label: str) -> dict[str, Any]:
    return {"text": f"{label}: {stats['count']} values, mean {stats['mean']:.2f}"}


@step
def slow(hold: str, poll_s: float = 0.05) -> dict[str, Any]:
    """Waits while the file ``hold`` exists (tests use it to catch a run in the middle)."""
    waited = 0.0
    while hold and Path(hold).exists():
        time.sleep(poll_s)
        waited += poll_s
    return {"waited_s": round(waited, 2)}


def example_pipeline() -> Pipeline:
    size = Parameter("size", "int", default=20)
    seed = Parameter("seed", "int", default=7)
    min_count = Parameter("min_count", "int", default=5)
    label = Parameter("label", "string", default="example")
    hold = Parameter("hold", "string", default="")
    return Pipeline(
        "example",
        description="Generates numbers, summarises them, reports or fails on too few.",
        parameters=[size, seed, min_count, label, hold],
        cache=CachePolicy(enabled=True),
        steps=[
            generate.as_step(size=size, seed=seed),
            summarise.as_step(numbers=ref("generate")["numbers"]),
            slow.as_step(hold=hold, depends_on=["generate"], cache=False),
            ConditionStep(
                "check",
                Condition.ge(ref("summarise")["stats"]["count"], min_count),
                if_steps=[report.as_step(stats=ref("summarise")["stats"], label=label)],
                else_steps=[
                    FailStep(
                        "too_small",
                        "only {count} values, {min} needed",
                        count=ref("summarise")["stats"]["count"],
                        min=min_count,
                    )
                ],
            ),
        ],
    )


register_pipeline("example", example_pipeline)
