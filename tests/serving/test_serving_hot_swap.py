"""Hot swap under load on a real uvicorn server: promotions and a rollback, not one failure.

Client threads loop on /predict/features for the whole test and record, for every response, when
the request started and ended and which version served it. The test moves the staging alias
three times forward and once back: twice followed by POST /admin/reload, once (and the
rollback) left to the alias watcher. A version is "current" from the moment its alias is set until
the server has swapped in the next one; every response must name a version current at some
moment of its request, and every request must succeed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from conftest import ADMIN_TOKEN, FEATURES, Registry

VECTOR = {name: 0.25 for name in FEATURES}


@dataclass(frozen=True)
class Served:
    started: float
    ended: float
    status: int
    version: str | None


def _load(url: str, stop: threading.Event, out: list[Served]) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = client.post("/predict/features", json=VECTOR)
                status = response.status_code
                version = response.json().get("model_version") if status == 200 else None
            except httpx.HTTPError:
                status, version = -1, None
            out.append(Served(started, time.monotonic(), status, version))


def _wait_for_version(client: httpx.Client, version: str, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/health").json().get("model_version") == version:
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"the server did not swap to version {version} within {timeout} s")


def _wait_until_served(
    results: list[list[Served]], version: str, after: float, n: int = 20, timeout: float = 30
) -> None:
    """Let the current version serve ``n`` requests started after ``after`` (a loaded machine
    can stall the server longer than any fixed pause) before the alias moves on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = sum(
            1 for out in results for s in list(out) if s.version == version and s.started > after
        )
        if done >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"version {version} served fewer than {n} requests within {timeout} s")


def test_promotions_and_rollback_under_load(
    registry: Registry, make_app: Any, live_server: Any
) -> None:
    v1, v2, v3, v4 = registry.versions
    registry.set_alias("staging", v1)
    app = make_app("staging", watch=True)
    windows: list[tuple[str, float, float]] = []  # version, set at, replaced by the next at

    with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as admin:
        results: list[list[Served]] = [[] for _ in range(4)]
        stop = threading.Event()
        clients = [threading.Thread(target=_load, args=(server.url, stop, out)) for out in results]
        for thread in clients:
            thread.start()
        current, since = v1, time.monotonic()
        live_from = since  # when the server had swapped the current version in
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        try:
            # (version, how the server learns of it): promotions 2, 3, 4, then rollback to 3.
            for version, by in ((v2, "reload"), (v3, "watcher"), (v4, "reload"), (v3, "watcher")):
                _wait_until_served(results, current, after=live_from)
                set_at = time.monotonic()
                registry.set_alias("staging", version)
                if by == "reload":
                    reply = admin.post("/admin/reload", headers=auth)
                    assert reply.status_code == 200, reply.text
                    assert reply.json()["model_version"] == version
                    swapped_at = time.monotonic()
                else:
                    swapped_at = _wait_for_version(admin, version)
                windows.append((current, since, swapped_at))
                current, since, live_from = version, set_at, swapped_at
            _wait_until_served(results, current, after=live_from)
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=60)
        windows.append((current, since, float("inf")))

    served = [s for out in results for s in out]
    failures = [s for s in served if s.status != 200]
    assert served and not failures, f"{len(failures)} of {len(served)} requests failed"

    def current_during(s: Served) -> set[str]:
        return {v for v, start, end in windows if start <= s.ended and s.started <= end}

    wrong = [s for s in served if s.version not in current_during(s)]
    assert not wrong, f"{len(wrong)} responses named a version not current during the request"
    assert {s.version for s in served} == {v1, v2, v3, v4}
    # After the last swap, requests that started later are all served by the rolled-back version.
    last_swap = windows[-2][2]
    assert {s.version for s in served if s.started > last_swap} == {v3}
