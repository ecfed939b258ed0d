"""A file of several pieces into an empty PostgreSQL table: the key is built after the load.

The outcome is the ordinary load's, row for row, with the same primary key at the end; a key
repeated across pieces makes the file load again the ordinary way; a run that fails later
leaves the key as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from truckflow.data import IngestError
from truckflow.data.ingest import ingest_directory
from truckflow.data.ingest.deferred_key import can_build_key_after
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade

PIECE = 16_384
BUILT_AFTER = "traffic_table.csv: loaded into an empty traffic, its key built after"
LOADED_AGAIN = "traffic_table.csv: a key repeats across its pieces; loading it again, key kept"
TRAFFIC_KEY = {"name": "pk_traffic", "constrained_columns": ["route_id", "date", "hour"]}


@pytest.fixture
def postgres(new_server_database: Callable[[str], str]) -> Iterator[Callable[[], Database]]:
    """``postgres()``: a migrated database on a fresh PostgreSQL database, disposed after."""
    made: list[Database] = []

    def make() -> Database:
        made.append(connect(new_server_database("postgresql")))
        upgrade(made[-1])
        return made[-1]

    yield make
    for db in made:
        db.dispose()


def _primary_key(db: Database, table: str) -> dict[str, Any]:
    key = sa.inspect(db.engine).get_pk_constraint(table)
    return {"name": key["name"], "constrained_columns": key["constrained_columns"]}


def _repeat_across_pieces(folder: Path) -> None:
    """The traffic file's first row again at its end, once as it was and once changed."""
    path = folder / "traffic_table.csv"
    lines = path.read_text().splitlines()
    changed = lines[2].split(",")
    changed[-2] = "12345"  # same key as line 3, another vehicle count
    path.write_text("\n".join([*lines, lines[1], ",".join(changed)]) + "\n")


def _conflict_lines(dump: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    # Loaded whole, a conflict's kept row is another line of the file; in pieces it is "the
    # database", recorded as the database holds it (another row_hash). The lines are the same.
    return {**dump, "ingest_conflicts": [row[:3] for row in dump["ingest_conflicts"]]}


def test_the_key_is_built_after_and_the_rows_are_the_ordinary_loads(
    postgres: Callable[[], Database],
    small_sample: Path,
    dump: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="truckflow.ingest")
    pieces, whole = postgres(), postgres()

    later = ingest_directory(pieces, small_sample, chunk_bytes=PIECE)
    assert BUILT_AFTER in caplog.messages
    caplog.clear()
    ordinary = ingest_directory(whole, small_sample)  # one piece: the key kept as rows go in
    assert BUILT_AFTER not in caplog.messages

    assert dump(pieces) == dump(whole)
    assert later.tables() == ordinary.tables()
    assert _primary_key(pieces, "traffic") == TRAFFIC_KEY


def test_a_table_with_rows_keeps_its_key_during_the_load(
    postgres: Callable[[], Database], small_sample: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = postgres()
    ingest_directory(db, small_sample, chunk_bytes=PIECE)
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="truckflow.ingest")

    again = ingest_directory(db, small_sample, chunk_bytes=PIECE)

    assert BUILT_AFTER not in caplog.messages
    assert again.tables()["traffic"].inserted == 0
    assert again.tables()["traffic"].already_present == again.tables()["traffic"].read


def test_a_key_repeated_across_pieces_loads_the_file_again_the_ordinary_way(
    postgres: Callable[[], Database],
    small_sample: Path,
    dump: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _repeat_across_pieces(small_sample)
    caplog.set_level(logging.DEBUG, logger="truckflow.ingest")
    pieces, whole = postgres(), postgres()

    report = ingest_directory(pieces, small_sample, chunk_bytes=PIECE)
    ingest_directory(whole, small_sample)

    assert LOADED_AGAIN in caplog.messages and BUILT_AFTER not in caplog.messages
    traffic = report.tables()["traffic"]
    assert (traffic.already_present, traffic.conflicting) == (1, 1)
    assert traffic.read == (small_sample / "traffic_table.csv").read_bytes().count(b"\n") - 1
    assert _conflict_lines(dump(pieces)) == _conflict_lines(dump(whole))
    assert _primary_key(pieces, "traffic") == TRAFFIC_KEY


def test_a_run_that_fails_after_the_load_leaves_the_key_and_the_table_as_they_were(
    postgres: Callable[[], Database], small_sample: Path, scalar: Callable[..., Any]
) -> None:
    db = postgres()
    schedule = small_sample / "truck_schedule_table.csv"  # loaded after traffic
    good = schedule.read_bytes()
    schedule.write_bytes(good[:-100] + b"\xff\xfe" + good[-100:])

    with pytest.raises(IngestError, match="not UTF-8"):
        ingest_directory(db, small_sample, chunk_bytes=PIECE)
    assert scalar(db, "SELECT count(*) FROM traffic") == 0
    assert _primary_key(db, "traffic") == TRAFFIC_KEY

    schedule.write_bytes(good)
    report = ingest_directory(db, small_sample, chunk_bytes=PIECE)
    assert scalar(db, "SELECT count(*) FROM traffic") == report.tables()["traffic"].inserted > 0


def test_a_key_that_a_foreign_key_refers_to_is_kept(postgres: Callable[[], Database]) -> None:
    db = postgres()
    with db.engine.begin() as conn:
        assert can_build_key_after(conn, "traffic")
        conn.execute(
            sa.text(
                "CREATE TABLE accident_notes (route_id VARCHAR(32), date DATE, hour SMALLINT,"
                " FOREIGN KEY (route_id, date, hour) REFERENCES traffic)"
            )
        )
        assert not can_build_key_after(conn, "traffic")
