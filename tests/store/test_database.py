"""Connecting to the operational database: the session settings truckflow gives each engine."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from truckflow.store.database import connect


def _show(url: str, setting: str) -> str:
    db = connect(url)
    try:
        with db.engine.connect() as conn:
            return str(conn.execute(sa.text(f"SHOW {setting}")).scalar_one())
    finally:
        db.dispose()


def test_postgres_sessions_run_without_jit(new_server_database: Callable[[str], str]) -> None:
    # JIT compiled the fill's wide OR reads for seconds each (see _postgres_options).
    assert _show(new_server_database("postgresql"), "jit") == "off"


def test_postgres_options_of_the_url_are_kept_and_win(
    new_server_database: Callable[[str], str],
) -> None:
    url = new_server_database("postgresql")
    options = "?options=-c%20statement_timeout%3D4321%20-c%20jit%3Don"
    assert _show(url + options, "statement_timeout") == "4321ms"
    assert _show(url + options, "jit") == "on"
