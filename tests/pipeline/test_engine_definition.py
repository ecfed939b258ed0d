"""Definitions: validation errors at definition time, stable JSON and hash, Mermaid, parameters."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from engine_steps import add, arithmetic_pipeline, chain, noop

from truckflow.errors import TruckflowError
from truckflow.pipeline import (
    CachePolicy,
    Condition,
    ConditionStep,
    DefinitionError,
    FailStep,
    Parameter,
    ParameterError,
    Pipeline,
    PipelineError,
    RetryPolicy,
    get_pipeline,
    ref,
    step,
)


def test_errors_share_one_base() -> None:
    assert issubclass(DefinitionError, PipelineError)
    assert issubclass(ParameterError, PipelineError)
    assert issubclass(PipelineError, TruckflowError)


def test_cycle_is_rejected_with_the_cycle_named() -> None:
    with pytest.raises(DefinitionError, match=r"cycle: .*(a -> b|b -> a)"):
        Pipeline(
            "p",
            steps=[
                chain.as_step("a", previous=ref("b")["n"]),
                chain.as_step("b", previous=ref("a")["n"]),
            ],
        )


def test_explicit_depends_on_cycle_is_rejected() -> None:
    with pytest.raises(DefinitionError, match="cycle"):
        Pipeline(
            "p", steps=[noop.as_step("a", depends_on=["b"]), noop.as_step("b", depends_on=["a"])]
        )


def test_unknown_step_reference_is_rejected() -> None:
    with pytest.raises(DefinitionError, match="step 'b' refers to unknown step 'nope'"):
        Pipeline("p", steps=[noop.as_step("a"), chain.as_step("b", previous=ref("nope")["n"])])


def test_unknown_depends_on_is_rejected() -> None:
    with pytest.raises(DefinitionError, match="unknown step 'ghost'"):
        Pipeline("p", steps=[noop.as_step("a", depends_on=["ghost"])])


def test_duplicate_step_names_are_rejected() -> None:
    with pytest.raises(DefinitionError, match="duplicate step name 'a'"):
        Pipeline("p", steps=[noop.as_step("a"), noop.as_step("a")])


def test_duplicate_name_inside_a_branch_is_rejected() -> None:
    cond = ConditionStep("c", Condition.eq(1, 1), if_steps=[noop.as_step("a")])
    with pytest.raises(DefinitionError, match="duplicate step name 'a'"):
        Pipeline("p", steps=[noop.as_step("a"), cond])


def test_parameter_default_of_wrong_type_is_rejected() -> None:
    with pytest.raises(ParameterError, match="default of parameter 'rows': expected int, got str"):
        Parameter("rows", "int", default="many")
    with pytest.raises(ParameterError, match="expected int, got bool"):
        Parameter("rows", int, default=True)
    with pytest.raises(ParameterError, match="unknown parameter type"):
        Parameter("rows", "complex")


def test_undeclared_parameter_is_rejected() -> None:
    rows = Parameter("rows", "int", default=1)
    with pytest.raises(
        DefinitionError, match="uses parameter 'rows', which the pipeline does not declare"
    ):
        Pipeline("p", steps=[add.as_step("a", a=rows, b=1)])


def test_parameter_used_with_another_type_is_rejected() -> None:
    declared = Parameter("x", "int", default=1)
    used = Parameter("x", "float", default=1.0)
    with pytest.raises(
        DefinitionError, match="uses parameter 'x' as float, but the pipeline declares it as int"
    ):
        Pipeline("p", parameters=[declared], steps=[add.as_step("a", a=used, b=1)])


def test_missing_and_unknown_function_arguments_are_rejected() -> None:
    with pytest.raises(DefinitionError, match="no input given for argument 'b'"):
        add.as_step("a", a=1)
    with pytest.raises(DefinitionError, match="takes no argument 'c'"):
        add.as_step("a", a=1, b=2, c=3)


def test_local_functions_and_non_data_inputs_are_rejected() -> None:
    def inner() -> dict[str, int]:
        return {}

    with pytest.raises(DefinitionError, match="module-level function"):
        step(inner).as_step()
    with pytest.raises(DefinitionError, match="not JSON data"):
        add.as_step("a", a=object(), b=1)


def test_bad_policies_and_conditions_are_rejected() -> None:
    with pytest.raises(DefinitionError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(DefinitionError, match="unknown condition operator"):
        Condition("~=", (1, 2))
    with pytest.raises(DefinitionError, match="combines conditions only"):
        Condition("and", (1, 2))
    with pytest.raises(DefinitionError, match="is not a Condition"):
        ConditionStep("c", True)  # type: ignore[arg-type]


def test_bind_checks_required_unknown_and_types() -> None:
    day = Parameter("day", "date")
    rows = Parameter("rows", "int", default=5)
    p = Pipeline("p", parameters=[day, rows], steps=[noop.as_step()])
    with pytest.raises(ParameterError, match="required parameter 'day' not given"):
        p.bind({})
    with pytest.raises(ParameterError, match="has no parameter 'colour'"):
        p.bind({"day": "2024-01-01", "colour": "red"})
    with pytest.raises(ParameterError, match="parameter 'rows': cannot read 'x' as int"):
        p.bind({"day": "2024-01-01", "rows": "x"})
    with pytest.raises(ParameterError, match="expected int, got float"):
        p.bind({"day": dt.date(2024, 1, 1), "rows": 1.5})
    assert p.bind({"day": "2024-01-02"}) == {"day": dt.date(2024, 1, 2), "rows": 5}


def test_all_parameter_types_parse_from_text() -> None:
    params = [
        Parameter("s", "string", default="x"),
        Parameter("i", "int", default=1),
        Parameter("f", "float", default=1),
        Parameter("b", "bool", default=False),
        Parameter("d", "date", default=dt.date(2024, 1, 1)),
    ]
    p = Pipeline("p", parameters=params, steps=[noop.as_step()])
    bound = p.bind({"s": "y", "i": "7", "f": "2.5", "b": "true", "d": "2025-03-04"})
    assert bound == {"s": "y", "i": 7, "f": 2.5, "b": True, "d": dt.date(2025, 3, 4)}
    assert isinstance(p.bind({})["f"], float)


def test_json_is_stable_and_hash_follows_content() -> None:
    one, two = arithmetic_pipeline(), arithmetic_pipeline()
    assert one.json_text() == two.json_text()
    assert one.hash == two.hash
    doc = json.loads(one.json_text())
    steps = {s["name"]: s for s in doc["steps"]}
    assert steps["first"]["function"] == "engine_steps:add"
    assert steps["first"]["inputs"] == {"a": {"$param": "a"}, "b": 3}
    assert steps["bonus"]["inputs"]["a"] == {"$step": "scaled", "$path": ["values", 0]}
    assert steps["small"]["condition"]["op"] == "or"
    assert steps["small"]["if_steps"] == ["bonus"] and steps["small"]["else_steps"] == ["penalty"]
    # Listing the same steps in another order changes nothing; changing a constant does.
    reordered = Pipeline("q", steps=[noop.as_step("b"), noop.as_step("a")])
    ordered = Pipeline("q", steps=[noop.as_step("a"), noop.as_step("b")])
    assert reordered.hash == ordered.hash
    changed = Pipeline("q", steps=[noop.as_step("a"), noop.as_step("b", cache=CachePolicy())])
    assert changed.hash != ordered.hash


def test_mermaid_shows_every_step_and_branch() -> None:
    text = get_pipeline("example").mermaid()
    assert text.startswith("flowchart TD\n")
    for node in ('s_generate["generate"]', 's_check{"check?"}', 's_too_small[["too_small"]]'):
        assert node in text
    assert "s_check -->|true| s_report" in text
    assert "s_check -->|false| s_too_small" in text
    assert "s_generate --> s_summarise" in text


def test_dependencies_come_from_references_and_depends_on() -> None:
    p = arithmetic_pipeline()
    assert p.dependencies["scaled"] == {"first"}
    assert p.dependencies["stored"] == {"first"}
    assert p.dependencies["bonus"] == {"small", "scaled"}
    assert p.order.index("first") < p.order.index("scaled") < p.order.index("small")


def test_step_function_stays_callable() -> None:
    assert add(1, 2) == {"sum": 3}
    fail = FailStep("f", "value {v}", v=ref("a")["x"])
    assert fail.render({"v": 3}) == "value 3"
