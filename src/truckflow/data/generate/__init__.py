"""A synthetic world in the course's file format: entities, weather, traffic, trips, labels.

``generate_world(out, seed=..., scale=..., scenario=...)`` writes the seven course files and their
streaming counterparts, deterministic for a seed, with a delay label from a believable latent
process and scenarios that change the streaming weeks.
"""

from truckflow.data.generate.calendar import Calendar
from truckflow.data.generate.dirt import DirtRates
from truckflow.data.generate.errors import GenerateError
from truckflow.data.generate.scenarios import SCENARIOS, ScenarioSpec, resolve_scenario
from truckflow.data.generate.world import FILES, MANIFEST, GenerateReport, Progress, generate_world

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
