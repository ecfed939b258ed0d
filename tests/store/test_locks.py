"""The process lock on the three engines: one holder, a refusal that names it, a wait."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable

import pytest

from truckflow.store import Database, connect
from truckflow.store.locks import LockHeldError, process_lock
from truckflow.store.migrate import upgrade
from truckflow.streaming.daylock import day_lock


def test_a_second_holder_is_refused_with_the_day_and_the_process(any_db: Database) -> None:
    second = day_lock(any_db, dt.date(2019, 2, 16))
    with day_lock(any_db, dt.date(2019, 2, 16)), pytest.raises(LockHeldError) as refused:
        second.__enter__()
    message = str(refused.value)
    assert f"day 2019-02-16 is being processed by process {os.getpid()}" in message
    assert " since " in message
    assert refused.value.exit_code == 75
    with day_lock(any_db, dt.date(2019, 2, 17)):  # released: taken again at once
        pass


def test_a_waiting_holder_gets_the_lock_when_it_is_released(any_db: Database) -> None:
    held = threading.Event()

    def hold() -> None:
        with process_lock(any_db, "test-lock", "work"):
            held.set()
            time.sleep(0.6)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    started = time.monotonic()
    with process_lock(any_db, "test-lock", "more work", wait_s=20):
        waited = time.monotonic() - started
    thread.join()
    assert 0.2 < waited < 20


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_two_databases_on_one_server_do_not_share_a_lock(
    kind: str, new_server_database: Callable[[str], str]
) -> None:
    # GET_LOCK is server-wide on MariaDB: the lock's key must carry the database's name.
    first, second = connect(new_server_database(kind)), connect(new_server_database(kind))
    try:
        upgrade(first)
        upgrade(second)
        with day_lock(first, dt.date(2019, 2, 16)), day_lock(second, dt.date(2019, 2, 16)):
            pass
    finally:
        first.dispose()
        second.dispose()
