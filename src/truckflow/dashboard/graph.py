"""A recorded pipeline definition as a Graphviz DOT graph, nodes coloured by step status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["definition_dot", "definition_edges"]

_COLOURS = {
    "succeeded": "#c8e6c9",
    "failed": "#ffcdd2",
    "running": "#fff9c4",
    "skipped": "#eeeeee",
    "interrupted": "#ffe0b2",
}
_SHAPES = {"condition": "diamond", "fail": "octagon"}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _refs(value: Any) -> set[str]:
    """Names of the steps whose outputs a recorded step reads (``{"$step": name}`` anywhere)."""
    if isinstance(value, Mapping):
        found = {str(value["$step"])} if "$step" in value else set()
        for item in value.values():
            found |= _refs(item)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def definition_edges(definition: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(from, to, label) for each data dependency, explicit ``depends_on`` and condition branch."""
    edges: set[tuple[str, str, str]] = set()
    for s in definition.get("steps", []):
        name = str(s["name"])
        body = {k: v for k, v in s.items() if k not in ("name", "if_steps", "else_steps")}
        for dep in _refs(body) | {str(d) for d in s.get("depends_on", [])}:
            edges.add((dep, name, ""))
        for branch, label in (("if_steps", "true"), ("else_steps", "false")):
            for target in s.get(branch, []):
                edges.add((name, str(target), label))
    return sorted(edges)


def definition_dot(definition: Mapping[str, Any], statuses: Mapping[str, str]) -> str:
    """DOT text of the steps (``definition["steps"]``: name, kind, depends_on) and their edges."""
    lines = ["digraph pipeline {", "  rankdir=LR;", '  node [style="filled,rounded" shape=box];']
    for s in definition.get("steps", []):
        name = str(s["name"])
        status = statuses.get(name, "not run")
        label = _quoted(name)[:-1] + "\\n" + _quoted(status)[1:]  # DOT's own line break
        fill = _quoted(_COLOURS.get(status, "#ffffff"))
        shape = _SHAPES.get(str(s.get("kind")), "box")
        rendered = f"label={label} fillcolor={fill} shape={shape}"
        lines.append(f"  {_quoted(name)} [{rendered}];")
    for source, target, label in definition_edges(definition):
        extra = f" [label={_quoted(label)}]" if label else ""
        lines.append(f"  {_quoted(source)} -> {_quoted(target)}{extra};")
    lines.append("}")
    return "\n".join(lines)
