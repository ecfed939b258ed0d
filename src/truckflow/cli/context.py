"""The settings a command runs with, built once from the global options."""

from __future__ import annotations

import os
from typing import Any

from truckflow.settings import Settings

__all__ = ["state"]


class _State:
    def __init__(self) -> None:
        self._overrides: dict[str, Any] = {}
        self._settings: Settings | None = None
        self.debug = False

    def configure(self, *, home: str | None, database_url: str | None, debug: bool = False) -> None:
        self.debug = debug
        # The projects' own processes never phone home, whatever the user's environment says.
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        os.environ.setdefault("DO_NOT_TRACK", "1")
        if not debug:
            from truckflow.cli.quiet import quiet_third_party

            quiet_third_party()
        if database_url is not None:
            _warn_on_password(database_url)
        self._overrides = {
            k: v for k, v in {"home": home, "database_url": database_url}.items() if v is not None
        }
        self._settings = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings(**self._overrides)
        return self._settings


def _warn_on_password(url: str) -> None:
    """A password in an argument is visible to every user of the machine (ps, /proc)."""
    import sys
    from urllib.parse import urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:  # a malformed URL is the database layer's error to report
        return
    if password:
        print(
            "warning: the password given in --db is visible to other users of this machine"
            " (ps); set TRUCKFLOW_DATABASE_URL in the environment or a .env file instead",
            file=sys.stderr,
        )


state = _State()
