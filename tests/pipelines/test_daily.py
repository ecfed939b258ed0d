"""The daily pipeline on a small generated world: the clock, idempotence, crash recovery, labels."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from stream_world import assert_same, dump, fresh_home, prepare

from truckflow.features import FEATURE_COLUMNS
from truckflow.features.tables import trip_features
from truckflow.monitoring.estimate_store import load_estimated_metrics
from truckflow.monitoring.store import load_daily_metrics, load_drift_columns, load_drift_run
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.driver import step_days, stream_status
from truckflow.store.tables import truck_schedule
from truckflow.streaming import StreamingClock
from truckflow.streaming.tables import batch_predictions, streaming_clock


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return prepare(tmp_path_factory.mktemp("stream-none"))


@pytest.fixture
def runtime(world: tuple[Path, Path], tmp_path: Path) -> Iterator[Runtime]:
    with Runtime.open(fresh_home(world[1], tmp_path / "home")) as rt:
        yield rt


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_clock_counter_flag_and_first_drift_day(world: tuple[Path, Path], runtime: Runtime) -> None:
    data, _ = world
    result = step_days(runtime, 8, data=data)
    days = [d.day for d in result.days]
    assert days == [dt.date(2019, 2, 15) + dt.timedelta(days=i) for i in range(8)]
    # Forecasts only on week starts; the drift pipeline first on 2019-02-22 (course calendar).
    assert [d.ingested["traffic"] > 0 for d in result.days] == [True] + [False] * 6 + [True]
    assert [d.drift is not None for d in result.days] == [False] * 7 + [True]
    assert result.days[-1].drift["check"]["week_start"] == "2019-02-22"  # type: ignore[index]
    clock = StreamingClock(runtime.db).status()
    assert clock.current_day == dt.date(2019, 2, 23)
    assert clock.week_start == dt.date(2019, 2, 22)
    assert clock.day_in_week == 2 and not clock.new_week
    assert clock.processed["schedule"] == sum(d.ingested["schedule"] for d in result.days)
    status = stream_status(runtime)
    assert status.days_done == 8 and [w["week_start"] for w in status.weeks] == ["2019-02-22"]
    # The drift check of the first week: one stored run, a verdict per feature column, the
    # report and its JSON twin; on drift the week records what retraining and release did.
    week = dt.date(2019, 2, 22)
    run = load_drift_run(runtime.db, week)
    assert run is not None and run.current_start == dt.date(2019, 2, 15)
    assert run.current_end == dt.date(2019, 2, 21)
    assert {c.column_name for c in load_drift_columns(runtime.db, week)} == set(FEATURE_COLUMNS)
    assert run.html_path and Path(run.html_path).is_file()
    assert run.json_path and Path(run.json_path).is_file()
    drift = result.days[-1].drift
    assert drift is not None
    assert sorted(drift["check"]["drifted_columns"]) == sorted(
        c.column_name for c in load_drift_columns(runtime.db, week) if c.drifted
    )
    if drift["check"]["drift_detected"]:
        assert drift["training"] is not None and drift["release"] is not None
    else:
        assert drift["training"] is None and drift["release"] is None


def test_labels_reach_feature_table_predictions_and_daily_metrics(
    world: tuple[Path, Path], runtime: Runtime
) -> None:
    result = step_days(runtime, 3, data=world[0])
    # Day 2 brings the labels of the trips that arrived on day 1.
    arrived = dt.datetime(2019, 2, 15)
    with runtime.db.engine.connect() as conn:
        labelled = conn.execute(
            sa.select(
                truck_schedule.c.truck_id, truck_schedule.c.departure_date, truck_schedule.c.delay
            ).where(
                truck_schedule.c.estimated_arrival >= arrived,
                truck_schedule.c.estimated_arrival < arrived + dt.timedelta(days=1),
                truck_schedule.c.departure_date >= arrived,
            )
        ).all()
        features = dict(
            ((t, d), y)
            for t, d, y in conn.execute(
                sa.select(
                    trip_features.c.truck_id, trip_features.c.departure_date, trip_features.c.delay
                )
            )
        )
        predicted = dict(
            ((t, d), y)
            for t, d, y in conn.execute(
                sa.select(
                    batch_predictions.c.truck_id,
                    batch_predictions.c.departure_date,
                    batch_predictions.c.delay,
                )
            )
        )
    assert labelled and all(y is not None for _, _, y in labelled)
    for truck, departure, delay in labelled:
        assert features[(truck, departure)] == delay
        assert predicted[(truck, departure)] == delay
    metrics = load_daily_metrics(runtime.db)
    assert [m.day for m in metrics] == [dt.date(2019, 2, 15), dt.date(2019, 2, 16)]
    assert metrics[0].count == len(labelled) == result.days[1].labels_applied
    assert metrics[0].model_version == result.days[0].model_version

    # Each day's predictions get their estimated quality, from the calibrated probabilities of
    # the version that made them; the realized figures join as the labels arrive.
    estimated = {e.day: e for e in load_estimated_metrics(runtime.db)}
    with runtime.db.engine.connect() as conn:
        per_day = dict(
            conn.execute(
                sa.select(batch_predictions.c.prediction_day, sa.func.count()).group_by(
                    batch_predictions.c.prediction_day
                )
            ).all()
        )
        labelled_per_day = dict(
            conn.execute(
                sa.select(batch_predictions.c.prediction_day, sa.func.count())
                .where(batch_predictions.c.delay.is_not(None))
                .group_by(batch_predictions.c.prediction_day)
            ).all()
        )
    assert {d: e.count for d, e in estimated.items()} == per_day
    for day, e in estimated.items():
        assert e.estimated_f1_low <= e.estimated_f1 <= e.estimated_f1_high
        assert e.model_version == result.days[0].model_version
        assert e.labelled == labelled_per_day.get(day, 0)
        assert (e.realized_f1 is None) == (e.labelled == 0)
    assert any(e.realized_f1 is not None for e in estimated.values())


def _rewind(runtime: Runtime, row: dict[str, object]) -> None:
    with runtime.db.begin() as conn:
        conn.execute(streaming_clock.update().values(**row))


def test_a_day_run_twice_gives_identical_tables(world: tuple[Path, Path], runtime: Runtime) -> None:
    with runtime.db.engine.connect() as conn:
        step_days(runtime, 1, data=world[0])
        before = dict(conn.execute(streaming_clock.select()).one()._mapping)
    step_days(runtime, 1, data=world[0])
    once = dump(runtime.db)
    _rewind(runtime, {k: v for k, v in before.items() if k != "id"})
    step_days(runtime, 1, data=world[0])
    assert_same(once, dump(runtime.db))


def _cli(home: Path, data: Path, **env: str) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "TRUCKFLOW_HOME": str(home),
        "TRUCKFLOW_RETRAIN__TRIALS": "2",
        "TRUCKFLOW_RETRAIN__FAMILIES": "logistic_regression",
        **env,
    }
    command = [
        str(Path(sys.executable).parent / "truckflow"),
        "stream",
        "step",
        "--data",
        str(data),
        "--json",
    ]
    return subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _streaming_trips(home: Path) -> int:
    from truckflow.store import connect

    db = connect(f"sqlite:///{home / 'truckflow.db'}")
    try:
        with db.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        truck_schedule.c.departure_date >= dt.datetime(2019, 2, 16)
                    )
                ).scalar_one()
            )
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.fault
@pytest.mark.timeout(900)  # CLI runs of a day each; the suite's 300 s is per test
def test_sigkill_in_the_middle_of_a_day_then_rerun_equals_a_clean_run(
    world: tuple[Path, Path], tmp_path: Path
) -> None:
    data, template = world
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    # The clean run and the crashed home's first day run in this process (a CLI process spends
    # most of its time importing); the day that is killed and its rerun are CLI processes.
    for home, days in ((clean, 2), (crashed, 1)):
        with Runtime.open(fresh_home(template, home)) as rt:
            assert [d.day for d in step_days(rt, days, data=data).days] == [
                dt.date(2019, 2, 15) + dt.timedelta(days=i) for i in range(days)
            ]
    pause = tmp_path / "pause"
    pause.touch()
    proc = _cli(crashed, data, TRUCKFLOW_FAULT_POINT=f"day.after_ingest:pause={pause}")
    deadline = time.monotonic() + 120
    # Day 2's schedules are committed and the step waits before its ground truth: kill it there.
    while _streaming_trips(crashed) == 0 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.1)
    assert _streaming_trips(crashed) > 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    pause.unlink()
    with Runtime.open(fresh_home_settings(crashed)) as rt:
        assert StreamingClock(rt.db).status().current_day == dt.date(2019, 2, 16)
    assert _cli(crashed, data).wait(timeout=240) == 0
    with (
        Runtime.open(fresh_home_settings(clean)) as a,
        Runtime.open(fresh_home_settings(crashed)) as b,
    ):
        assert_same(dump(a.db), dump(b.db))


def fresh_home_settings(home: Path):  # type: ignore[no-untyped-def]
    from truckflow.settings import Settings

    return Settings(home=home)
