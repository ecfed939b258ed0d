"""Prometheus metrics of one app, on a registry of its own (so apps in one process never clash)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from truckflow.serving.capture import CaptureWriter

__all__ = ["MetricsMiddleware", "ServingMetrics"]

# Fine buckets at the low end: a single prediction takes well under a millisecond.
_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0)


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "truckflow_requests",
            "HTTP requests served, by route and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "truckflow_request_latency_seconds",
            "Time from request start to the end of the response, by route.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "truckflow_predictions",
            "Predictions made, by predicted class.",
            ["predicted_class"],
            registry=self.registry,
        )
        self.model_info = Gauge(
            "truckflow_model_version_info",
            "1 for the model version this server serves on its stage.",
            ["version", "stage"],
            registry=self.registry,
        )
        self._delayed = self.predictions.labels(predicted_class="delayed")
        self._on_time = self.predictions.labels(predicted_class="on_time")

    def count_predictions(self, delayed: int, total: int) -> None:
        if delayed:
            self._delayed.inc(delayed)
        if total - delayed:
            self._on_time.inc(total - delayed)

    def model_swapped(self, old: tuple[str, str] | None, new: tuple[str, str] | None) -> None:
        if old is not None:
            self.model_info.remove(*old)
        if new is not None:
            self.model_info.labels(*new).set(1)

    def watch_capture(self, writer: CaptureWriter) -> None:
        """Gauges read from the capture writer at each scrape: a growing ``pending`` says the
        database does not keep up with the predictions; ``lost`` says it refused some."""

        def reader(attr: str) -> Callable[[], float]:
            return lambda: float(getattr(writer, attr))

        for name, doc in (
            ("pending", "Predictions queued for the database, not written yet."),
            ("written", "Predictions written to the database since the start."),
            ("lost", "Predictions the database refused after every retry."),
        ):
            gauge = Gauge(f"truckflow_capture_{name}", doc, registry=self.registry)
            gauge.set_function(reader(name))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI (no per-request task or body copy): counts requests and times them by route."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # Each label combination's children, looked up once (labels() takes a lock and
        # builds its key on every call). Routes are templates: the combinations are few.
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            # The route's template, never the raw path: unknown paths must not add label values.
            name = getattr(route, "path", None) or "unmatched"
            key = (scope["method"], name, str(status))
            counter = self._counted.get(key)
            if counter is None:
                counter = self._counted[key] = self.metrics.requests.labels(*key)
            counter.inc()
            timer = self._timed.get(name)
            if timer is None:
                timer = self._timed[name] = self.metrics.latency.labels(name)
            timer.observe(time.perf_counter() - start)
