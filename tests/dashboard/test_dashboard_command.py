"""The command line that ``truckflow dashboard`` hands to Streamlit, its environment, and how it
stops."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil
from dashboard_process import free_port, start_dashboard, wait_healthy

from truckflow.cli.context import state
from truckflow.cli.dashboard import streamlit_command, streamlit_environment
from truckflow.dashboard import APP_FILE
from truckflow.dashboard.graph import definition_dot


def test_streamlit_runs_the_app_headless_without_usage_statistics() -> None:
    command = streamlit_command("127.0.0.1", 8765)
    assert command[1:5] == ["-m", "streamlit", "run", str(APP_FILE)]
    pairs = dict(zip(command[5::2], command[6::2], strict=True))
    assert pairs["--server.headless"] == "true"
    assert pairs["--browser.gatherUsageStats"] == "false"
    assert pairs["--server.port"] == "8765" and pairs["--server.address"] == "127.0.0.1"


def test_the_settings_in_force_reach_the_app_through_the_environment(tmp_path: Path) -> None:
    state.configure(home=str(tmp_path / "h"), database_url="sqlite:///" + str(tmp_path / "x.db"))
    try:
        env = streamlit_environment({"STREAMLIT_BROWSER_GATHER_USAGE_STATS": "true"})
    finally:
        state.configure(home=None, database_url=None)
    assert env["TRUCKFLOW_HOME"] == str(tmp_path / "h")
    assert env["TRUCKFLOW_DATABASE_URL"].endswith("x.db")
    assert env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true" and env["DO_NOT_TRACK"] == "1"


def test_graph_has_data_edges_and_condition_branches() -> None:
    definition = {
        "steps": [
            {"name": "a", "kind": "function", "depends_on": [], "inputs": {}},
            {"name": "b", "kind": "function", "depends_on": [], "inputs": {"x": {"$step": "a"}}},
            {
                "name": "ok",
                "kind": "condition",
                "depends_on": [],
                "if_steps": ["c"],
                "else_steps": ["d"],
                "condition": {"operands": [{"$step": "b"}, True]},
            },
            {"name": "c", "kind": "function", "depends_on": ["b"]},
            {"name": "d", "kind": "fail", "depends_on": []},
        ]
    }
    dot = definition_dot(definition, {"a": "succeeded", "d": "skipped"})
    assert '"a" -> "b";' in dot and '"b" -> "ok";' in dot and '"b" -> "c";' in dot
    assert '"ok" -> "c" [label="true"];' in dot and '"ok" -> "d" [label="false"];' in dot
    assert 'label="a\\nsucceeded"' in dot and 'label="c\\nnot run"' in dot
    assert "shape=diamond" in dot and "shape=octagon" in dot


def test_sigterm_stops_the_streamlit_child_too(tmp_path: Path) -> None:
    """A service manager stops ``truckflow dashboard`` with SIGTERM: no Streamlit orphan."""
    port = free_port()
    with (tmp_path / "dashboard.log").open("wb") as log:
        process = start_dashboard(tmp_path / "home", port, log)
        children: list[psutil.Process] = []
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process)
            children = psutil.Process(process.pid).children(recursive=True)
            assert children, "the dashboard runs Streamlit in a child process"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
            _, alive = psutil.wait_procs(children, timeout=30)
            assert alive == []
        finally:
            for child in children:  # never leave one behind, even when the test fails
                if child.is_running():
                    child.kill()
            if process.poll() is None:
                process.kill()
                process.wait()
