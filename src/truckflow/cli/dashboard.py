"""``truckflow dashboard``: the Streamlit app, run by ``streamlit run`` with the settings in force."""

from __future__ import annotations

import os
import subprocess
import sys

import typer

from truckflow.cli.context import state
from truckflow.cli.output import fail_on_errors

__all__ = ["dashboard", "streamlit_command", "streamlit_environment"]


def streamlit_command(host: str, port: int) -> list[str]:
    """``streamlit run`` on the app file: headless, no usage statistics, no file watching."""
    from truckflow.dashboard import APP_FILE

    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_FILE),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def streamlit_environment(base: dict[str, str]) -> dict[str, str]:
    """The environment the app runs in: the settings in force, and nothing phoning home."""
    settings = state.settings()
    env = dict(base)
    env["TRUCKFLOW_HOME"] = str(settings.home)
    if settings.database_url is not None:
        env["TRUCKFLOW_DATABASE_URL"] = settings.database_url.get_secret_value()
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "1"
    return env


def dashboard(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Open the dashboard: models, pipelines, drift, predictions, notifications, a trip form.

    Example: [bold]truckflow dashboard --port 8501[/] then browse to http://127.0.0.1:8501
    """
    with fail_on_errors():
        env = streamlit_environment(dict(os.environ))
    try:
        code = subprocess.call(streamlit_command(host, port), env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
