"""Every page run by Streamlit's AppTest against the prepared home, and against an empty one."""

from __future__ import annotations

from pathlib import Path

import pytest
from page_app import page_app
from streamlit.testing.v1 import AppTest

from truckflow.registry import APPROVED, PENDING, REJECTED, ModelRegistry
from truckflow.settings import Settings

PAGES = ["overview", "pipelines", "models", "drift", "predictions", "notifications", "predict"]


def run_page(name: str) -> AppTest:
    at = page_app(name, timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Every text the page shows: titles, markdown, captions, alerts, code, metrics."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.error] + [str(e.value) for e in at.code]
    parts += [f"{m.label}={m.value}" for m in at.metric]
    return "\n".join(parts)


def frames(at: AppTest) -> list[object]:
    return [d.value for d in at.dataframe]


def test_overview_shows_production_model_f1_drift_and_notifications(
    home_env: dict[str, str],
) -> None:
    at = run_page("overview")
    shown = texts(at)
    assert f"Production model: truck-delay version {home_env['production']}" in shown
    assert "test_f1=" in shown
    assert "Week of 2019-02-08: DRIFT detected" in shown
    assert "5 days, last 2019-02-12" in shown
    outbox = frames(at)[0]
    assert "pipeline" in " ".join(outbox["event"])  # type: ignore[index]


def test_pipelines_shows_executions_steps_with_cache_and_the_graph(
    home_env: dict[str, str],
) -> None:
    at = run_page("pipelines")
    executions, steps = frames(at)
    assert list(executions["pipeline"]) == ["training"]  # type: ignore[index]
    assert list(executions["status"]) == ["succeeded"]  # type: ignore[index]
    assert {"load_window", "split", "evaluate", "register"} <= set(steps["step"])  # type: ignore[index]
    assert set(steps["cache"]) <= {"hit", "miss"}  # type: ignore[index]
    assert "miss" in set(steps["cache"])  # type: ignore[index]
    graph = at.get("graphviz_chart")[0].proto.spec
    assert '"split" -> "evaluate";' in graph
    assert '"passed" -> "register" [label="true"];' in graph
    assert "succeeded" in graph


def test_models_lists_versions_with_approval_and_aliases(home_env: dict[str, str]) -> None:
    at = run_page("models")
    versions = frames(at)[0]
    rows = {v: a for v, a in zip(versions["version"], versions["approval"], strict=True)}  # type: ignore[index]
    assert rows[home_env["production"]] == APPROVED
    assert home_env["pending"] in rows
    aliases = dict(zip(versions["version"], versions["aliases"], strict=True))  # type: ignore[index]
    assert aliases[home_env["production"]] == "production"
    assert "No deployment recorded yet" in texts(at)
    assert "truckflow release VERSION --auto-approve" in texts(at)
    # The version selected first is the pending one: it cannot be promoted before approval.
    assert at.button(key="promote").disabled


def test_drift_shows_scores_by_week_and_a_distribution(home_env: dict[str, str]) -> None:
    at = run_page("drift")
    runs, estimates, scores = frames(at)
    assert list(runs["week"].astype(str)) == ["2019-02-08"]  # type: ignore[index]
    assert list(scores.columns) == ["2019-02-08"]  # type: ignore[attr-defined]
    assert len(scores) > 10  # type: ignore[arg-type]
    assert any(str(v).endswith(" *") for v in scores["2019-02-08"])  # type: ignore[index]
    assert len(at.get("image")) == 1
    # Estimated against realized F1 by prediction day: a plot and its table, the realized
    # figure missing where the labels have not arrived, and what the estimate cannot see.
    assert "Estimated vs realized F1" in texts(at) and "concept shift" in texts(at)
    assert len(at.get("vega_lite_chart")) == 1
    assert len(estimates) == 5  # type: ignore[arg-type]
    assert estimates["realized F1"].isna().tolist() == [False] * 4 + [True]  # type: ignore[index]
    assert (estimates["low"] <= estimates["estimated F1"]).all()  # type: ignore[index]


def test_predictions_show_daily_metrics_and_captures_joined_with_labels(
    home_env: dict[str, str],
) -> None:
    at = run_page("predictions")
    daily, outcomes = frames(at)
    assert len(daily) == 5  # type: ignore[arg-type]
    assert int(outcomes["predictions"].sum()) == 6  # type: ignore[index]
    # The captured trips were labelled ones: every prediction has its ground truth.
    assert int(outcomes["labelled"].sum()) == 6  # type: ignore[index]
    assert "6 predictions, 6 with ground truth" in texts(at)


def test_notifications_show_the_outbox(home_env: dict[str, str]) -> None:
    at = run_page("notifications")
    outbox = frames(at)[0]
    assert len(outbox) >= 2  # type: ignore[arg-type]
    assert any("training" in s for s in outbox["subject"])  # type: ignore[index]


def test_predict_form_predicts_a_trip_with_the_production_model(home_env: dict[str, str]) -> None:
    at = run_page("predict")
    at.number_input(key="truck_id").set_value(int(home_env["truck_id"]))
    at.text_input(key="departure").input(home_env["departure"].replace("T", " ")[:16])
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    assert f"Truck {home_env['truck_id']} departing" in shown
    assert f"model version {home_env['production']} on production" in shown


def test_predict_form_lists_scheduled_trips_and_says_why(home_env: dict[str, str]) -> None:
    at = run_page("predict")
    options = at.selectbox(key="scheduled").options
    assert len(options) > 1 and options[1].startswith("truck ")
    at.selectbox(key="scheduled").set_value(options[1])
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    assert "departing" in shown and f"model version {home_env['production']}" in shown
    assert "Why" in shown and "the risk by" in shown


def test_predict_form_names_bad_input(home_env: dict[str, str]) -> None:
    at = run_page("predict")
    at.text_input(key="departure").input("yesterday")
    at.button[0].click().run()
    assert "'yesterday' is not a date and time" in texts(at)
    at.number_input(key="truck_id").set_value(1)
    at.text_input(key="departure").input("2019-02-14 07:00")
    at.button[0].click().run()
    assert "truck 1" in texts(at) and "not in truck_schedule" in texts(at)


def test_approve_then_reject_change_the_registry(
    prepared: tuple[Settings, dict[str, str]], home_env: dict[str, str]
) -> None:
    registry = ModelRegistry.from_settings(prepared[0])
    version = home_env["pending"]
    assert registry.get(version).approval_status == PENDING
    at = run_page("models")
    assert at.selectbox(key="model_version").value == f"version {version} ({PENDING})"
    at.button(key="reject").click().run()  # no comment: refused, nothing changes
    assert "the comment is required" in texts(at)
    assert registry.get(version).approval_status == PENDING

    at.text_input(key="model_comment").input("checked the shadow report")
    at.button(key="approve").click().run()
    assert not at.exception
    assert registry.get(version).approval_status == APPROVED
    assert registry.get(version).tags["approval_comment"] == "checked the shadow report"
    assert f"Version {version} approved." in texts(at)

    at.selectbox(key="model_version").set_value(f"version {version} ({APPROVED})").run()
    at.text_input(key="model_comment").input("F1 dropped on the staging feedback")
    at.button(key="reject").click().run()
    assert registry.get(version).approval_status == REJECTED
    assert f"Version {version} rejected." in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_home_says_what_to_run(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUCKFLOW_HOME", str(tmp_path / "fresh"))
    at = run_page(page)
    if page == "predict":
        at.number_input(key="truck_id").set_value(1)
        at.text_input(key="departure").input("2019-02-14 07:00")
        at.button[0].click().run()
        assert "no model deployed on stage 'production'" in texts(at)
    shown = texts(at)
    assert "truckflow demo" in shown, shown
    assert len(at.info) >= 1 or page == "predict"
