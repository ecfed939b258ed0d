"""Scenarios: what changes in the streaming weeks, and from which week.

Every scenario shares the same history for a given seed: a change applies only from the start of
its streaming week (week 1 starts on the calendar's ``stream_start``, week 2 seven days later), so
two scenarios can be compared trip by trip before it.

- ``none``: stationary; the streaming weeks are drawn from the same process as the history.
- ``default``: a wide storm spell and a traffic regime change (more vehicles, more accidents) in
  streaming week 2; both raise delays through the features a model sees.
- ``covariate_shift``: from ``start_week`` temperatures rise, humidity drops and traffic volume
  grows; the mapping from features to delay stays the same.
- ``concept_shift``: from ``start_week`` the mapping changes (crossing midnight matters less,
  traffic, accidents and the driver much more) at about the same overall delay rate.
- ``fleet_change``: from ``start_week`` a share of the fleet is replaced by old trucks with
  inexperienced drivers (entities present in the tables from the start, scheduled only from then).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from truckflow.data.generate.errors import GenerateError

__all__ = ["SCENARIOS", "ScenarioSpec", "resolve_scenario"]


@dataclass(frozen=True)
class ScenarioSpec:
    """The streaming-period changes of one scenario; a ``*_week`` of None means "off"."""

    name: str = "none"
    # A storm spell on top of the regular weekly weather spells.
    storm_week: int | None = None
    storm_intensity: float = 1.8
    storm_hours: int = 66
    storm_coverage: float = 0.8  # share of cities hit
    # A traffic regime change: multiplies volumes and accident odds from the week on.
    traffic_week: int | None = None
    traffic_volume_factor: float = 1.3
    traffic_accident_factor: float = 2.0
    # Covariate shift: feature distributions move, the label mapping does not.
    covariate_week: int | None = None
    covariate_temp_shift: float = 14.0  # degrees F
    covariate_humidity_shift: float = -15.0  # percentage points
    covariate_volume_factor: float = 1.45
    # Concept shift: the mapping from features to delay changes.
    concept_week: int | None = None
    # Fleet change: a share of the trucks is replaced by old ones with inexperienced drivers.
    fleet_week: int | None = None
    fleet_share: float = 0.35

    def __post_init__(self) -> None:
        for field_name in ("storm_week", "traffic_week", "covariate_week", "concept_week"):
            week = getattr(self, field_name)
            if week is not None and week < 1:
                raise GenerateError(f"scenario {self.name!r}: {field_name} must be >= 1")
        if self.fleet_week is not None and self.fleet_week < 1:
            raise GenerateError(f"scenario {self.name!r}: fleet_week must be >= 1")
        if not 0.0 < self.fleet_share < 1.0:
            raise GenerateError(f"scenario {self.name!r}: fleet_share must be in (0, 1)")
        if not 0.0 < self.storm_coverage <= 1.0:
            raise GenerateError(f"scenario {self.name!r}: storm_coverage must be in (0, 1]")

    @property
    def shifted_columns(self) -> dict[str, list[str]]:
        """Source columns whose distribution the scenario moves, per course file."""
        cols: dict[str, list[str]] = {}
        if self.covariate_week is not None:
            weather = ["temp", "humidity"]
            cols["city_weather.csv"] = list(weather)
            cols["routes_weather.csv"] = list(weather)
            cols["traffic_table.csv"] = ["no_of_vehicles"]
        if self.traffic_week is not None:
            cols.setdefault("traffic_table.csv", ["no_of_vehicles"])
            cols["traffic_table.csv"].append("accident")
        if self.fleet_week is not None:
            cols["trucks_table.csv"] = ["truck_age", "mileage_mpg"]
            cols["drivers_table.csv"] = ["experience", "ratings"]
        return cols

    def first_change_week(self) -> int | None:
        weeks = [
            w
            for w in (
                self.storm_week,
                self.traffic_week,
                self.covariate_week,
                self.concept_week,
                self.fleet_week,
            )
            if w is not None
        ]
        return min(weeks) if weeks else None

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["shifted_columns"] = self.shifted_columns
        return doc


# Presets; ``start_week`` is where the one shift of a knob scenario starts (default in brackets).
SCENARIOS: dict[str, ScenarioSpec] = {
    "none": ScenarioSpec(name="none"),
    "default": ScenarioSpec(name="default", storm_week=2, traffic_week=2),
    "covariate_shift": ScenarioSpec(name="covariate_shift", covariate_week=2),
    "concept_shift": ScenarioSpec(name="concept_shift", concept_week=1),
    "fleet_change": ScenarioSpec(name="fleet_change", fleet_week=2),
}

_WEEK_FIELDS = ("storm_week", "traffic_week", "covariate_week", "concept_week", "fleet_week")


def resolve_scenario(
    scenario: str | ScenarioSpec, *, start_week: int | None = None, weeks: int | None = None
) -> ScenarioSpec:
    """A preset by name (or a spec as is), with its shifts moved to ``start_week`` if given.

    ``weeks`` (the calendar's number of streaming weeks) bounds the week numbers.
    """
    if isinstance(scenario, ScenarioSpec):
        spec = scenario
    else:
        try:
            spec = SCENARIOS[scenario]
        except KeyError:
            known = ", ".join(SCENARIOS)
            raise GenerateError(f"unknown scenario {scenario!r}; known: {known}") from None
    if start_week is not None:
        if start_week < 1:
            raise GenerateError(f"scenario {spec.name!r}: start week must be >= 1")
        if spec.first_change_week() is None:
            raise GenerateError(f"scenario {spec.name!r} changes nothing: it takes no start week")
        moved = {f: start_week for f in _WEEK_FIELDS if getattr(spec, f) is not None}
        spec = replace(spec, **moved)  # type: ignore[arg-type]
    if weeks is not None:
        for f in _WEEK_FIELDS:
            week = getattr(spec, f)
            if week is not None and week > weeks:
                raise GenerateError(
                    f"scenario {spec.name!r}: {f}={week} is after the last streaming week ({weeks})"
                )
    return spec
