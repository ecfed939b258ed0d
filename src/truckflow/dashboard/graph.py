"""A recorded pipeline definition as a Graphviz DOT graph, nodes coloured by step status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["definition_dot"]

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
    for s in definition.get("steps", []):
        for dep in s.get("depends_on", []):
            lines.append(f"  {_quoted(str(dep))} -> {_quoted(str(s['name']))};")
    lines.append("}")
    return "\n".join(lines)
