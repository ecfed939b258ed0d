"""``truckflow data ingest`` and ``truckflow data quarantine`` end to end, on SQLite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from truckflow.cli.app import app

runner = CliRunner()


def _sample(course_sample: Path, target: Path) -> Path:
    """The small files of the slice, and the first day of city weather (every city)."""
    target.mkdir()
    for name in (
        "trucks_table.csv",
        "drivers_table.csv",
        "routes_table.csv",
        "truck_schedule_table.csv",
    ):
        shutil.copy(course_sample / name, target / name)
    lines = (course_sample / "city_weather.csv").read_text().splitlines(keepends=True)
    first_day = [line for line in lines[1:] if line.split(",")[1] == "2019-01-01"]
    (target / "city_weather.csv").write_text("".join([lines[0], *first_day]))
    return target


def _invoke(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--home", str(home), *args])


def test_ingest_json_balances_and_second_run_inserts_nothing(
    course_sample: Path, tmp_path: Path
) -> None:
    folder = _sample(course_sample, tmp_path / "in")
    home = tmp_path / "home"

    first = _invoke(home, "data", "ingest", str(folder), "--json")
    second = _invoke(home, "data", "ingest", str(folder), "--json")

    assert first.exit_code == 0, first.output
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    for doc in (one, two):
        for name, counts in doc["tables"].items():
            assert counts["read"] == (
                counts["inserted"]
                + counts["already_present"]
                + counts["conflicting"]
                + counts["quarantined"]
            ), name
    assert one["tables"]["truck_schedule"]["inserted"] == 63
    assert one["tables"]["city_weather"]["conflicting"] == 24  # one city's second series
    assert two["total"]["inserted"] == 0
    assert two["total"]["already_present"] == one["total"]["inserted"]


def test_ingest_prints_a_table_and_quarantine_lists_rows(
    course_sample: Path, tmp_path: Path
) -> None:
    folder = _sample(course_sample, tmp_path / "in")
    home = tmp_path / "home"

    shown = _invoke(home, "data", "ingest", str(folder), "--until", "2019-01-01")
    listed = _invoke(home, "data", "conflicts", "--table", "city_weather", "--limit", "5", "--json")

    assert shown.exit_code == 0, shown.output
    for word in ("already present", "quarantined", "truck_schedule", "until 2019-01-01"):
        assert word in shown.stdout
    rows = json.loads(listed.stdout)["rows"]
    assert len(rows) == 5
    assert all(
        r["table"] == "city_weather" and r["source_file"] == "city_weather.csv" for r in rows
    )
    assert all(r["kept_from"].startswith("line ") for r in rows)
    assert all(r["kept"] != r["rejected"] for r in rows)


def test_unreadable_file_is_a_clear_error(course_sample: Path, tmp_path: Path) -> None:
    folder = _sample(course_sample, tmp_path / "in")
    (folder / "trucks_table.csv").write_text("truck_id,truck_age\n1,2\n")

    result = _invoke(tmp_path / "home", "data", "ingest", str(folder), "--json")
    text = _invoke(tmp_path / "home", "data", "ingest", str(folder))

    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "IngestError"
    assert "trucks_table.csv" in error["message"]
    assert "mileage_mpg" in error["message"]
    assert error["hint"].startswith("trucks needs the columns truck_id, truck_age")  # what to do
    assert text.exit_code == 1
    assert "trucks_table.csv" in text.output
    counts = json.loads(
        _invoke(tmp_path / "home", "data", "quarantine", "--counts", "--json").stdout
    )
    assert counts["counts"] == []  # failed whole: nothing loaded, nothing set aside


def test_a_stray_quote_is_one_quarantined_line_and_the_output_says_where_to_look(
    course_sample: Path, tmp_path: Path
) -> None:
    folder = _sample(course_sample, tmp_path / "in")
    drivers = folder / "drivers_table.csv"
    lines = drivers.read_text().splitlines()
    lines[7] = lines[7].replace(",", ',"', 1)
    drivers.write_text("\n".join(lines) + "\n")
    home = tmp_path / "home"

    shown = _invoke(home, "data", "ingest", str(folder))
    listed = _invoke(home, "data", "quarantine", "--json")

    assert shown.exit_code == 0, shown.output
    assert "see the rejected rows with truckflow data quarantine" in " ".join(shown.stdout.split())
    (row,) = json.loads(listed.stdout)["rows"]
    assert (row["table"], row["line_no"]) == ("drivers", 8)
    assert row["reason"].endswith("fix the line and ingest the file again")


def test_bad_until_date_is_rejected(tmp_path: Path) -> None:
    result = _invoke(tmp_path / "home", "data", "ingest", str(tmp_path), "--until", "soon")
    assert result.exit_code == 2
    assert "not a date" in result.output
