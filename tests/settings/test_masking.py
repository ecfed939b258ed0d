"""Secrets in the settings (a database password, SMTP passwords, webhook tokens) never show:
not in repr or str, not in the public dictionary, not in logs, not in ``truckflow config``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truckflow.cli.app import app
from truckflow.settings import Settings

DB_PASSWORD = "db-Pa55word-7f3a"
SMTP_PASSWORD = "smtp-Pa55word-91c2"
WEBHOOK_TOKEN = "hook-T0ken-5d8e0b"
ADMIN_TOKEN = "admin-T0ken-77aa"
SECRETS = (DB_PASSWORD, SMTP_PASSWORD, WEBHOOK_TOKEN, ADMIN_TOKEN)

DB_URL = f"postgresql+psycopg://truckflow:{DB_PASSWORD}@db.example.com:5432/truckflow"
CHANNELS = {
    "mail": f"mailtos://alerts:{SMTP_PASSWORD}@smtp.example.com?to=ops@example.com",
    "hook": f"json://hooks.example.com/hooks/{WEBHOOK_TOKEN}",
}


def _assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret shows in {where}"


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    import os

    for name in list(os.environ):
        if name.startswith("TRUCKFLOW_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    monkeypatch.setenv("TRUCKFLOW_HOME", str(home))
    monkeypatch.setenv("TRUCKFLOW_DATABASE_URL", DB_URL)
    monkeypatch.setenv("TRUCKFLOW_NOTIFY__CHANNELS", json.dumps(CHANNELS))
    monkeypatch.setenv("TRUCKFLOW_SERVING__ADMIN_TOKEN", ADMIN_TOKEN)
    return home


def test_secrets_are_read(secret_env: Path) -> None:
    """The masking below is not the secrets being lost: the code that connects gets them."""
    settings = Settings()
    assert settings.db_url == DB_URL
    assert settings.notify.channels["hook"].get_secret_value() == CHANNELS["hook"]
    assert settings.serving.admin_token is not None
    assert settings.serving.admin_token.get_secret_value() == ADMIN_TOKEN


def test_repr_str_and_dumps_mask_secrets(secret_env: Path) -> None:
    settings = Settings()
    _assert_clean("repr", repr(settings))
    _assert_clean("str", str(settings))
    _assert_clean("model_dump", repr(settings.model_dump()))
    _assert_clean("model_dump_json", settings.model_dump_json())
    public = settings.public_dict()
    _assert_clean("public_dict", json.dumps(public))
    # What identifies the database stays readable.
    assert "db.example.com" in json.dumps(public) and "truckflow" in json.dumps(public)


def test_a_password_in_the_mlflow_store_url_is_masked(
    secret_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"postgresql://mlflow:{DB_PASSWORD}@db.example.com/mlflow"
    monkeypatch.setenv("TRUCKFLOW_MLFLOW__TRACKING_URI", store)
    settings = Settings()
    assert settings.tracking_uri == store
    shown = settings.public_dict()["mlflow"]["tracking_uri"]
    assert shown == "postgresql://mlflow:***@db.example.com/mlflow"
    _assert_clean("repr", repr(settings))
    _assert_clean("model_dump_json", settings.model_dump_json())


def test_logs_mask_secrets(secret_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings()
    logging.getLogger("truckflow.test").info("settings in force: %s", settings)
    logging.getLogger("truckflow.test").info("public: %s", settings.public_dict())
    assert "settings in force" in caplog.text
    _assert_clean("logs", caplog.text)


def test_config_command_masks_secrets(secret_env: Path) -> None:
    runner = CliRunner()
    as_json = runner.invoke(app, ["config", "--json"])
    assert as_json.exit_code == 0, as_json.output
    shown = json.loads(as_json.stdout)
    assert shown["home"] == str(secret_env)
    _assert_clean("truckflow config --json", as_json.output)
    human = runner.invoke(app, ["config"])
    assert human.exit_code == 0 and "home" in human.stdout
    _assert_clean("truckflow config", human.output)
