"""A database that cannot be reached gives one answer, not a traceback; --debug adds it."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from typer.testing import CliRunner

from truckflow.cli.app import app

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _url() -> str:
    return f"postgresql+psycopg://tf:s3cret-pw@127.0.0.1:{_closed_port()}/truckflow"


def test_a_refused_connection_is_one_json_document_with_the_password_masked(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path), "--db", _url(), "init", "--json"])

    assert result.exit_code == 69
    doc = json.loads(result.stdout)
    assert set(doc) == {"error"}
    assert "refused" in doc["error"]["message"].lower()
    assert "run the command again" in doc["error"]["hint"]
    assert "s3cret-pw" not in result.output
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--home", str(tmp_path), "--db", _url(), "--debug", "data", "quarantine"]
    )

    assert result.exit_code == 69
    assert "Traceback" in result.output
    assert "check that the database is running" in result.output
    assert "s3cret-pw" not in result.output


def test_a_full_disk_is_one_message_with_what_to_do(tmp_path: Path) -> None:
    full = Path("/dev/full")  # every write to it fails with ENOSPC, as on a full disk
    if not full.exists():  # pragma: no cover - Linux has it
        return
    result = runner.invoke(
        app, ["--home", str(tmp_path), "data", "quarantine", "--export", str(full), "--json"]
    )

    assert result.exit_code == 74
    doc = json.loads(result.stdout)
    assert "No space left on device" in doc["error"]["message"]
    assert doc["error"]["hint"] == "free some space, then run the command again"
