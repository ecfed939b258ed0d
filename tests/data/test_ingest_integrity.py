"""Nothing lost in silence: stray quotes, oversized fields, conflicting rows, missing parents.

For every bad file: ``read`` equals the data lines physically in the file, and read = inserted +
already present + conflicting + quarantined.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from truckflow.data import IngestError
from truckflow.data.course_format import TABLE_SPECS
from truckflow.data.ingest import IngestReport, ingest_directory
from truckflow.data.ingest.reader import read_course_file
from truckflow.data.ingest.rejects import (
    export_quarantine,
    list_conflicts,
    quarantine_counts,
    retry_quarantine,
)
from truckflow.store import Database


def data_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") - 1


def assert_balanced(report: IngestReport, folder: Path | None = None) -> None:
    """read = inserted + present + conflicting + quarantined for every file; with ``folder``,
    also read = the data lines physically in each file of it that was read."""
    for src in report.sources:
        assert src.read == (
            src.inserted + src.already_present + src.conflicting + src.quarantined
        ), src
        spec = TABLE_SPECS.get(src.table)
        # A file's own table (not one derived from it, as cities from city weather).
        if folder is not None and spec is not None and src.source in spec.files:
            assert src.read == data_lines(folder / src.source), src


def _set_line(path: Path, number: int, text: str) -> str:
    lines = path.read_text().splitlines()
    old = lines[number - 1]
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return old


def _only(folder: Path, names: tuple[str, ...], target: Path) -> Path:
    target.mkdir()
    for name in names:
        shutil.copy(folder / name, target / name)
    return target


@pytest.mark.fault
def test_a_stray_quote_costs_its_line_only(any_db: Database, small_sample: Path, scalar) -> None:  # type: ignore[no-untyped-def]
    traffic = small_sample / "traffic_table.csv"
    line = traffic.read_text().splitlines()[1500 - 1]
    _set_line(traffic, 1500, line.replace(",", ',"unterminated', 1))
    # An even number of quotes can still leave a field open: a literal one, then an opener.
    line = traffic.read_text().splitlines()[2000 - 1]
    parts = line.split(",")
    _set_line(traffic, 2000, ",".join([parts[0] + 'x"y', parts[1], '"' + parts[2], *parts[3:]]))

    report = ingest_directory(any_db, small_sample)

    assert_balanced(report, small_sample)
    (src,) = [s for s in report.sources if s.table == "traffic"]
    assert src.read == data_lines(traffic)
    assert src.quarantined == 2
    assert scalar(any_db, "SELECT count(*) FROM traffic") == data_lines(traffic) - 2
    reasons = {
        int(r[0]): r[1]
        for r in _rows(any_db, "SELECT line_no, reason FROM quarantine WHERE table_name='traffic'")
    }
    assert set(reasons) == {1500, 2000}
    assert all("does not close on this line" in r for r in reasons.values())
    assert all(r.endswith("fix the line and ingest the file again") for r in reasons.values())


def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    import sqlalchemy as sa

    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql)).all()]


@pytest.mark.fault
def test_an_oversized_field_is_quarantined_by_the_size_setting(
    any_db: Database, small_sample: Path, scalar
) -> None:  # type: ignore[no-untyped-def]
    traffic = small_sample / "traffic_table.csv"
    parts = traffic.read_text().splitlines()[9].split(",")
    _set_line(traffic, 10, ",".join([parts[0], parts[1], parts[2], "9" * 20_000, parts[4]]))
    # And a 50 MB one (once pyarrow's "straddling object" error), through to the database.
    parts = traffic.read_text().splitlines()[19].split(",")
    _set_line(traffic, 20, ",".join([parts[0], parts[1], parts[2], "7" * 50_000_000, parts[4]]))

    report = ingest_directory(any_db, small_sample, max_field_bytes=4096)

    assert_balanced(report, small_sample)
    (src,) = [s for s in report.sources if s.table == "traffic"]
    assert (src.read, src.quarantined) == (data_lines(traffic), 2)
    rows = _rows(
        any_db,
        "SELECT line_no, reason, raw FROM quarantine WHERE table_name='traffic' ORDER BY line_no",
    )
    assert [r[0] for r in rows] == [10, 20]
    (_, reason, _), (_, big_reason, _) = rows
    assert "20,000 bytes, over the limit of 4,096 (setting ingest.max_field_bytes)" in reason
    assert "50,000,000 bytes, over the limit of 4,096" in big_reason
    assert reason.endswith("fix the line, or raise the limit, and ingest the file again")
    assert all(len(str(raw)) < 3000 for _, _, raw in rows)  # the line is shown, not stored whole


def test_a_50_mb_field_does_not_stop_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "traffic_table.csv"
    rows = [f"R-1,2019-01-01,{h * 100},10.0,0" for h in range(5)]
    rows.insert(2, "R-1,2019-01-02,100," + "7" * 50_000_000 + ",0")
    path.write_text("route_id,date,hour,no_of_vehicles,accident\n" + "\n".join(rows) + "\n")

    batch = read_course_file(path, TABLE_SPECS["traffic"])

    assert len(batch) + len(batch.bad_lines) == 6
    assert [b.line_no for b in batch.bad_lines] == [4]
    assert batch.line_no.tolist() == [2, 3, 5, 6, 7]


@pytest.mark.fault
def test_a_corrected_file_conflicts_and_the_first_row_is_kept(
    any_db: Database, small_sample: Path, scalar, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ingest_directory(any_db, small_sample)
    trucks = small_sample / "trucks_table.csv"
    parts = trucks.read_text().splitlines()[4].split(",")
    truck_id, age = parts[0], parts[1]
    _set_line(trucks, 5, ",".join([parts[0], str(int(age) + 1), *parts[2:]]))

    again = ingest_directory(any_db, small_sample)

    assert_balanced(again, small_sample)
    counts = again.tables()["trucks"]
    assert (counts.read, counts.inserted, counts.conflicting) == (data_lines(trucks), 0, 1)
    assert counts.already_present == data_lines(trucks) - 1
    assert scalar(any_db, f"SELECT truck_age FROM trucks WHERE truck_id = {truck_id}") == int(age)
    (conflict,) = list_conflicts(any_db, table="trucks")
    assert conflict.line_no == 5
    assert conflict.kept_from == "the database"
    assert conflict.kept["truck_age"] == int(age)
    assert conflict.rejected["truck_age"] == int(age) + 1
    assert again.to_dict()["tables"]["trucks"]["conflicting"] == 1


@pytest.mark.fault
def test_conflicts_across_files_of_one_run(any_db: Database, small_sample: Path) -> None:
    weather = small_sample / "city_weather.csv"
    lines = weather.read_text().splitlines()
    header, first = lines[0], lines[1].split(",")
    same = ",".join(first)
    other = ",".join([*first[:3], str(float(first[3]) + 5.0), *first[4:]])
    (small_sample / "streaming_city_weather.csv").write_text(f"{header}\n{same}\n{other}\n")

    report = ingest_directory(any_db, small_sample)

    assert_balanced(report, small_sample)
    (src,) = [
        s
        for s in report.sources
        if s.source == "streaming_city_weather.csv" and s.table == "city_weather"
    ]
    # The exact copy is already present; the other one conflicts with city_weather.csv's row
    # (the same key twice within the streaming file is a conflict too: first kept).
    assert (src.read, src.inserted, src.already_present, src.conflicting) == (2, 0, 1, 1)


@pytest.mark.fault
def test_a_missing_parent_table_stops_the_run_unless_partial(
    any_db: Database, small_sample: Path, scalar, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    trucks_file = small_sample / "trucks_table.csv"
    kept = tmp_path / "trucks_table.csv"
    shutil.move(trucks_file, kept)

    with pytest.raises(IngestError) as refused:
        ingest_directory(any_db, small_sample)
    message = str(refused.value)
    assert "trucks_table.csv missing" in message and "nothing was loaded" in message
    assert "add trucks_table.csv to the folder, or pass --partial" in message
    assert scalar(any_db, "SELECT count(*) FROM routes") == 0

    partial = ingest_directory(any_db, small_sample, partial=True)
    assert_balanced(partial, small_sample)
    waiting = (
        partial.tables()["drivers"].quarantined + partial.tables()["truck_schedule"].quarantined
    )
    assert waiting == data_lines(small_sample / "drivers_table.csv") + data_lines(
        small_sample / "truck_schedule_table.csv"
    )
    counted = {(c.table, c.reason) for c in quarantine_counts(any_db)}
    assert ("drivers", "vehicle_no: … not in trucks") in counted
    exported = export_quarantine(any_db, tmp_path / "rejects.csv")
    assert exported == waiting
    assert retry_quarantine(any_db).loaded == {"drivers": 0, "truck_schedule": 0}

    later = _only(small_sample, (), tmp_path / "later")
    shutil.copy(kept, later / "trucks_table.csv")
    report = ingest_directory(any_db, later)

    assert_balanced(report, later)
    # The sample's counts (tests/fixtures/course_sample/README.md): 223 drivers, 63 trips.
    assert report.orphans_loaded == {"drivers": 223, "truck_schedule": 63}
    assert scalar(any_db, "SELECT count(*) FROM quarantine") == 0
    assert scalar(any_db, "SELECT count(*) FROM drivers") == 223
