"""The coordinator's bookkeeping of one step attempt, and of outputs reused from an earlier
execution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from truckflow.pipeline.cache import CacheKey
from truckflow.pipeline.steps import FunctionStep

__all__ = ["Reused", "Running", "key_values"]


@dataclass(frozen=True)
class Reused:
    """Outputs taken from an earlier execution (resume, selective execution)."""

    outputs: dict[str, Any]
    source_execution_id: str


@dataclass
class Running:
    step: FunctionStep
    inputs: dict[str, Any]
    attempt: int
    started: str
    deadline: float | None
    key: CacheKey | None
    log: list[dict[str, Any]] = field(default_factory=list)


def key_values(key: CacheKey | None) -> dict[str, Any]:
    if key is None:
        return {}
    return {"cache_key": key.key, "code_hash": key.code_hash, "input_hashes": key.input_hashes}
