"""``truckflow dashboard``: the Streamlit app, run by ``streamlit run`` with the settings in force."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import typer

from truckflow.cli.context import state
from truckflow.cli.output import fail_on_errors

__all__ = ["dashboard", "run_forwarding_signals", "streamlit_command", "streamlit_environment"]


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
    raise typer.Exit(run_forwarding_signals(streamlit_command(host, port), env))


def run_forwarding_signals(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` to its end, handing it the signals that stop this process.

    A service manager (or a test) stops ``truckflow dashboard`` with SIGTERM, which is not
    sent to the Streamlit child: forwarded, the child stops too instead of living on as an
    orphan. Ctrl-C reaches the whole process group already; we then wait for the child."""
    child = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    stopping = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, forward) for signum in stopping}
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                continue  # the child got it too; its exit ends the loop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    # A child stopped by a forwarded signal (or Ctrl-C) has done what was asked: not a failure.
    return 0 if code in (-signal.SIGTERM, -signal.SIGHUP, -signal.SIGINT) else code
