"""A synthetic world in the course's file format: entities, weather, traffic, trips, labels.

``generate_world(out, seed=..., scale=..., scenario=...)`` writes the seven course files and their
streaming counterparts, deterministic for a seed, with a delay label from a believable latent
process and scenarios that change the streaming weeks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from truckflow.data.generate.calendar import Calendar
from truckflow.data.generate.errors import GenerateError
from truckflow.data.generate.scenarios import SCENARIOS, ScenarioSpec, resolve_scenario

if TYPE_CHECKING:
    from truckflow.data.generate.dirt import DirtRates
    from truckflow.data.generate.world import (
        FILES,
        MANIFEST,
        GenerateReport,
        Progress,
        generate_world,
    )

__all__ = [
    "FILES",
    "MANIFEST",
    "SCENARIOS",
    "Calendar",
    "DirtRates",
    "GenerateError",
    "GenerateReport",
    "Progress",
    "ScenarioSpec",
    "generate_world",
    "resolve_scenario",
]

# The world's modules pull in pandas and scipy (seconds at start); the CLI only needs the
# scenario names for its help, so they load on first use.
_LAZY = {
    "DirtRates": "dirt",
    "FILES": "world",
    "MANIFEST": "world",
    "GenerateReport": "world",
    "Progress": "world",
    "generate_world": "world",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
