"""An HTTP proxy on 127.0.0.1 that injects S3 faults on real sockets, per request.

It sits between the authorizer's boto3 client (``AWS_ENDPOINT_URL_S3`` = the proxy) and moto's
S3 server. Unlike botocore hooks, its faults go through urllib3 and botocore's own timeout,
retry and body-length handling: a stalled response costs the real read timeout, a reset is a
real connection reset, a truncated body is a real short read.

Modes (``proxy.mode``), applied to each request as it arrives:

``pass``          forward to moto
``stall``         read the request, never answer (until the proxy stops)
``reset``         close the connection with a TCP reset
``503`` ``500``   answer with that status and an S3 error body (SlowDown, InternalError)
``403``           AccessDenied
``truncate``      forward, then send the headers and only half of the body
``corrupt``       forward, then flip the body's bytes (same length) of a 200 GetObject
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ERRORS = {"503": "SlowDown", "500": "InternalError", "403": "AccessDenied"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultProxy

    def _forward(self) -> tuple[int, list[tuple[str, str]], bytes]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            upstream.close()

    def _reply(
        self, status: int, headers: list[tuple[str, str]], body: bytes, *, cut: bool
    ) -> None:
        self.send_response_only(status)
        for key, value in headers:
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.close_connection = True

    def _handle(self) -> None:
        mode = self.server.mode
        self.server.requests.append((mode, self.command, self.path))
        if mode == "stall":
            self.server.stopping.wait(60)
            self.close_connection = True
            return
        if mode == "reset":
            # SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if mode in _ERRORS:
            code = _ERRORS[mode]
            body = f"<Error><Code>{code}</Code><Message>{code}</Message></Error>".encode()
            self._reply(int(mode), [("Content-Type", "application/xml")], body, cut=False)
            return
        status, headers, body = self._forward()
        if mode == "corrupt" and self.command == "GET" and status == 200:
            body = bytes(b ^ 0x5A for b in body)
        self._reply(status, headers, body, cut=mode == "truncate" and self.command == "GET")

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FaultProxy(ThreadingHTTPServer):
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is its endpoint."""

    daemon_threads = True

    def __init__(self, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.requests: list[tuple[str, str, str]] = []
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self._thread.join(timeout=10)
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # A client that went away mid-response (timeouts, resets) is expected here.
