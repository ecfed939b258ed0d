from __future__ import annotations

import datetime as dt

import pytest

from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade
from truckflow.streaming import COURSE_FIRST_DAY, StreamingClock, StreamingError

D = dt.date


def test_fourteen_days_from_the_course_start(any_db: Database) -> None:
    clock = StreamingClock(any_db)
    state = clock.start(COURSE_FIRST_DAY)
    seen = [(state.current_day, state.day_in_week, state.new_week, state.week_start)]
    for _ in range(14):
        state = clock.advance()
        seen.append((state.current_day, state.day_in_week, state.new_week, state.week_start))
    days = [s[0] for s in seen]
    assert days[0] == D(2019, 2, 15) and days[-1] == D(2019, 3, 1)
    assert [s[1] for s in seen] == [1, 2, 3, 4, 5, 6, 7] * 2 + [1]
    # the drift trigger: never on the very first day, then every seventh day
    assert [s[0] for s in seen if s[2]] == [D(2019, 2, 22), D(2019, 3, 1)]
    assert {s[3] for s in seen[:7]} == {D(2019, 2, 15)}
    assert {s[3] for s in seen[7:14]} == {D(2019, 2, 22)}
    assert seen[14][3] == D(2019, 3, 1)
    assert clock.status() == state
    assert state.previous_week == (D(2019, 2, 22), D(2019, 2, 28))


def test_week_start_includes_the_first_day(db: Database) -> None:
    clock = StreamingClock(db)
    first = clock.start(D(2019, 2, 15))
    assert first.is_week_start and not first.new_week  # forecasts arrive, no drift check yet
    assert first.previous_week is None
    second = clock.advance()
    assert not second.is_week_start and not second.new_week


def test_state_persists_across_connections(any_db_url: str) -> None:
    first = connect(any_db_url)
    upgrade(first)
    clock = StreamingClock(first)
    clock.start(D(2019, 2, 15))
    for _ in range(8):
        clock.advance()
    clock.record_processed("schedule", 120)
    clock.record_processed("schedule", 30)
    clock.record_processed("traffic", 5000)
    first.dispose()

    second = connect(any_db_url)
    try:
        state = StreamingClock(second).status()
        assert state.current_day == D(2019, 2, 23)
        assert state.week_start == D(2019, 2, 22)
        assert state.day_in_week == 2 and not state.new_week
        assert state.processed == {"schedule": 150, "traffic": 5000}
        assert state.updated_at is not None
    finally:
        second.dispose()


def test_reset_returns_to_before_start(db: Database) -> None:
    clock = StreamingClock(db)
    clock.start(D(2019, 2, 15))
    clock.advance()
    clock.record_processed("labels", 7)
    state = clock.reset()
    assert not state.started
    assert (state.current_day, state.week_start, state.day_in_week, state.new_week) == (
        None,
        None,
        0,
        False,
    )
    assert state.processed == {}
    assert clock.start(D(2019, 3, 1)).current_day == D(2019, 3, 1)


def test_clock_refuses_out_of_order_use(db: Database) -> None:
    clock = StreamingClock(db)
    assert clock.status().current_day is None  # no row yet: the initial state
    with pytest.raises(StreamingError, match="not been started"):
        clock.advance()
    clock.start(D(2019, 2, 15))
    with pytest.raises(StreamingError, match="already running"):
        clock.start(D(2019, 2, 15))
    with pytest.raises(StreamingError, match=">= 0"):
        clock.record_processed("schedule", -1)


def test_advance_is_part_of_the_callers_transaction(db: Database) -> None:
    clock = StreamingClock(db)
    clock.start(D(2019, 2, 15))
    with pytest.raises(RuntimeError), db.begin() as conn:
        clock.record_processed("schedule", 10, connection=conn)
        clock.advance(connection=conn)
        raise RuntimeError("crash in the middle of the day")
    state = clock.status()
    assert state.current_day == D(2019, 2, 15) and state.processed == {}
    with db.begin() as conn:
        clock.record_processed("schedule", 10, connection=conn)
        clock.advance(connection=conn)
    state = clock.status()
    assert state.current_day == D(2019, 2, 16) and state.processed == {"schedule": 10}
