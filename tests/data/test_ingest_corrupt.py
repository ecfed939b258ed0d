"""A corrupted copy of the course slice: bad rows are quarantined, unreadable files stop the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from truckflow.data import IngestError
from truckflow.data.ingest import ingest_directory, list_quarantine
from truckflow.store import Database

SOURCE_TABLES = (
    "trucks",
    "drivers",
    "cities",
    "routes",
    "city_weather",
    "route_weather",
    "traffic",
    "truck_schedule",
)


def edit_lines(path: Path, edits: dict[int, str | None], append: list[str] | None = None) -> None:
    """Replace (or with None, keep) lines by their 1-based number; append lines at the end."""
    lines = path.read_text().splitlines()
    for number, text in edits.items():
        if text is not None:
            lines[number - 1] = text
    lines.extend(append or [])
    path.write_text("\n".join(lines) + "\n")


def field(path: Path, line: int, index: int) -> str:
    return path.read_text().splitlines()[line - 1].split(",")[index]


def replace_field(path: Path, line: int, index: int, value: str) -> str:
    parts = path.read_text().splitlines()[line - 1].split(",")
    parts[index] = value
    return ",".join(parts)


def reasons(db: Database, table: str) -> dict[int, str]:
    return {q.line_no: q.reason for q in list_quarantine(db, table=table, limit=10_000)}


def test_bad_rows_are_quarantined_with_reasons(any_db: Database, small_sample: Path) -> None:
    traffic = small_sample / "traffic_table.csv"
    second_line = traffic.read_text().splitlines()[1]
    edit_lines(
        traffic,
        {
            10: "this is, not a traffic row",
            20: replace_field(traffic, 20, 2, "2530"),
            30: replace_field(traffic, 30, 4, "7"),
            40: replace_field(traffic, 40, 0, ""),
        },
        append=[second_line],
    )
    schedule = small_sample / "truck_schedule_table.csv"
    edit_lines(
        schedule,
        {
            5: replace_field(schedule, 5, 1, "R-nowhere"),
            6: replace_field(schedule, 6, 2, "2019-13-45 07:00:00"),
            7: replace_field(schedule, 7, 3, "2019-01-01 06:00:00.000000000"),
            8: replace_field(schedule, 8, 0, "99999999"),
        },
    )
    drivers = small_sample / "drivers_table.csv"
    edit_lines(drivers, {4: replace_field(drivers, 4, 7, "12345")})
    routes = small_sample / "routes_table.csv"
    used = "".join(
        (small_sample / name).read_text()
        for name in ("truck_schedule_table.csv", "traffic_table.csv", "routes_weather.csv")
    )
    # A route no other row uses, so that its quarantine does not cascade.
    last_line = len(routes.read_text().splitlines())
    unused_route_line = next(n for n in range(last_line, 1, -1) if field(routes, n, 0) not in used)
    edit_lines(
        routes, {unused_route_line: replace_field(routes, unused_route_line, 1, "C-unknown")}
    )

    report = ingest_directory(any_db, small_sample)

    for src in report.sources:
        assert src.read == (
            src.inserted + src.already_present + src.conflicting + src.quarantined
        ), src
    total_lines = len(traffic.read_text().splitlines()) - 1
    tables = report.tables()
    assert tables["traffic"].read == total_lines
    assert tables["traffic"].quarantined == 4
    # The appended copy of line 2 is the same row again: already present, not a fault.
    assert tables["traffic"].already_present == 1
    got = reasons(any_db, "traffic")
    assert got[10].startswith("malformed line: 2 field(s), expected 5")
    assert got[20] == "hour: 2530 outside 0..2300; hour: 2530 is not a multiple of 100 (HHMM)"
    assert got[30] == "accident: 7 not one of 0, 1"
    assert got[40] == "route_id: missing"
    assert total_lines + 1 not in got

    got = reasons(any_db, "truck_schedule")
    assert got[5] == "route_id: 'R-nowhere' not in routes"
    assert got[6] == "departure_date: '2019-13-45 07:00:00' is not a datetime"
    assert got[7].startswith("estimated_arrival 2019-01-01 06:00:00 is not after departure_date")
    assert got[8] == "truck_id: 99999999 not in trucks"
    assert len(got) == 4
    assert reasons(any_db, "drivers") == {4: "vehicle_no: 12345 not in trucks"}
    assert reasons(any_db, "routes") == {unused_route_line: "origin_id: 'C-unknown' not in cities"}

    # The rest went in, and the raw rows are kept as they were in the file.
    with any_db.engine.connect() as conn:
        raw = conn.execute(
            sa.text(
                "SELECT raw FROM quarantine WHERE table_name = 'truck_schedule' AND line_no = 6"
            )
        ).scalar_one()
        loaded = conn.execute(sa.text("SELECT count(*) FROM traffic")).scalar_one()
    assert json.loads(raw)["departure_date"] == "2019-13-45 07:00:00"
    assert loaded == total_lines - 5


def _corrupt_missing_column(folder: Path) -> tuple[str, str]:
    path = folder / "traffic_table.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(",".join(line.split(",")[:4]) for line in lines) + "\n")
    return "traffic_table.csv", "required column(s) accident missing"


def _corrupt_not_csv(folder: Path) -> tuple[str, str]:
    (folder / "routes_weather.csv").write_bytes(bytes(range(256)) * 64)
    return "routes_weather.csv", "not a CSV text file"


def _corrupt_encoding(folder: Path) -> tuple[str, str]:
    path = folder / "drivers_table.csv"
    path.write_bytes(path.read_text().replace("Daniel Marks", "Dániel Marks").encode("latin-1"))
    return "drivers_table.csv", "not UTF-8 text"


def _corrupt_empty(folder: Path) -> tuple[str, str]:
    (folder / "trucks_table.csv").write_bytes(b"")
    return "trucks_table.csv", "the file is empty"


def _corrupt_truncated(folder: Path) -> tuple[str, str]:
    path = folder / "truck_schedule_table.csv"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])  # the last row loses its end, and its newline
    return "truck_schedule_table.csv", "truncated"


@pytest.mark.parametrize(
    "corrupt",
    [
        _corrupt_missing_column,
        _corrupt_not_csv,
        _corrupt_encoding,
        _corrupt_empty,
        _corrupt_truncated,
    ],
    ids=["missing-column", "not-csv", "encoding", "empty", "truncated"],
)
def test_unreadable_file_fails_and_writes_nothing(
    db: Database, small_sample: Path, corrupt
) -> None:  # type: ignore[no-untyped-def]
    file_name, problem = corrupt(small_sample)

    with pytest.raises(IngestError) as caught:
        ingest_directory(db, small_sample)

    assert file_name in str(caught.value)
    assert problem in str(caught.value)
    with db.engine.connect() as conn:
        for table in (*SOURCE_TABLES, "quarantine"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table
        log = conn.execute(sa.text("SELECT source_file, status, error FROM ingest_log")).all()
    assert [(row[0], row[1]) for row in log] == [(file_name, "failed")]
    assert problem in log[0][2]


def test_failure_during_load_rolls_everything_back(any_db: Database, small_sample: Path) -> None:
    with any_db.begin() as conn:
        conn.execute(sa.text("DROP TABLE traffic"))  # trucks, drivers, ... load before it fails

    with pytest.raises(IngestError, match="rolled back"):
        ingest_directory(any_db, small_sample)

    with any_db.engine.connect() as conn:
        for table in ("trucks", "drivers", "cities", "routes", "city_weather", "quarantine"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table
        statuses = conn.execute(sa.text("SELECT DISTINCT status FROM ingest_log")).scalars().all()
    assert statuses == ["failed"]


def test_blank_lines_keep_the_line_numbers_right(db: Database, small_sample: Path) -> None:
    trucks = small_sample / "trucks_table.csv"
    lines = trucks.read_text().splitlines()
    lines.insert(5, "")  # becomes line 6
    lines[9] = replace_field_text(lines[9], 1, "-3")  # line 10: an impossible truck age
    trucks.write_text("\n".join(lines) + "\n")

    report = ingest_directory(db, small_sample)

    counts = report.tables()["trucks"]
    assert (counts.read, counts.quarantined) == (224, 2)  # 223 trucks in the sample
    assert reasons(db, "trucks") == {6: "empty line", 10: "truck_age: -3 outside 0..100"}


def replace_field_text(line: str, index: int, value: str) -> str:
    parts = line.split(",")
    parts[index] = value
    return ",".join(parts)
