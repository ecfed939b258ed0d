"""A real uvicorn server for an app, on a free loopback port, in a thread of this process.

The release's acceptance checks use it when no staging URL is configured: their smoke requests
and latency budget then go through HTTP, as a client of the staging server would see them.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

from truckflow.serving.errors import ServingError

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """``with BackgroundServer(app) as server:`` requests go to ``server.url``; the app's
    lifespan runs, so its shutdown (the capture writer's flush) happens on leaving."""

    def __init__(self, app: Any, *, start_timeout: float = 30.0) -> None:
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self._timeout = start_timeout

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.server.should_exit = True
                raise ServingError(f"the local server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
