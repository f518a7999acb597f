"""Receivers the channel tests start: an HTTP webhook receiver and an SMTP server, both real, on free ports."""

from __future__ import annotations

import email
import email.header
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True, slots=True)
class Posted:
    body: bytes
    headers: dict[str, str]
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Records every POST; answers `status` (200 unless told otherwise). `refuse()` closes the port, so that
    connections are refused, and `accept()` opens it again on the same port."""

    def __init__(self, path: str = "/hook") -> None:
        self.port = free_port()
        self.path = path
        self.status = 200
        self.answer: Callable[[Any], int] | None = None  # the status for a body, when set (else `status`)
        self.posts: list[Posted] = []  # every request, answered 2xx or not
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.accept()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def accept(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.answer(json.loads(raw)) if receiver.answer else receiver.status
                with receiver._lock:
                    receiver.posts.append(Posted(raw, {k.lower(): v for k, v in self.headers.items()},
                                                 time.monotonic()) if 200 <= status < 300 else
                                          Posted(raw, {"x-refused": str(status)}, time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def refuse(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[Posted]:
        """The requests answered 2xx."""
        with self._lock:
            return [p for p in self.posts if "x-refused" not in p.headers]

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 10.0) -> Posted:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for posted in self.delivered():
                if predicate(posted.json()):
                    return posted
            time.sleep(0.02)
        raise AssertionError(f"no delivery matching within {timeout} s; got {[p.json()['kind'] for p in self.delivered()]}")

    def close(self) -> None:
        self.refuse()


class SmtpSink:
    """A real SMTP server (aiosmtpd) keeping every mail it is given; with a login, it asks for it (plain
    SMTP, no TLS, as a relay inside the estate's network would) and refuses any other."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.mails: list[email.message.EmailMessage] = []
        self.logins: list[bool] = []  # each AUTH tried: accepted or not
        sink = self

        def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
            ok = login is not None and isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(), auth_data.password.decode()) == login
            sink.logins.append(ok)
            return AuthResult(success=ok)

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
                sink.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                      authenticator=authenticate if login else None, auth_require_tls=False,
                                      auth_required=login is not None)
        self._controller.start()

    def wait_for_mail(self, timeout: float = 10.0) -> email.message.EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.mails:
                return self.mails[0]
            time.sleep(0.02)
        raise AssertionError(f"no mail within {timeout} s")

    def close(self) -> None:
        self._controller.stop()


def text_of(mail: email.message.EmailMessage) -> str:
    """The plain-text body of a mail, decoded from its transfer encoding and charset."""
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None, "the mail has no text/plain part"
    return part.get_content()
