"""Channel secrets never show: not in logs, the outbox table, reprs, error messages or settings."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from notify_servers import SMTP_PASSWORD, WEBHOOK_TOKEN, Clock, SmtpServer, WebhookServer
from pydantic import SecretStr

from truckflow.events import Event, Severity
from truckflow.notify import Notifications, NotifyError, load_config, notify_outbox
from truckflow.notify.catalogue import pipeline_failed, pipeline_started
from truckflow.notify.channels import build_channel
from truckflow.notify.secrets import redact_url
from truckflow.settings import Settings
from truckflow.store import Database

SECRETS = (SMTP_PASSWORD, WEBHOOK_TOKEN)


pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def _assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), f"secret found in {where}"


def _dump(db: Database) -> str:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(notify_outbox)).all()
    assert rows, "the outbox is empty: nothing was checked"
    return "\n".join(repr(tuple(row)) for row in rows)


def test_no_secret_in_logs_outbox_reprs_or_errors(
    settings: Settings,
    db: Database,
    clock: Clock,
    smtp_server: SmtpServer,
    webhook: WebhookServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, apprise's and urllib3's debug output included
    configured = settings.updated(
        notify={
            "channels": {
                "mail": SecretStr(smtp_server.url()),
                "hook": SecretStr(webhook.url),
            },
            "routes": [{"events": ["*"], "channels": ["mail", "hook", "log", "file"]}],
        }
    )
    notes = Notifications.open(configured, db, clock=clock)
    smtp_server.stop()
    webhook_url = webhook.url
    webhook.stop()
    # A careless emitter puts a URL into an event: the outbox masks it.
    notes.sink.emit(
        pipeline_failed("p", "e", step="s", error=f"could not post to {webhook_url}", log="x")
    )
    failed = notes.dispatch()
    assert set(failed.errors) == {"mail", "hook"}

    smtp_server.start()
    webhook.start()
    clock.advance(hours=2)
    notes.sink.emit(pipeline_started("p", "e2"))
    done = notes.dispatch()
    assert done.errors == {} and done.delivered == 6  # 8 rows, log and file went first
    assert len(smtp_server.messages) == 2 and len(webhook.received) == 2

    assert "JSON POST URL" in caplog.text  # apprise's debug lines were captured, and scrubbed
    _assert_clean("logs", caplog.text)
    _assert_clean("outbox table", _dump(db))
    _assert_clean("dispatch errors", repr(failed.to_dict()))
    _assert_clean("received mail", "\n".join(str(m) for m in smtp_server.messages))
    config = load_config(configured)
    for name, obj in {
        "notifications": notes,
        "config": config,
        "channels": list(config.channels.values()),
        "channel objects": [build_channel(s, settings.home) for s in config.channels.values()],
        "settings": configured,
        "settings.public_dict": configured.public_dict(),
        "config.public": config.public(),
    }.items():
        _assert_clean(name, repr(obj))
        _assert_clean(name, str(obj))


def test_redacted_urls_keep_what_identifies_the_channel() -> None:
    assert (
        redact_url(f"mailto://alerts:{SMTP_PASSWORD}@smtp.example.com:2525?to=ops@example.com")
        == "mailto://alerts:***@smtp.example.com:2525?***"
    )
    assert redact_url(f"json://127.0.0.1:8080/hooks/{WEBHOOK_TOKEN}") == "json://127.0.0.1:8080/***"
    slack = redact_url("slack://T1234ABCD/B5678EFGH/xyzTOKEN123456789")
    assert slack == "slack://***/***"


def test_config_errors_do_not_echo_urls(settings: Settings) -> None:
    settings.ensure_home()
    (settings.home / "notify.toml").write_text(
        f'[channels.ops]\nurl = "mailto://a:{SMTP_PASSWORD}@h?to=x@y.z"\ndigest = "weekly"\n',
        encoding="utf-8",
    )
    with pytest.raises(NotifyError) as info:
        load_config(settings)
    assert "channel 'ops'" in str(info.value) and "digest" in str(info.value)
    _assert_clean("config error", str(info.value))


def test_inline_failure_warning_is_scrubbed(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"json://127.0.0.1:1/hooks/{WEBHOOK_TOKEN}"
    configured = settings.updated(
        notify={
            "channels": {"hook": SecretStr(url)},
            "routes": [{"events": ["*"], "channels": ["hook"]}],
        }
    )
    notes = Notifications.open(configured, db, inline=True)
    notes.sink.emit(Event(type="x.y", subject="s", severity=Severity.ERROR))
    assert "notification channel hook" in caplog.text
    _assert_clean("logs", caplog.text)
    [row] = notes.outbox()
    assert row["last_error"] and "Connection" in row["last_error"]
    _assert_clean("last_error", row["last_error"])
