"""``truckflow data``: generate course-format files and ingest them."""

from __future__ import annotations

import typer

from truckflow.cli.generate import generate
from truckflow.cli.ingest import conflicts, ingest, quarantine

__all__ = ["app"]

app = typer.Typer(help="Course-format data: generate a synthetic world, ingest CSV files.")

# Each command lives in its own module; this file only registers them.
app.command("generate")(generate)
app.command("ingest")(ingest)
app.command("quarantine")(quarantine)
app.command("conflicts")(conflicts)
