"""A pipeline definition: name, parameters, steps. Building one validates it and runs nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from graphlib import CycleError, TopologicalSorter
from typing import Any

from truckflow.pipeline.errors import DefinitionError, ParameterError
from truckflow.pipeline.outcome import OutcomeFunction
from truckflow.pipeline.params import Parameter, coerce_value
from truckflow.pipeline.refs import StepRef, iter_refs
from truckflow.pipeline.steps import CachePolicy, ConditionStep, FunctionStep, Step

__all__ = ["Pipeline"]


class Pipeline:
    """``Pipeline(name, parameters=[...], steps=[...], cache=CachePolicy(...))``.

    Steps in a condition step's branches belong to the pipeline even when not listed in
    ``steps``. ``cache`` is the default for function steps that set none (default: no caching).
    ``outcome``, when given, reads a finished execution's outputs and says what it means
    (see ``truckflow.pipeline.outcome``).
    """

    def __init__(
        self,
        name: str,
        *,
        parameters: Sequence[Parameter] = (),
        steps: Sequence[Step],
        cache: CachePolicy | None = None,
        description: str = "",
        outcome: OutcomeFunction | None = None,
    ) -> None:
        if not name or not all(c.isalnum() or c in "_-." for c in name):
            raise DefinitionError(f"pipeline name {name!r}: use letters, digits, '_', '-', '.'")
        self.name = name
        self.description = description
        # Code, like the steps: not part of the recorded definition or its hash.
        self.outcome = outcome
        self.cache = cache or CachePolicy(enabled=False)
        self.parameters = self._index_parameters(parameters)
        self.steps = self._collect_steps(steps)
        self.dependencies = self._dependencies()
        self.order = self._topological_order()
        self.dependents: dict[str, list[str]] = {name: [] for name in self.steps}
        for name in self.order:
            for dep in self.dependencies[name]:
                self.dependents[dep].append(name)
        self.branch_of = self._branches()

    def _index_parameters(self, parameters: Sequence[Parameter]) -> dict[str, Parameter]:
        out: dict[str, Parameter] = {}
        for p in parameters:
            if p.name in out:
                raise DefinitionError(
                    f"pipeline {self.name!r}: parameter {p.name!r} declared twice"
                )
            out[p.name] = p
        return out

    def _collect_steps(self, steps: Sequence[Step]) -> dict[str, Step]:
        found: dict[str, Step] = {}

        def add(s: Step) -> None:
            if not isinstance(s, Step):
                raise DefinitionError(f"pipeline {self.name!r}: {s!r} is not a step")
            if s.name in found:
                if found[s.name] is s:
                    return
                raise DefinitionError(f"pipeline {self.name!r}: duplicate step name {s.name!r}")
            found[s.name] = s
            if isinstance(s, ConditionStep):
                for branch_step in (*s.if_steps, *s.else_steps):
                    add(branch_step)

        for s in steps:
            add(s)
        if not found:
            raise DefinitionError(f"pipeline {self.name!r} has no steps")
        return found

    def _dependencies(self) -> dict[str, set[str]]:
        deps: dict[str, set[str]] = {}
        for s in self.steps.values():
            needed = set(s.depends_on)
            for r in iter_refs(s.references()):
                if isinstance(r, StepRef):
                    needed.add(r.step)
                else:
                    self._check_parameter(s, r)
            for name in needed:
                if name not in self.steps:
                    raise DefinitionError(
                        f"pipeline {self.name!r}: step {s.name!r} refers to unknown step {name!r}"
                    )
            deps[s.name] = needed
        # A branch step runs after its condition step.
        for s in self.steps.values():
            if isinstance(s, ConditionStep):
                for branch_step in (*s.if_steps, *s.else_steps):
                    deps[branch_step.name].add(s.name)
        return deps

    def _check_parameter(self, s: Step, p: Parameter) -> None:
        declared = self.parameters.get(p.name)
        if declared is None:
            raise DefinitionError(
                f"pipeline {self.name!r}: step {s.name!r} uses parameter {p.name!r}, "
                "which the pipeline does not declare"
            )
        if declared.type != p.type:
            raise DefinitionError(
                f"pipeline {self.name!r}: step {s.name!r} uses parameter {p.name!r} as "
                f"{p.type}, but the pipeline declares it as {declared.type}"
            )
        if declared != p:
            raise DefinitionError(
                f"pipeline {self.name!r}: step {s.name!r} uses a parameter {p.name!r} that "
                "differs from the declared one (default or description); use the same object"
            )

    def _topological_order(self) -> list[str]:
        sorter = TopologicalSorter(self.dependencies)
        try:
            return list(sorter.static_order())
        except CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            raise DefinitionError(f"pipeline {self.name!r} has a cycle: {cycle}") from None

    def _branches(self) -> dict[str, tuple[str, bool]]:
        """For each branch step: (condition step, the outcome it needs)."""
        out: dict[str, tuple[str, bool]] = {}
        for s in self.steps.values():
            if isinstance(s, ConditionStep):
                for branch, outcome in ((s.if_steps, True), (s.else_steps, False)):
                    for b in branch:
                        if b.name in out:
                            raise DefinitionError(
                                f"pipeline {self.name!r}: step {b.name!r} is in two branches"
                            )
                        out[b.name] = (s.name, outcome)
        return out

    # Parameters at run time.
    def bind(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults filled in, values checked and parsed; unknown or missing names are errors."""
        values = dict(values or {})
        unknown = sorted(set(values) - set(self.parameters))
        if unknown:
            raise ParameterError(
                f"pipeline {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"it has: {', '.join(self.parameters) or 'none'}"
            )
        bound: dict[str, Any] = {}
        for name, p in self.parameters.items():
            if name in values:
                bound[name] = coerce_value(p.type, values[name], what=f"parameter {name!r}")
            elif p.required:
                raise ParameterError(
                    f"pipeline {self.name!r}: required parameter {name!r} not given"
                )
            else:
                bound[name] = p.default
        return bound

    # Printing.
    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameters": [p.to_json() for p in self.parameters.values()],
            "cache": self.cache.to_json(),
            "steps": [self.steps[n].to_json() for n in sorted(self.steps)],
        }

    def json_text(self) -> str:
        """Stable text: keys sorted, steps by name, so equal definitions print equal."""
        return json.dumps(self.to_json(), sort_keys=True, indent=2)

    @cached_property
    def hash(self) -> str:
        compact = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(compact.encode()).hexdigest()

    def mermaid(self) -> str:
        lines = ["flowchart TD"]
        shapes = {"function": ("[", "]"), "condition": ("{", "}"), "fail": ("[[", "]]")}
        for name in self.order:
            s = self.steps[name]
            left, right = shapes.get(s.kind, ("[", "]"))
            label = name if s.kind != "condition" else f"{name}?"
            lines.append(f'    {_node(name)}{left}"{label}"{right}')
        for name in self.order:
            for dep in sorted(self.dependencies[name]):
                branch = self.branch_of.get(name)
                if branch and branch[0] == dep:
                    lines.append(
                        f"    {_node(dep)} -->|{'true' if branch[1] else 'false'}| {_node(name)}"
                    )
                else:
                    lines.append(f"    {_node(dep)} --> {_node(name)}")
        return "\n".join(lines) + "\n"

    # Graph helpers for the runners.
    def downstream(self, names: Iterable[str]) -> set[str]:
        """``names`` and every step that depends on them, directly or not."""
        out = set(names)
        for name in self.order:
            if self.dependencies[name] & out:
                out.add(name)
        return out

    def function_steps(self) -> list[FunctionStep]:
        return [s for s in self.steps.values() if isinstance(s, FunctionStep)]

    def cache_policy(self, s: FunctionStep) -> CachePolicy:
        return s.cache if s.cache is not None else self.cache

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, steps={list(self.steps)})"


def _node(name: str) -> str:
    return "s_" + name.replace("-", "_")
