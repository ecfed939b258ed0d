"""Request bodies capped while they are read: a pure ASGI middleware, nothing buffered here.

A body whose ``Content-Length`` is over the limit is refused before a byte of it is read. A
body without one (chunked) is counted as it arrives: the chunk that crosses the limit raises
``BodyLimitExceeded`` inside whatever is reading the body (FastAPI's body parsing passes an
``HTTPException`` on untouched), so at most the limit is ever held and the answer is a 413 with
a message. Other requests (``/health``) never wait on this: nothing here blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException

__all__ = ["BodyLimitExceeded", "BodyLimitMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimitExceeded(HTTPException):
    def __init__(self, limit: int, seen: int | None = None) -> None:
        size = "" if seen is None else f" ({seen} bytes announced)"
        super().__init__(
            status_code=413,
            detail=f"request body too large{size}: the limit is {limit} bytes "
            "(setting serving.max_body_bytes); split the batch",
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413, counting while they are read."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = _content_length(scope)
        if announced is not None and announced > self.max_bytes:
            await self._refuse(send, BodyLimitExceeded(self.max_bytes, announced))
            return
        limit = self.max_bytes
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyLimitExceeded(limit)
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _refuse(send: Send, exc: BodyLimitExceeded) -> None:
        import msgspec

        body = msgspec.json.encode(
            {"message": exc.detail, "detail": exc.detail, "error": "BodyTooLargeError"}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
