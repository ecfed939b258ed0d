"""Every command explains itself: its help ends with an example of its use."""

from __future__ import annotations

from typing import Any

import typer

from truckflow.cli.app import app


def _leaf_commands(command: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    if hasattr(command, "commands"):
        found: dict[str, Any] = {}
        for name, sub in command.commands.items():
            found.update(_leaf_commands(sub, (*path, name)))
        return found
    return {" ".join(path): command}


def test_every_command_has_help_with_an_example() -> None:
    commands = _leaf_commands(typer.main.get_command(app))
    assert {"init", "data ingest", "data generate", "pipeline run", "demo"} <= set(commands)
    without = [name for name, command in commands.items() if "Example" not in (command.help or "")]
    assert without == []
