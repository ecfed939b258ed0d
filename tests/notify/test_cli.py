"""``truckflow notify``: test, outbox, flush, channels, through the real command line app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from notify_servers import WEBHOOK_TOKEN, WebhookServer, free_port
from typer.testing import CliRunner

from truckflow.cli.app import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRUCKFLOW_HOME", str(tmp_path / "home"))
    for name in (
        "TRUCKFLOW_NOTIFY__CHANNELS",
        "TRUCKFLOW_NOTIFY__ROUTES",
        "TRUCKFLOW_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def _json(args: list[str], code: int = 0) -> object:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert WEBHOOK_TOKEN not in result.output
    return json.loads(result.stdout)


def test_notify_test_to_a_one_off_webhook(home: Path, webhook: WebhookServer) -> None:
    doc = _json(["notify", "test", "--channel", webhook.url, "--json"])
    assert isinstance(doc, dict) and doc["ok"] is True
    [payload] = webhook.received
    assert payload["title"] == "[truckflow INFO] truckflow notification test"
    [row] = _json(["notify", "outbox", "--json"])  # type: ignore[misc]
    assert row["status"] == "delivered" and row["channel"].startswith("test-")
    assert row["channel_url"] == f"json://127.0.0.1:{webhook.port}/***"


def test_notify_test_to_configured_channels_writes_the_file(home: Path) -> None:
    doc = _json(["notify", "test", "--json"])
    assert isinstance(doc, dict) and doc["ok"] is True
    assert sorted(doc["report"]["channels"]) == ["file", "log"]
    assert "notify.test" in (home / "notifications.jsonl").read_text(encoding="utf-8")


def test_failed_one_off_test_is_reported_and_retired(home: Path) -> None:
    url = f"json://127.0.0.1:{free_port()}/hooks/{WEBHOOK_TOKEN}"
    doc = _json(["notify", "test", "--channel", url, "--json"], code=1)
    assert isinstance(doc, dict) and doc["ok"] is False
    assert _json(["notify", "outbox", "--pending", "--json"]) == []
    [row] = _json(["notify", "outbox", "--json"])  # type: ignore[misc]
    assert row["status"] == "failed" and "Connection" in row["last_error"]


def test_flush_delivers_pending_and_outbox_lists_them(
    home: Path, webhook: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUCKFLOW_NOTIFY__CHANNELS", json.dumps({"hook": webhook.url}))
    monkeypatch.setenv("TRUCKFLOW_NOTIFY__ROUTES", '[{"events": ["*"], "channels": ["hook"]}]')
    webhook.stop()
    assert _json(["notify", "test", "--json"], code=1)
    [pending] = _json(["notify", "outbox", "--pending", "--json"])  # type: ignore[misc]
    assert pending["attempts"] == 1 and pending["status"] == "pending"

    webhook.start()
    flushed = _json(["notify", "flush", "--force", "--json"])
    assert flushed == {
        "delivered": 1,
        "pending": 0,
        "channels": {"hook": {"delivered": 1, "messages": 1, "error": None, "retry_at": None}},
    }
    assert len(webhook.received) == 1
    channels = _json(["notify", "channels", "--json"])
    assert isinstance(channels, dict)
    assert {c["name"] for c in channels["channels"]} == {"hook", "log", "file"}


def test_help_has_examples(home: Path) -> None:
    for command in ("test", "outbox", "flush", "channels"):
        result = runner.invoke(app, ["notify", command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
