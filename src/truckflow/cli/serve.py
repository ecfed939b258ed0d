"""``truckflow serve``: the prediction API for one stage, under uvicorn."""

from __future__ import annotations

import os

import typer

from truckflow.cli.context import state
from truckflow.cli.output import fail_on_errors
from truckflow.registry import Stage

__all__ = ["serve"]

_FACTORY = "truckflow.serving.asgi:app_from_environment"


def serve(
    stage: Stage = typer.Option(
        ..., "--stage", help="Which alias to serve: staging or production."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    access_log: bool = typer.Option(
        False, "--access-log/--no-access-log", help="Log each request line (never headers)."
    ),
) -> None:
    """Serve predictions from the model version behind the stage's alias; hot-swaps on promotion.

    Example: [bold]truckflow serve --stage staging --port 8001 --workers 2[/]
    """
    import uvicorn

    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    with fail_on_errors():
        settings = state.settings()
        upgrade(connect(settings))  # once here, not in each worker
    # Workers build their own app from the environment: hand the settings in force to them.
    os.environ["TRUCKFLOW_SERVING__STAGE"] = stage.value
    os.environ["TRUCKFLOW_HOME"] = str(settings.home)
    if settings.database_url is not None:
        os.environ["TRUCKFLOW_DATABASE_URL"] = settings.database_url.get_secret_value()
    uvicorn.run(
        _FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
    )
