"""Step caching: the key, the lookup, and the reason for every miss.

The key hashes the step function's code, each resolved input, and the sha256 of every artifact
reference among the inputs. A hit is the latest computed (not itself reused) success of the same
step in the same pipeline with the same key, younger than the policy's expiry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.pipeline.artifacts import ArtifactRef, is_artifact_ref
from truckflow.pipeline.records import ExecutionStatus
from truckflow.pipeline.steps import CachePolicy, FunctionStep
from truckflow.pipeline.tables import pipeline_executions, step_executions
from truckflow.store import Database

__all__ = ["CacheDecision", "CacheKey", "cache_key", "canonical_json", "lookup"]


def _default(value: Any) -> Any:
    if isinstance(value, ArtifactRef):
        return value.to_json()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _artifacts(value: Any) -> Iterator[str]:
    if isinstance(value, ArtifactRef):
        yield value.sha256
    elif is_artifact_ref(value):
        yield str(value["sha256"])
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _artifacts(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _artifacts(v)


@dataclass(frozen=True)
class CacheKey:
    key: str
    code_hash: str
    input_hashes: dict[str, Any]


def cache_key(step: FunctionStep, inputs: Mapping[str, Any]) -> CacheKey:
    hashes = {name: _sha(canonical_json(value)) for name, value in inputs.items()}
    artifacts = {name: sorted(_artifacts(v)) for name, v in inputs.items()}
    facts = {"inputs": hashes, "artifacts": {k: v for k, v in artifacts.items() if v}}
    key = _sha(canonical_json({"function": step.path, "code": step.code_hash, **facts}))
    return CacheKey(key, step.code_hash, facts)


@dataclass(frozen=True)
class CacheDecision:
    hit: bool
    reason: str
    outputs: dict[str, Any] | None = None
    source_execution_id: str | None = None


def _computed(pipeline: str, step: str) -> sa.Select[Any]:
    return (
        sa.select(step_executions, pipeline_executions.c.id.label("source_id"))
        .join(pipeline_executions, pipeline_executions.c.id == step_executions.c.execution_id)
        .where(
            pipeline_executions.c.pipeline == pipeline,
            step_executions.c.step == step,
            step_executions.c.status == ExecutionStatus.SUCCEEDED,
            step_executions.c.cache_hit == sa.false(),
            step_executions.c.reused_from.is_(None),
            step_executions.c.cache_key.is_not(None),
        )
        .order_by(step_executions.c.finished_at.desc(), step_executions.c.id.desc())
        .limit(1)
    )


def lookup(
    db: Database, pipeline: str, step: str, key: CacheKey, policy: CachePolicy
) -> CacheDecision:
    if not policy.enabled:
        return CacheDecision(False, "disabled")
    with db.engine.connect() as conn:
        same = conn.execute(
            _computed(pipeline, step).where(step_executions.c.cache_key == key.key)
        ).first()
        if same is not None:
            age = utcnow() - same.finished_at
            if policy.expire_after is not None and age > policy.expire_after:
                return CacheDecision(False, f"expired (computed {age.total_seconds():.0f}s ago)")
            return CacheDecision(
                True, f"hit: outputs of execution {same.source_id}", same.outputs, same.source_id
            )
        previous = conn.execute(_computed(pipeline, step)).first()
    if previous is None:
        return CacheDecision(False, "no previous run")
    return CacheDecision(False, _difference(previous.code_hash, previous.input_hashes or {}, key))


def _difference(code_hash: str | None, before: Mapping[str, Any], key: CacheKey) -> str:
    reasons = []
    if code_hash != key.code_hash:
        reasons.append("new code")
    old_inputs, new_inputs = before.get("inputs", {}), key.input_hashes["inputs"]
    old_art, new_art = before.get("artifacts", {}), key.input_hashes["artifacts"]
    for name in sorted(set(old_inputs) | set(new_inputs)):
        if old_inputs.get(name) != new_inputs.get(name):
            detail = " (artifact changed)" if old_art.get(name) != new_art.get(name) else ""
            reasons.append(f"changed input {name}{detail}")
    return ", ".join(reasons) or "new function"
