"""``POST /predict/features`` answered before FastAPI: a pure ASGI middleware.

Routing, the dependency solving and the request and response objects cost several times the
model call for one row. This middleware reads the body itself and runs the same steps as the
route (``reasons`` from the query string, the body read against the served version's
contract, ``Predictor.run_one``, ``single_answer``'s document and headers). Anything that is
not a plain success (a bad query or body, no model, a body over the limit) is handed to the
app with the body replayed, so that the route answers it exactly as it always has: the same
error documents, status codes and OpenAPI (the route stays registered and documented).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from truckflow.serving.answers import encode_single

if TYPE_CHECKING:
    from truckflow.serving.predict import Predictor

__all__ = ["FeaturesFastPath"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/predict/features"


@dataclass(frozen=True)
class _Route:
    """What the metrics read of the route the router would have matched: its template."""

    path: str = PATH


class _Replay:
    """A ``receive`` that hands the app the body already read (or the error reading it
    raised), then whatever the client sends next (a disconnect)."""

    def __init__(self, body: bytes, error: BaseException | None, receive: Receive) -> None:
        self._body = body
        self._error = error
        self._receive = receive
        self._done = False

    async def __call__(self) -> Message:
        if self._done:
            return await self._receive()
        self._done = True
        if self._error is not None:
            raise self._error
        return {"type": "http.request", "body": self._body, "more_body": False}


async def _read(receive: Receive) -> bytes:
    first = await receive()
    body = first.get("body", b"")
    if not first.get("more_body", False):
        return bytes(body)
    chunks = [body]
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class FeaturesFastPath:
    """Answers ``POST /predict/features`` itself; every other request goes to ``app``."""

    def __init__(self, app: ASGIApp, predictor: Predictor) -> None:
        self.app = app
        self.predictor = predictor
        # Set in the scope as the router would, so the metrics count the route's template.
        self.route = _Route()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        error: BaseException | None = None
        body = b""
        try:
            body = await _read(receive)
        except Exception as exc:  # the body limit: the route's own handler answers it
            error = exc
        answer = None if error is not None else await self._answer(scope, body)
        if answer is None:
            await self.app(scope, _Replay(body, error, receive), send)
            return
        content, version = answer
        scope["route"] = self.route
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                # As starlette's Response writes them for the route's answer.
                "headers": [
                    (b"x-model-version", version),
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def _answer(self, scope: Scope, body: bytes) -> tuple[bytes, bytes] | None:
        """The route's answer as bytes and the version header, or None to let the route
        answer (every refusal; nothing was captured or counted then)."""
        from truckflow.serving.reasons import reasons_asked

        p = self.predictor
        served = p.holder.current
        if served is None:
            return None
        try:
            reasons = reasons_asked(scope.get("query_string", b""))
            rows = p.vectors_for(served).read_one(body, served.feature_names)
        except Exception:  # refused: the route names what is wrong, as always
            return None
        answer, why = await p.run_one(served, rows, "api", None, reasons)
        return encode_single(answer, served, why), served.version.encode("latin-1")
