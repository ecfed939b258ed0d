"""Decision quality of the weekly drift pipeline on generated worlds (issue 6).

At the course's size (scale 1): a stationary world raises no dataset drift and no retraining;
a covariate shift from streaming week 2 is flagged on the first drift day after it, naming the
shifted columns; after a concept shift from week 1 the retrained model beats the old one on
the following week's trips. Every scenario shares the history of its seed, so one prepared
history (ingest, features, the initial model) serves all three replays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from truckflow.data.generate import generate_world
from truckflow.data.generate.scenarios import resolve_scenario
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.compare import compare_versions
from truckflow.pipelines.streaming.driver import ReplayResult, replay
from truckflow.pipelines.streaming.setup import prepare_history
from truckflow.registry import ModelRegistry
from truckflow.settings import Settings
from truckflow.streaming.tables import batch_predictions

SCALE = 1.0
SEED = 0
FIRST_DRIFT_DAY = dt.date(2019, 2, 22)
SECOND_DRIFT_DAY = dt.date(2019, 3, 1)
# Feature columns made from the source columns that the covariate shift moves.
SHIFTED_FEATURES = {
    ("city_weather.csv", "temp"): {"origin_temp", "destination_temp"},
    ("city_weather.csv", "humidity"): {"origin_humidity", "destination_humidity"},
    ("routes_weather.csv", "temp"): {"route_avg_temp"},
    ("routes_weather.csv", "humidity"): {"route_avg_humidity"},
    ("traffic_table.csv", "no_of_vehicles"): {"avg_no_of_vehicles"},
}

pytestmark = pytest.mark.slow


def _history_digest(world: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(world.glob("*.csv")):
        if not path.name.startswith("streaming_"):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the stationary world and a home prepared on its history."""
    folder = tmp_path_factory.mktemp("decisions")
    generate_world(folder / "none", seed=SEED, scale=SCALE, scenario="none")
    with Runtime.open(Settings(home=folder / "template")) as runtime:
        prepare_history(runtime, folder / "none", n_trials=2, families="logistic_regression")
    return folder


def _replay(base: Path, scenario: str, shift_week: int | None) -> tuple[Settings, ReplayResult]:
    world = base / scenario
    if not world.exists():
        generate_world(world, seed=SEED, scale=SCALE, scenario=scenario, shift_week=shift_week)
    # The prepared history is the stationary world's: it must be this world's too.
    assert _history_digest(world) == _history_digest(base / "none")
    settings = Settings(
        home=base / f"home-{scenario}",
        retrain={"trials": 2, "families": "logistic_regression"},
    )
    shutil.copytree(base / "template", settings.home)
    with Runtime.open(settings) as runtime:
        return settings, replay(runtime, data=world)


def _checks(result: ReplayResult) -> dict[dt.date, dict[str, object]]:
    return {d.day: d.drift["check"] for d in result.days if d.drift is not None}


def test_a_stationary_world_raises_no_dataset_drift_and_no_retraining(base: Path) -> None:
    settings, result = _replay(base, "none", None)
    checks = _checks(result)
    assert sorted(checks) == [FIRST_DRIFT_DAY, SECOND_DRIFT_DAY]
    for day, check in checks.items():
        assert check["dataset_drift"] is False, (day, check["drifted_columns"])
        assert check["drift_detected"] is False, (day, check)
    assert all(d.drift is None or d.drift["training"] is None for d in result.days)
    assert [v.version for v in ModelRegistry.from_settings(settings).list_versions()] == ["1"]


def test_a_covariate_shift_is_flagged_on_the_first_drift_day_after_it(base: Path) -> None:
    _, result = _replay(base, "covariate_shift", 2)
    checks = _checks(result)
    # Week 2 starts on the first drift day; the check of that day still sees week 1.
    assert checks[FIRST_DRIFT_DAY]["dataset_drift"] is False
    after = checks[SECOND_DRIFT_DAY]
    assert after["dataset_drift"] is True
    shifted = resolve_scenario("covariate_shift", start_week=2).shifted_columns
    expected = set().union(
        *(SHIFTED_FEATURES[(file, column)] for file, cols in shifted.items() for column in cols)
    )
    assert expected <= set(after["drifted_columns"])  # type: ignore[arg-type]
    [day] = [d for d in result.days if d.day == SECOND_DRIFT_DAY]
    assert day.drift is not None and day.drift["training"] is not None  # drift -> retraining


def test_after_a_concept_shift_the_retrained_model_beats_the_old_one(
    base: Path, record_property: pytest.RecordProperty
) -> None:
    settings, result = _replay(base, "concept_shift", 1)
    checks = _checks(result)
    first = checks[FIRST_DRIFT_DAY]
    # Same features, another mapping: the model's quality falls, the data does not drift.
    assert first["dataset_drift"] is False
    assert first["model_drift"] is True
    [week] = [d for d in result.days if d.day == FIRST_DRIFT_DAY]
    assert week.release_status == "promoted"
    new = str(week.drift["training"]["version"])  # type: ignore[index]
    with Runtime.open(settings) as runtime:
        following = compare_versions(
            runtime, ["1", new], FIRST_DRIFT_DAY, FIRST_DRIFT_DAY + dt.timedelta(days=6)
        )
    old_f1, new_f1 = following["1"]["f1"], following[new]["f1"]
    record_property("concept_shift_f1", {"old": old_f1, "retrained": new_f1})
    print(f"following week F1: old version 1 {old_f1:.3f}, retrained version {new} {new_f1:.3f}")
    assert following["1"]["rows"] == following[new]["rows"] > 1000
    assert new_f1 > old_f1
    # The retrained version served the trips from the day after the drift day on (the drift
    # pipeline runs after the day's own predictions, once the new week's forecasts are in).
    with Runtime.open(settings) as runtime, runtime.db.engine.connect() as conn:
        served = (
            conn.execute(
                sa.select(batch_predictions.c.model_version)
                .distinct()
                .where(
                    batch_predictions.c.departure_date >= dt.datetime(2019, 2, 23),
                    batch_predictions.c.departure_date < dt.datetime(2019, 3, 1),
                )
            )
            .scalars()
            .all()
        )
    assert served == [new]
