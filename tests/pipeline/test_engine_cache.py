"""Caching: a hit reuses outputs; every miss says why."""

from __future__ import annotations

import importlib
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from engine_steps import add, read_text, store_text

from truckflow.pipeline import CachePolicy, LocalRunner, Parameter, Pipeline, ref


def _cached(name: str = "cached", **policy: object) -> Pipeline:
    x = Parameter("x", "int", default=1)
    return Pipeline(
        name,
        parameters=[x],
        cache=CachePolicy(**policy),  # type: ignore[arg-type]
        steps=[add.as_step("a", a=x, b=1), add.as_step("b", a=ref("a")["sum"], b=10)],
    )


def test_hit_reuses_outputs_and_says_so(runner: LocalRunner) -> None:
    first = runner.run(_cached())
    assert first.steps["a"].cache_reason == "no previous run"
    second = runner.run(_cached())
    assert second.outputs == first.outputs
    for name in ("a", "b"):
        assert second.steps[name].cache_hit
        assert second.steps[name].attempts == 0
        assert second.steps[name].cache_reason == f"hit: outputs of execution {first.execution_id}"


def test_changed_input_names_the_input_and_propagates(runner: LocalRunner) -> None:
    runner.run(_cached(), {"x": 1})
    result = runner.run(_cached(), {"x": 2})
    assert result.steps["a"].cache_reason == "changed input a"
    assert result.steps["b"].cache_reason == "changed input a"  # b's a is a's new sum
    assert not result.steps["a"].cache_hit


def test_disabled_cache_and_per_step_override(runner: LocalRunner) -> None:
    p = _cached(enabled=False)
    runner.run(p)
    assert runner.run(p).steps["a"].cache_reason == "disabled"
    x = Parameter("x", "int", default=1)
    mixed = Pipeline(
        "mixed",
        parameters=[x],
        cache=CachePolicy(),
        steps=[add.as_step("on", a=x, b=1), add.as_step("off", a=x, b=2, cache=False)],
    )
    runner.run(mixed)
    again = runner.run(mixed)
    assert again.steps["on"].cache_hit
    assert again.steps["off"].cache_reason == "disabled" and not again.steps["off"].cache_hit


def test_expired(runner: LocalRunner) -> None:
    p = _cached(expire_after=timedelta(0))
    runner.run(p)
    result = runner.run(p)
    assert result.steps["a"].cache_reason is not None
    assert result.steps["a"].cache_reason.startswith("expired")
    fresh = _cached(expire_after=timedelta(hours=1))
    assert runner.run(fresh).steps["a"].cache_hit  # the same key, younger than an hour


def test_new_code(runner: LocalRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "changing_steps.py"
    source = """
        from truckflow.pipeline import step

        @step
        def compute(n: int) -> dict:
            return {"value": n * 2}
    """
    module.write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    steps = importlib.import_module("changing_steps")

    def pipeline() -> Pipeline:
        return Pipeline("code", cache=CachePolicy(), steps=[steps.compute.as_step(n=3)])

    assert runner.run(pipeline()).outputs["compute"] == {"value": 6}
    assert runner.run(pipeline()).steps["compute"].cache_hit
    module.write_text(textwrap.dedent(source.replace("n * 2", "n * 2 + 100")))
    steps = importlib.reload(steps)
    result = runner.run(pipeline())
    assert result.steps["compute"].cache_reason == "new code"
    assert result.outputs["compute"] == {"value": 106}
    sys.modules.pop("changing_steps", None)


def test_artifact_content_is_part_of_the_key(runner: LocalRunner) -> None:
    text = Parameter("text", "string", default="one")

    def pipeline() -> Pipeline:
        return Pipeline(
            "artifacts",
            parameters=[text],
            cache=CachePolicy(),
            steps=[
                store_text.as_step("store", text=text, cache=False),
                read_text.as_step("read", document=ref("store")["ref"]),
            ],
        )

    runner.run(pipeline(), {"text": "one"})
    same = runner.run(pipeline(), {"text": "one"})
    assert same.steps["read"].cache_hit  # the store step ran again; same bytes, same hash
    other = runner.run(pipeline(), {"text": "two"})
    assert other.steps["read"].cache_reason == "changed input document (artifact changed)"
    assert other.outputs["read"] == {"text": "two"}


def test_cache_is_per_pipeline(runner: LocalRunner) -> None:
    runner.run(_cached("one"))
    assert runner.run(_cached("two")).steps["a"].cache_reason == "no previous run"
