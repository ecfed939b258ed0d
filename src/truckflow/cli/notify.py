"""``truckflow notify``: send a test notification, look at the outbox, deliver what is pending."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from pydantic import SecretStr
from rich.table import Table

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors

if TYPE_CHECKING:
    from truckflow.notify import Notifications, NotifyConfig
    from truckflow.notify.dispatcher import DispatchReport
    from truckflow.notify.service import SendTestResult

__all__ = ["app"]

app = typer.Typer(
    help="Notifications: routing rules, the outbox, delivery to log, file, e-mail, Slack, webhooks.",
    no_args_is_help=True,
)


def _open() -> Notifications:
    from truckflow.notify import Notifications
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    settings = state.settings()
    db = connect(settings)
    upgrade(db)  # idempotent: the outbox table must exist before anything is written
    return Notifications.open(settings, db)


@app.command("test")
def test_(
    channel: str | None = typer.Option(
        None,
        "--channel",
        help="Send only to this apprise URL (one-off, not stored); default every configured channel.",
        show_default=False,
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a test event through the outbox and deliver it at once.

    Example: [bold]truckflow notify test[/] or [bold]truckflow notify test --channel 'json://127.0.0.1:8000/hook'[/]
    """
    with fail_on_errors(as_json):
        result = _open().send_test(SecretStr(channel) if channel else None)

    def render(r: SendTestResult) -> None:
        for name, info in sorted(r.report.channels.items()):
            if info.error:
                console.print(f"[red]✗[/] {name}: {info.error}", highlight=False)
            else:
                console.print(f"[green]✓[/] {name}: delivered", highlight=False)

    emit(result, as_json, render)
    if not result.ok:
        raise typer.Exit(code=1)


@app.command("outbox")
def outbox(
    pending: bool = typer.Option(False, "--pending", help="Only rows not delivered yet."),
    limit: int = typer.Option(50, "--limit", min=1, help="Newest rows shown at most."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List outbox rows, newest first (channel URLs redacted).

    Example: [bold]truckflow notify outbox --pending --json[/]
    """
    with fail_on_errors(as_json):
        rows = _open().outbox(pending_only=pending, limit=limit)

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("id", "channel", "event", "status", "tries", "last error")
        for row in items:
            table.add_row(
                str(row["id"]),
                row["channel"],
                row["event_type"],
                row["status"],
                str(row["attempts"]),
                (row["last_error"] or "")[:60],
            )
        console.print(table)

    emit(rows, as_json, render)


@app.command("flush")
def flush(
    force: bool = typer.Option(
        False, "--force", help="Ignore retry delays and send today's digests as well."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Deliver pending notifications now (what pipelines do after each run).

    Example: [bold]truckflow notify flush --json[/]
    """
    with fail_on_errors(as_json):
        result = _open().dispatch(force=force)

    def render(r: DispatchReport) -> None:
        console.print(f"delivered [bold]{r.delivered}[/], pending [bold]{r.pending}[/]")
        for name, info in sorted(r.channels.items()):
            if info.error:
                console.print(f"  [red]{name}[/]: {info.error} (retry at {info.retry_at})")

    emit(result, as_json, render)


@dataclass(frozen=True)
class _Rules:
    """The rules in force; as JSON only what may be shown (the channels' URLs redacted)."""

    config: NotifyConfig

    def to_dict(self) -> dict[str, Any]:
        return self.config.public()


@app.command("channels")
def channels(as_json: bool = JSON_OPTION) -> None:
    """Show the routing rules in force and the channels (URLs redacted).

    Example: [bold]truckflow notify channels --json[/]
    """
    with fail_on_errors(as_json):
        from truckflow.notify import load_config

        result = _Rules(load_config(state.settings()))

    def render(r: _Rules) -> None:
        console.print(f"rules from [bold]{r.config.source}[/]")
        for spec in r.config.channels.values():
            digest = " (daily digest)" if spec.digest == "daily" else ""
            console.print(
                f"  channel [bold]{spec.name}[/] {spec.redacted_url}{digest}", highlight=False
            )
        for route in r.config.routes:
            console.print(
                f"  route {', '.join(route.events)} >= {route.min_severity.value} "
                f"-> {', '.join(route.channels)}",
                highlight=False,
            )

    emit(result, as_json, render)
