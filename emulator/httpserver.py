"""A small threaded HTTP(S) server that hands each request to a service object.

Services implement ``handle(request) -> Reply``; this module only speaks HTTP/1.1 (keep-alive,
Content-Length), does the TLS handshake per connection, records every request, and performs the
transport-level faults a reply asks for (a connection reset, a slow answer).
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    raw_target: str

    def param(self, name: str) -> str | None:
        """A query parameter, matched case-insensitively as ARM does."""
        for key, values in self.query.items():
            if key.lower() == name.lower():
                return values[0] if values else ""
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # close the connection with a TCP RST instead of answering
    delay_s: float = 0.0  # wait before answering

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, json.dumps(payload).encode(), merged)


@dataclass(frozen=True)
class Recorded:
    method: str
    target: str
    authorization: bool
    at: float


class Service(Protocol):
    name: str

    def handle(self, request: Request) -> Reply: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from the stdlib
        return  # quiet; requests are recorded instead

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          self.headers, body, self.path)
        self.server.record(request)
        try:
            reply = self.server.service.handle(request)
        except Exception as exc:  # an emulator bug must show up as a 500, not a hung client
            reply = Reply.json(500, {"error": {"code": "EmulatorError", "message": repr(exc)}})
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.reset:
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # Close the raw socket so no TLS close_notify is sent: the peer sees a reset.
                raw = socket.socket(fileno=self.connection.detach()) if isinstance(
                    self.connection, ssl.SSLSocket) else self.connection
                raw.close()
            except OSError:
                pass
            return
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body and self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, service: Service, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.service = service
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(
                Recorded(request.method, request.raw_target, bool(request.header("Authorization")), time.time())
            )

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # clients that hang up (resets, timeouts) are part of the tests


class RunningServer:
    """A service listening on 127.0.0.1 on a free port, in a background thread."""

    def __init__(self, service: Service, tls: ssl.SSLContext | None = None) -> None:
        self.service = service
        self._server = _Server(service, tls)
        self.scheme = "https" if tls is not None else "http"
        self.port = self._server.server_address[1]
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"emulator-{service.name}",
                                        daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[Recorded]:
        with self._server._lock:
            return list(self._server.requests)

    def clear_requests(self) -> None:
        with self._server._lock:
            self._server.requests.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
