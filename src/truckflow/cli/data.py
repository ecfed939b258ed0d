"""``truckflow data``: generate course-format files and ingest them."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="Course-format data: generate a synthetic world, ingest CSV files.")
