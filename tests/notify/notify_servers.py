"""Real receivers on loopback for the notification tests: SMTP (aiosmtpd) and HTTP (http.server)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from truckflow.clock import utcnow

SMTP_USER = "alerts"
SMTP_PASSWORD = "S3cr3t-smtp-Pa55word"
WEBHOOK_TOKEN = "hook-Tok3n-9f8e7d6c5b4a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """An SMTP server with AUTH over plain text (what ``mailto://`` speaks) that can go down."""

    port: int
    inbox: _Inbox = field(default_factory=_Inbox)
    _controller: Controller | None = None

    def url(self, to: str = "ops@example.com") -> str:
        return (
            f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{self.port}"
            f"?to={to}&from=truckflow@example.com&mode=insecure"
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (SMTP_USER, SMTP_PASSWORD)
        if ok:
            self.inbox.logins.append((SMTP_USER, "ok"))
        return AuthResult(success=ok)

    def start(self) -> None:
        # AUTH without TLS is what plain ``mailto://`` speaks; aiosmtpd warns about it, rightly
        # so elsewhere (the test modules silence that warning).
        controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
            auth_required=True,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.inbox.messages)


@dataclass
class WebhookServer:
    port: int
    received: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    # When ``hold`` is set, each request waits for it; ``arrived`` says one is waiting. With
    # ``drop_held``, a held request is answered 500 and not recorded (its sender died meanwhile).
    hold: threading.Event | None = None
    drop_held: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hooks/{WEBHOOK_TOKEN}"

    def start(self) -> None:
        outer = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length))
                hold = outer.hold
                if hold is not None:
                    outer.arrived.set()
                    hold.wait(timeout=60)
                    if outer.drop_held:
                        self.send_response(500)
                        self.end_headers()
                        return
                with lock:
                    outer.received.append(payload)
                    outer.paths.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep the test output quiet

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Clock:
    """The dispatcher's notion of now, moved by hand so that backoff needs no sleeping."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)
