"""A new user's first hour: what the commands say when a step was skipped, a schema is missing,
an id is cut short or a password is typed on the command line; output readable at 80 columns."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from truckflow.cli.app import app
from truckflow.pipeline.history import list_executions
from truckflow.pipeline.tables import pipeline_executions
from truckflow.store import SchemaMissingError, connect

SNAPSHOT = Path(__file__).parent / "snapshots" / "first_hour_80_columns.txt"
cli = CliRunner()


def _cli(home: Path, *args: str, code: int = 0) -> Any:
    result = cli.invoke(app, ["--home", str(home), *args], env={"COLUMNS": "80"})
    assert result.exit_code == code, result.output
    return result


def _blank(text: str) -> str:
    """Ids, clock times and durations masked, keeping their widths (the layout is the point)."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "x" * 36, text)
    return re.sub(r"\b\d+\.\d{3}\b", lambda m: "0" * len(m.group()), text)


def test_tables_at_80_columns_match_the_snapshot(course_sample: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    ingested = _cli(home, "data", "ingest", str(course_sample)).stdout
    _cli(home, "pipeline", "run", "example", "-p", "size=11")
    executions = _cli(home, "pipeline", "executions").stdout
    (execution_id,) = [
        e["execution_id"] for e in json.loads(_cli(home, "pipeline", "executions", "--json").stdout)
    ]
    described = _cli(home, "pipeline", "describe", execution_id[:6]).stdout
    for shown in (ingested, executions, described):
        assert "…" not in shown and max(len(line) for line in shown.splitlines()) <= 80
    first_cells = [line.split("│")[1].strip() for line in executions.splitlines() if "│" in line]
    assert "".join(first_cells) == execution_id  # whole, over several lines
    assert _blank(ingested + described) == SNAPSHOT.read_text(encoding="utf-8")


def test_describe_takes_a_unique_prefix(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ran = json.loads(_cli(home, "pipeline", "run", "example", "-p", "size=11", "--json").stdout)
    full = ran["execution_id"]
    shown = json.loads(_cli(home, "pipeline", "describe", full[:4], "--json").stdout)
    assert shown["execution_id"] == full
    # A second execution beginning with the same characters makes the short prefix ambiguous.
    db = connect(f"sqlite:///{home / 'truckflow.db'}")
    with db.begin() as conn:
        row = dict(conn.execute(sa.select(pipeline_executions)).mappings().one())
        conn.execute(pipeline_executions.insert().values({**row, "id": full[:4] + "0" * 32}))
    db.dispose()
    error = json.loads(_cli(home, "pipeline", "describe", full[:4], "--json", code=1).stdout)
    assert "ambiguous" in error["error"]["message"] and full in error["error"]["message"]
    assert (
        json.loads(_cli(home, "pipeline", "describe", full[:9], "--json").stdout)["execution_id"]
        == full
    )
    _cli(home, "pipeline", "describe", "zz", "--json", code=1)


def test_password_in_db_option_warns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    quiet = _cli(tmp_path, "--db", url, "pipeline", "list", "--json")
    assert "warning" not in quiet.stderr
    typed = cli.invoke(
        app, ["--db", "postgresql://me:s3cret@127.0.0.1:1/tf", "pipeline", "list", "--json"]
    )
    assert typed.exit_code == 0, typed.output
    assert "TRUCKFLOW_DATABASE_URL" in typed.stderr and "s3cret" not in typed.stderr


def test_training_before_features_says_what_to_run(course_sample: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    empty = _cli(home, "pipeline", "run", "training", "--json", code=1).stdout
    assert "truckflow data ingest" in json.loads(empty)["error"]
    _cli(home, "data", "ingest", str(course_sample), "--json")
    unfilled = json.loads(_cli(home, "pipeline", "run", "training", "--json", code=1).stdout)
    assert "63 labelled trips" in unfilled["error"]
    assert "truckflow features fill" in unfilled["error"]


def test_library_on_a_new_database_names_the_fix(any_db_url: str) -> None:
    db = connect(any_db_url)
    try:
        with pytest.raises(SchemaMissingError, match="no truckflow schema") as raised:
            list_executions(db)
    finally:
        db.dispose()
    assert "truckflow init" in str(raised.value)


def test_history_only_leaves_the_streaming_files_out(course_sample: Path, tmp_path: Path) -> None:
    folder = tmp_path / "world"
    shutil.copytree(course_sample, folder)
    schedule = (folder / "truck_schedule_table.csv").read_text().splitlines()
    future = [line.replace("2019-01-0", "2019-02-1") for line in schedule[1:4]]
    (folder / "streaming_schedule.csv").write_text("\n".join([schedule[0], *future]) + "\n")
    shown = json.loads(
        _cli(tmp_path / "home", "data", "ingest", str(folder), "--history-only", "--json").stdout
    )
    assert {s["source"] for s in shown["sources"]} == {p.name for p in course_sample.glob("*.csv")}
    assert shown["tables"]["truck_schedule"]["inserted"] == len(schedule) - 1


def test_third_party_warnings_stay_out_of_the_output(tmp_path: Path) -> None:
    child = "import warnings; warnings.warn('SOCKS support in urllib3 requires PySocks')"
    script = (
        "import subprocess, sys, warnings\n"
        "from truckflow.cli.context import state\n"
        "state.configure(home=None, database_url=None)\n"
        f"{child}\n"
        f"subprocess.run([sys.executable, '-c', {child!r}], check=True)\n"
        "import os; print(os.environ['MLFLOW_LOGGING_LEVEL'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert done.stderr == "" and done.stdout.strip() == "WARNING"
