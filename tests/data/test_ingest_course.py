"""Ingesting the real course slice, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from truckflow.data.ingest import IngestReport, ingest_directory
from truckflow.store import Database

# Counted in the trimmed sample's files (tests/fixtures/course_sample/README.md).
EXPECTED_ROWS = {
    "trucks": 223,
    "drivers": 223,
    "cities": 8,
    "routes": 56,
    "city_weather": 1728 - 192,  # 192 later rows of (city_id, date, hour) with other values
    "route_weather": 1350,
    "traffic": 8640,
    "truck_schedule": 63,
}


def assert_balanced(report: IngestReport) -> None:
    for src in report.sources:
        assert src.read == (
            src.inserted + src.already_present + src.conflicting + src.quarantined
        ), src
    for table, counts in report.tables().items():
        assert counts.read == (
            counts.inserted + counts.already_present + counts.conflicting + counts.quarantined
        ), table


def test_real_slice_ingests_cleanly_with_its_quirks(
    any_db: Database, course_sample: Path, scalar
) -> None:  # type: ignore[no-untyped-def]
    report = ingest_directory(any_db, course_sample)

    assert_balanced(report)
    tables = report.tables()
    for table, rows in EXPECTED_ROWS.items():
        assert tables[table].inserted == rows, table
        assert scalar(any_db, f"SELECT count(*) FROM {table}") == rows, table
    # Nothing is quarantined; the second series of one city conflicts with the first (its
    # keys, other values): each rejected row is recorded with the line it lost to.
    assert {t: c.quarantined for t, c in tables.items() if c.quarantined} == {}
    assert {t: c.conflicting for t, c in tables.items() if c.conflicting} == {"city_weather": 192}
    recorded = scalar(
        any_db,
        "SELECT count(*) FROM ingest_conflicts WHERE table_name = 'city_weather'"
        " AND kept_from LIKE 'line % of city_weather.csv'",
    )
    assert recorded == 192

    # The quirks are kept as data. Blanks in categorical and optional columns are NULL, as many as the files have.
    assert scalar(any_db, "SELECT count(*) FROM drivers WHERE gender IS NULL") == 23
    assert scalar(any_db, "SELECT count(*) FROM drivers WHERE driving_style IS NULL") == 52
    assert scalar(any_db, "SELECT count(*) FROM trucks WHERE fuel_type IS NULL") == 40
    assert scalar(any_db, "SELECT count(*) FROM trucks WHERE load_capacity_pounds IS NULL") == 57
    assert scalar(any_db, "SELECT count(*) FROM traffic WHERE no_of_vehicles IS NULL") == 3
    # Dirty but real: a negative experience stays.
    assert scalar(any_db, "SELECT min(experience) FROM drivers") == -8
    # hour stays HHMM; route weather's Date is ts; nanoseconds are parsed away.
    assert scalar(any_db, "SELECT count(DISTINCT hour) FROM traffic") == 24
    assert scalar(any_db, "SELECT max(hour) FROM city_weather") == 2300
    with any_db.engine.connect() as conn:
        ts = conn.execute(sa.text("SELECT min(ts) FROM route_weather")).scalar_one()
        arrival = conn.execute(
            sa.text(
                "SELECT estimated_arrival FROM truck_schedule WHERE truck_id = 27274345"
                " AND route_id = 'R-3bdbf899'"
            )
        ).scalar_one()
    assert pd.Timestamp(ts) == pd.Timestamp("2019-01-01 00:00:00")
    assert pd.Timestamp(arrival) == pd.Timestamp("2019-01-01 16:24:36")


def test_ingest_twice_changes_nothing(any_db: Database, small_sample: Path, dump) -> None:  # type: ignore[no-untyped-def]
    first = ingest_directory(any_db, small_sample)
    before = dump(any_db)
    second = ingest_directory(any_db, small_sample)
    after = dump(any_db)

    assert before == after
    assert sum(len(rows) for rows in before.values()) > 10_000
    assert before["ingest_conflicts"], "the sample's second city weather series conflicts"
    assert_balanced(second)
    for table, counts in second.tables().items():
        assert counts.inserted == 0, table
        assert counts.already_present == first.tables()[table].inserted, table
        assert counts.quarantined == first.tables()[table].quarantined, table
        assert counts.conflicting == first.tables()[table].conflicting, table


def test_ingest_log_records_each_source(any_db: Database, small_sample: Path) -> None:
    report = ingest_directory(any_db, small_sample)
    with any_db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT source_file, table_name, rows_read, rows_inserted, rows_present,"
                " rows_quarantined, status FROM ingest_log WHERE run_id = :r"
            ),
            {"r": report.run_id},
        ).all()
    logged = {(r[0], r[1]): tuple(r[2:]) for r in rows}
    assert logged == {
        (s.source, s.table): (s.read, s.inserted, s.already_present, s.quarantined, "ok")
        for s in report.sources
    }


def test_until_filters_rows_and_withholds_labels(
    any_db: Database, small_sample: Path, scalar
) -> None:  # type: ignore[no-untyped-def]
    until = dt.date(2019, 1, 1)  # the slice departs on Jan 1, 4 and 7
    report = ingest_directory(any_db, small_sample, until=until)
    assert_balanced(report)

    schedule = pd.read_csv(
        small_sample / "truck_schedule_table.csv",
        parse_dates=["departure_date", "estimated_arrival"],
    )
    kept = schedule[schedule["departure_date"] < "2019-01-02"]
    known = kept[kept["estimated_arrival"] < "2019-01-02"]
    withheld = len(kept) - len(known)
    assert withheld > 0, "the sample needs trips arriving after the cut-off"
    assert scalar(any_db, "SELECT count(*) FROM truck_schedule") == len(kept)
    assert scalar(any_db, "SELECT count(*) FROM truck_schedule WHERE delay IS NULL") == withheld
    assert int(scalar(any_db, "SELECT sum(delay) FROM truck_schedule")) == int(known["delay"].sum())
    src = next(s for s in report.sources if s.table == "truck_schedule")
    assert src.labels_withheld == withheld
    assert src.beyond_until == len(schedule) - len(kept)

    traffic = pd.read_csv(small_sample / "traffic_table.csv")
    in_window = int((traffic["date"] <= "2019-01-01").sum())
    assert scalar(any_db, "SELECT count(*) FROM traffic") == in_window
    tables = report.tables()
    assert tables["traffic"].read == in_window
    with any_db.engine.connect() as conn:
        latest = conn.execute(sa.text("SELECT max(ts) FROM route_weather")).scalar_one()
    weather = pd.read_csv(small_sample / "routes_weather.csv", parse_dates=["Date"])
    assert pd.Timestamp(latest) == weather.loc[weather["Date"] < "2019-01-02", "Date"].max()


def test_labels_withheld_by_until_are_filled_by_a_later_full_ingest(
    any_db: Database, small_sample: Path, scalar
) -> None:  # type: ignore[no-untyped-def]
    first = ingest_directory(any_db, small_sample, until=dt.date(2019, 1, 1))
    withheld = next(s for s in first.sources if s.table == "truck_schedule").labels_withheld

    later = ingest_directory(any_db, small_sample)

    src = next(s for s in later.sources if s.table == "truck_schedule")
    assert withheld > 0
    assert src.labels_filled == withheld
    assert src.read == src.inserted + src.already_present + src.conflicting + src.quarantined
    schedule = pd.read_csv(small_sample / "truck_schedule_table.csv")
    assert scalar(any_db, "SELECT count(*) FROM truck_schedule WHERE delay IS NULL") == 0
    assert int(scalar(any_db, "SELECT sum(delay) FROM truck_schedule")) == int(
        schedule["delay"].sum()
    )


def test_streaming_files_fill_the_same_tables(db: Database, small_sample: Path, scalar) -> None:  # type: ignore[no-untyped-def]
    lines = (small_sample / "truck_schedule_table.csv").read_text().splitlines()
    week3 = [
        line.replace("2019-01-07", "2019-01-21").replace("2019-01-08", "2019-01-22")
        for line in lines[1:]
        if ",2019-01-07 07:00:00," in line
    ]
    (small_sample / "streaming_schedule.csv").write_text("\n".join([lines[0], *week3]) + "\n")
    weather = (small_sample / "city_weather.csv").read_text().replace("2019-01-01", "2019-01-21")
    (small_sample / "streaming_city_weather.csv").write_text(weather)

    report = ingest_directory(db, small_sample)

    by_source = {s.source: s for s in report.sources if s.table != "cities"}
    assert by_source["streaming_schedule.csv"].table == "truck_schedule"
    assert by_source["streaming_schedule.csv"].inserted == len(week3)
    assert by_source["streaming_city_weather.csv"].table == "city_weather"
    assert scalar(db, "SELECT count(*) FROM truck_schedule") == len(lines) - 1 + len(week3)
    assert (
        scalar(
            db, "SELECT count(*) FROM quarantine WHERE source_file = 'streaming_city_weather.csv'"
        )
        == by_source["city_weather.csv"].quarantined
    )
