"""The demo's inputs, its result and the progress callback: plain data, no behaviour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from truckflow.errors import TruckflowError

if TYPE_CHECKING:
    from truckflow.registry.deployments import Deployment

__all__ = [
    "DailyPoint",
    "DemoError",
    "DemoOptions",
    "DemoProgress",
    "DemoSummary",
    "DriftWeek",
    "ModelServing",
    "StageOutcome",
    "StageStatus",
]

# Called as progress(stage, description, done, total); total None: no known end.
DemoProgress = Callable[[str, str, int, int | None], None]

# done: the stage did its work now; existing: its work was already there (a second run);
# unavailable: the subsystem it needs is not installed in this build; failed: it raised.
StageStatus = Literal["done", "existing", "unavailable", "failed"]


class DemoError(TruckflowError):
    """The demo could not run a stage (the message names it)."""


@dataclass(frozen=True)
class DemoOptions:
    """What ``run_demo`` does. ``data`` set: the user's course files instead of generated ones."""

    scale: float = 1.0
    seed: int = 0
    scenario: str = "default"
    # The scenario's change starts in the first streaming week: the first drift day
    # (2019-02-22) catches it and the retrained version serves the second week.
    shift_week: int = 1
    reset: bool = False
    data: Path | None = None
    n_trials: int | None = None  # None: scaled from ``scale`` (small, for speed)
    # Logistic regression: the generator's default world's best family at scale 1, and the
    # quickest to fit; at small scales it also clears the training gate where one boosted
    # trial does not.
    families: str = "logistic_regression"

    def generator_shift_week(self) -> int | None:
        """The start week handed to the generator (a scenario that changes nothing takes none)."""
        return None if self.scenario == "none" else self.shift_week

    def trials(self) -> int:
        if self.n_trials is not None:
            return self.n_trials
        return max(1, min(3, round(2 * self.scale)))


@dataclass
class StageOutcome:
    name: str
    status: StageStatus
    seconds: float
    detail: str


@dataclass(frozen=True)
class DailyPoint:
    day: dt.date
    count: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    model_version: str | None


@dataclass(frozen=True)
class DriftWeek:
    week_start: dt.date
    dataset_drift: bool
    share_drifted: float
    model_drift: bool | None
    f1: float | None
    drift_detected: bool
    drifted_columns: list[str]
    scores: dict[str, float]  # column -> statistic (distance or p-value, as the test gives)
    retraining: str | None = None  # what the retraining that the drift started came to


@dataclass(frozen=True)
class ModelServing:
    """A registered version and the streaming days it served (from the daily metrics)."""

    version: str
    aliases: list[str]
    approval: str
    created_at: dt.datetime
    test_f1: float | None
    first_day: dt.date | None
    last_day: dt.date | None
    days: int


@dataclass
class DemoSummary:
    home: Path
    data_dir: Path
    options: dict[str, Any]
    stages: list[StageOutcome] = field(default_factory=list)
    daily: list[DailyPoint] = field(default_factory=list)
    drift: list[DriftWeek] = field(default_factory=list)
    models: list[ModelServing] = field(default_factory=list)
    production_version: str | None = None
    deployments: list[Deployment] = field(default_factory=list)  # production, oldest first
    retrained: bool = False  # a drift check started a retraining (whatever it came to)
    notifications: dict[str, int] = field(default_factory=dict)
    notifications_file: Path | None = None
    report: Path | None = None
    seconds: float = 0.0

    @property
    def unavailable(self) -> list[str]:
        return [s.name for s in self.stages if s.status == "unavailable"]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["unavailable"] = self.unavailable
        return out
