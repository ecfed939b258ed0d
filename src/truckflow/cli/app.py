"""The ``truckflow`` command: a thin layer that builds library objects and calls one method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from truckflow import __version__
from truckflow.allocator import limit_arenas
from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors

__all__ = ["app", "main"]

app = typer.Typer(
    name="truckflow",
    help="Truck-delay MLOps on your laptop: data, pipelines, models, serving, streaming, drift.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    home: str | None = typer.Option(
        None, "--home", envvar="TRUCKFLOW_HOME", help="Home folder (default ./.truckflow)."
    ),
    database_url: str | None = typer.Option(
        None, "--db", help="Database URL (default: SQLite in the home).", show_default=False
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of a failure, not only its message."
    ),
) -> None:
    """Global options; settings come from arguments, then TRUCKFLOW_* variables, then .env."""
    state.configure(home=home, database_url=database_url, debug=debug)


@dataclass(frozen=True)
class Migrated:
    """``init``: the database (password hidden) and the revision it is at, beside the head."""

    database: str
    revision: str | None
    head: str | None


@app.command()
def init(as_json: bool = JSON_OPTION) -> None:
    """Create or upgrade the operational database (idempotent).

    Example: [bold]truckflow init[/] or [bold]truckflow --db postgresql://postgres@127.0.0.1/tf init[/]
    """
    with fail_on_errors(as_json):
        from truckflow.store import connect
        from truckflow.store.migrate import head_revision, upgrade

        settings = state.settings()
        db = connect(settings)
        revision = upgrade(db)
        result = Migrated(db.safe_url, revision, head_revision())

    def render(r: Migrated) -> None:
        console.print(f"database [bold]{r.database}[/] at revision [bold]{r.revision}[/]")

    emit(result, as_json, render)


@app.command()
def config(as_json: bool = JSON_OPTION) -> None:
    """Show the settings in force, secrets masked.

    Example: [bold]TRUCKFLOW_HOME=/tmp/tf truckflow config --json[/]
    """
    with fail_on_errors(as_json):
        result = state.settings().public_dict()

    def render(r: dict[str, Any]) -> None:
        for key, value in r.items():
            # A section shows one line per field, by the dotted name origin() takes.
            fields = value if isinstance(value, dict) and key != "database_url" else {"": value}
            for field, shown in fields.items():
                name = f"{key}.{field}" if field else key
                console.print(f"[bold]{name}[/] = {shown}", highlight=False)

    emit(result, as_json, render)


@app.command()
def version() -> None:
    """Print truckflow's version. Example: [bold]truckflow version[/]"""
    console.print(__version__)


def _register_subcommands() -> None:
    from truckflow.cli import (
        dashboard,
        data,
        demo,
        features,
        model,
        notify,
        pipeline,
        predict,
        release,
        serve,
        stream,
    )

    app.add_typer(data.app, name="data")
    app.add_typer(features.app, name="features")
    app.add_typer(model.app, name="model")
    app.add_typer(pipeline.app, name="pipeline")
    app.add_typer(notify.app, name="notify")
    app.add_typer(stream.app, name="stream")
    app.command("serve")(serve.serve)
    app.command("predict")(predict.predict)
    app.command("release")(release.release)
    app.command("deployments")(release.deployments)
    app.command("demo")(demo.demo)
    app.command("dashboard")(dashboard.dashboard)


_register_subcommands()


def main() -> None:
    limit_arenas()  # the process is truckflow's own: a long replay must not grow by arenas
    app()
