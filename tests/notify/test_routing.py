"""The event catalogue and the routing rules (file in the home, environment, defaults)."""

from __future__ import annotations

import pytest

from truckflow.events import Event, Severity
from truckflow.notify import DEFAULT_SEVERITY, EventType, Notifications, NotifyError, load_config
from truckflow.notify.catalogue import (
    data_quality_failed,
    drift_detected,
    features_waiting,
    metrics_daily,
    model_promoted,
    model_rolled_back,
    pipeline_failed,
    pipeline_started,
    retraining_done,
    step_retried,
)
from truckflow.settings import Settings
from truckflow.store import Database

RULES = """
[channels.ops]
url = "json://127.0.0.1:9/ops"
[channels.ml]
url = "json://127.0.0.1:9/ml"

[[routes]]
events = ["pipeline.failed", "step.*"]
min_severity = "error"
channels = ["ops"]

[[routes]]
events = ["drift.*", "model.*", "retraining.done"]
min_severity = "info"
channels = ["ml"]

[[routes]]
events = "*"
min_severity = "warning"
channels = ["ops", "file"]
"""


def test_every_type_has_a_default_severity() -> None:
    assert set(DEFAULT_SEVERITY) == set(EventType)
    assert DEFAULT_SEVERITY[EventType.PIPELINE_FAILED] == Severity.ERROR
    assert DEFAULT_SEVERITY[EventType.DRIFT_DETECTED] == Severity.WARNING
    assert DEFAULT_SEVERITY[EventType.METRICS_DAILY] == Severity.INFO


def test_builders_carry_the_structured_facts() -> None:
    failed = pipeline_failed("training", "e1", step="fit", error="OOM", log="runs/e1/fit.log")
    assert (failed.type, failed.severity) == ("pipeline.failed", Severity.ERROR)
    assert failed.body == {
        "pipeline": "training",
        "execution_id": "e1",
        "step": "fit",
        "error": "OOM",
        "log": "runs/e1/fit.log",
    }
    dq = data_quality_failed(
        "traffic", rows_checked=100, rows_failed=3, rows_quarantined=3, quarantine="quarantine"
    )
    assert dq.body["rows_failed"] == 3 and dq.body["quarantine"] == "quarantine"
    drift = drift_detected({"temp": 0.4, "distance": 0.3}, threshold=0.2, report="drift.html")
    assert drift.body["columns"] == ["distance", "temp"] and drift.body["report"] == "drift.html"
    assert features_waiting("2019-02-01", trips=12).body["trips"] == 12
    assert (
        model_rolled_back(
            "m", stage="production", from_version="3", to_version="2", reason="x"
        ).severity
        == Severity.ERROR
    )
    assert (
        model_promoted("m", "3", stage="staging").subject == "model m version 3 promoted to staging"
    )
    assert step_retried("p", "e", step="s", attempt=2, error="x", delay_s=4).type == "step.retried"
    assert metrics_daily("2019-02-01", {"mae": 1}).body["metrics"] == {"mae": 1.0}
    assert retraining_done("m", "4", reason="drift", promoted=True).body["promoted"] is True


def _names(settings: Settings, event: Event) -> list[str]:
    return [spec.name for spec in load_config(settings).channels_for(event)]


def test_rules_file_routes_by_type_and_severity(settings: Settings) -> None:
    settings.ensure_home()
    (settings.home / "notify.toml").write_text(RULES, encoding="utf-8")

    assert _names(settings, pipeline_failed("p", "e", step="s", error="x")) == ["ops", "file"]
    assert _names(settings, pipeline_started("p", "e")) == []
    assert _names(settings, drift_detected({"a": 1.0}, threshold=0.5)) == ["ml", "ops", "file"]
    assert _names(settings, model_promoted("m", "1", stage="production")) == ["ml"]
    # Severity is per event, not per type: a warning-level step.failed misses the error route.
    quiet = Event(type="step.failed", subject="s", severity=Severity.WARNING)
    assert _names(settings, quiet) == ["ops", "file"]
    info = Event(type="step.failed", subject="s", severity=Severity.INFO)
    assert _names(settings, info) == []


def test_yaml_rules_and_environment_override(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ensure_home()
    (settings.home / "notify.yaml").write_text(
        "channels:\n  team: {digest: daily}\nroutes:\n  - {events: ['model.*'], channels: [team]}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TRUCKFLOW_HOME", str(settings.home))
    monkeypatch.setenv(
        "TRUCKFLOW_NOTIFY__CHANNELS", '{"team": "slack://TA000000/BB000000/CCC0000000"}'
    )
    config = load_config(Settings())
    assert config.channels["team"].digest == "daily"
    assert config.channels["team"].kind == "apprise"
    assert _names(Settings(), model_promoted("m", "1", stage="staging")) == ["team"]

    monkeypatch.setenv("TRUCKFLOW_NOTIFY__ROUTES", '[{"events": ["*"], "channels": ["log"]}]')
    assert _names(Settings(), model_promoted("m", "1", stage="staging")) == ["log"]


def test_defaults_send_info_to_file_and_warnings_to_log(settings: Settings) -> None:
    assert _names(settings, pipeline_started("p", "e")) == ["file"]
    assert _names(settings, pipeline_failed("p", "e", step="s", error="x")) == ["file", "log"]
    assert load_config(settings).source == "built-in defaults"


def test_waiting_trips_are_not_a_second_terminal_line_each_day(settings: Settings) -> None:
    """The day's summary line counts the waiting trips; their event goes to the file only."""
    waiting = features_waiting("2019-02-16", trips=41)
    assert waiting.severity == Severity.INFO
    assert _names(settings, waiting) == ["file"]


def test_sink_writes_one_row_per_routed_channel(settings: Settings, db: Database) -> None:
    settings.ensure_home()
    (settings.home / "notify.toml").write_text(RULES, encoding="utf-8")
    notes = Notifications.open(settings, db)
    notes.sink.emit(pipeline_failed("p", "e", step="s", error="x"))
    notes.sink.emit(pipeline_started("p", "e"))  # routed nowhere
    notes.sink.emit(model_promoted("m", "1", stage="production"))
    rows = sorted((r["id"], r["event_type"], r["channel"]) for r in notes.outbox())
    assert [(t, c) for _, t, c in rows] == [
        ("pipeline.failed", "ops"),
        ("pipeline.failed", "file"),
        ("model.promoted", "ml"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[routes]]\nevents = ["*"]\nchannels = ["nowhere"]\n',
            "route 1 names unknown channel(s) nowhere",
        ),
        ("[channels.x]\ndigest = 'daily'\n", "channel 'x' has no url"),
        ("[channels\n", "is not valid TOML"),
        ("[[routes]]\nchannels = ['log']\nmin_severity = 'loud'\n", "route 1: min_severity"),
        ("[other]\n", "unknown section(s) other"),
    ],
)
def test_bad_rules_are_named(settings: Settings, text: str, message: str) -> None:
    settings.ensure_home()
    (settings.home / "notify.toml").write_text(text, encoding="utf-8")
    with pytest.raises(NotifyError, match=r"notify\.toml") as info:
        load_config(settings)
    assert message in str(info.value)
