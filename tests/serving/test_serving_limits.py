"""Bodies over the limits are refused while they are read (413, with a message), on a real
server, with /health answering throughout; a tampered model version is refused by the one
verified loader, and the server keeps serving the version it has."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from conftest import ADMIN_TOKEN
from truckflow.events import Event
from truckflow.registry import ModelRefusedError, ModelRegistry, load_stage, load_version
from truckflow.serving import DatabaseFeatureSource, MlflowModelSource, create_app
from truckflow.serving.background import BackgroundServer
from truckflow.settings import Settings

LIMIT = 64 * 1024


class Events:
    """An event sink that keeps what it is given."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    def emit(self, event: Event, connection: sa.Connection | None = None) -> None:
        self.seen.append(event)


def _app(model: dict[str, Any], name: str | None = None, events: Any = None, **changes: Any) -> Any:
    settings: Settings = model["settings"].updated(
        serving={"admin_token": SecretStr(ADMIN_TOKEN), **changes}
    )
    source = MlflowModelSource(
        settings.tracking_uri, name or settings.mlflow.model_name, events=events
    )
    return create_app(
        settings,
        model_source=source,
        feature_source=DatabaseFeatureSource(model["db"]),
        db=model["db"],
        stage="production",
        watch=False,
    )


@pytest.fixture(scope="module")
def server(pipeline_model: dict[str, Any]) -> Iterator[str]:
    with BackgroundServer(_app(pipeline_model, max_body_bytes=LIMIT)) as running:
        yield running.url


def test_an_announced_body_over_the_limit_is_refused_unread(server: str) -> None:
    body = b'{"rows": [' + b"0," * LIMIT + b"0]}"
    answer = httpx.post(f"{server}/predict/features/batch", content=body, timeout=30)
    assert answer.status_code == 413
    assert f"the limit is {LIMIT} bytes" in answer.json()["message"]


def test_a_streamed_body_is_cut_at_the_limit_while_health_answers(server: str) -> None:
    sent = {"bytes": 0}

    def slow() -> Iterator[bytes]:
        yield b'{"rows": ['
        for _ in range(200):  # 200 x 1 KiB over 2 s: well past the limit if all were read
            time.sleep(0.01)
            sent["bytes"] += 1024
            yield b"0," * 512

    result: dict[str, Any] = {}

    def upload() -> None:
        try:
            result["answer"] = httpx.post(
                f"{server}/predict/features/batch", content=slow(), timeout=30
            )
        except httpx.HTTPError as exc:  # the server may close before the client stops sending
            result["error"] = exc

    thread = threading.Thread(target=upload)
    thread.start()
    health = []
    while thread.is_alive():
        started = time.perf_counter()
        assert httpx.get(f"{server}/health", timeout=5).status_code == 200
        health.append(time.perf_counter() - started)
        time.sleep(0.05)
    thread.join()
    assert health and max(health) < 1.0
    if "answer" in result:
        assert result["answer"].status_code == 413, result["answer"].text
        assert "serving.max_body_bytes" in result["answer"].json()["message"]
    else:  # refused mid-upload: the connection closed before the client finished sending
        assert sent["bytes"] < 200 * 1024


def _tampered_versions(model: dict[str, Any]) -> tuple[ModelRegistry, str, str]:
    settings: Settings = model["settings"]
    source = ModelRegistry.from_settings(settings)
    estimator = load_version(source, model["version"].version).model
    registry = ModelRegistry(
        settings.tracking_uri,
        model_name=f"tamper-{uuid.uuid4().hex[:8]}",
        artifact_root=settings.mlflow_artifact_root,
    )
    good = registry.register(estimator, metrics={"test_f1": 0.5}).version
    bad = registry.register(estimator, metrics={"test_f1": 0.5})
    folder = Path(urlparse(bad.source).path)
    with (folder / "MLmodel").open("a") as handle:
        handle.write("# changed after registration\n")
    return registry, good, bad.version


def test_a_tampered_version_is_refused_and_the_old_one_keeps_serving(
    pipeline_model: dict[str, Any],
) -> None:
    registry, good, bad = _tampered_versions(pipeline_model)
    events = Events()
    with pytest.raises(ModelRefusedError, match="refusing to load it"):
        load_version(registry, bad, events=events)
    assert [e.type for e in events.seen] == ["model.load_refused"]
    assert events.seen[0].body["version"] == bad

    registry.set_alias("production", good)
    assert load_stage(registry, "production") is not None
    served = Events()
    app = _app(pipeline_model, registry.model_name, served)
    with TestClient(app) as client:
        assert client.get("/health").json()["model_version"] == good
        registry.set_alias("production", bad)
        reload = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert reload.status_code == 503 and "refusing to load it" in reload.json()["message"]
        assert client.get("/health").json()["model_version"] == good
    assert [e.type for e in served.seen] == ["model.load_refused"]
