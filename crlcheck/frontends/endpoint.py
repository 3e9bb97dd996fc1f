"""An HTTP decision endpoint for nginx ``auth_request`` and Envoy ``ext_authz`` (HTTP service).

The proxy terminates mTLS, verifies the chain, and asks this endpoint about every request,
passing the client certificate in a header it sets itself (overwriting any the client sent):

* ``GET /healthz``: 200 when every document is loaded and its CRL fresh, else 503 (JSON);
* any other method and path: 200 allow, 403 deny, with ``X-Crlcheck-Reason`` (and
  ``X-Crlcheck-Serial``) headers and a small JSON body. nginx's ``auth_request`` lets 2xx
  through and answers 403 itself; Envoy's ``ext_authz`` forwards the 403 and its body.

:class:`DecisionEndpoint` is a plain WSGI application; :func:`serve` runs it under waitress
(``pip install 'crlcheck[serve]'``), with its limits on connections, threads, header size and
idle time, and is what ``crlcheck serve`` calls.

Why waitress: the decision workflow is synchronous (a ``stat`` per document, microseconds of
lookup) and holds the revocation sets in memory once per process. waitress serves a WSGI
application from ONE process with a bounded thread pool, has the limits above built in, and is
pure Python with no dependencies. A pre-fork server (gunicorn) would hold and reload the sets once
per worker; an asynchronous one (uvicorn) would hand every check to a thread pool anyway.
"""

from __future__ import annotations

import importlib
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from crlcheck.frontends._door import Door, decision_body, decision_headers
from crlcheck.frontends.wsgi import Environ, StartResponse, certificate_from_environ
from crlcheck.service import Authorizer

__all__ = ["DecisionEndpoint", "ServerLimits", "ServerMissingError", "serve"]

HEALTH_PATH: Final = "/healthz"


class ServerMissingError(RuntimeError):
    """waitress is not installed (``pip install 'crlcheck[serve]'``)."""


class DecisionEndpoint:
    """The decision endpoint as a WSGI application (see the module notes).

    Args:
        authorizer: Decides certificates (and owns the document cache).
        header: The request header the proxy puts the client certificate in (URL-encoded
            PEM: nginx ``$ssl_client_escaped_cert``, Envoy ``%DOWNSTREAM_PEER_CERT%``).
        clock: The wall clock decisions are made at.
    """

    def __init__(
        self,
        authorizer: Authorizer,
        *,
        header: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.header = header
        self.door = Door(authorizer, name="endpoint", clock=clock)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if environ.get("PATH_INFO") == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy, details = self.door.health()
            body = orjson.dumps(details)
            status = "200 OK" if healthy else "503 Service Unavailable"
            headers: list[tuple[str, str]] = []
        else:
            decision = self.door.decide(lambda: certificate_from_environ(environ, self.header))
            body = decision_body(decision)
            status = "200 OK" if decision.allowed else "403 Forbidden"
            headers = decision_headers(decision)
        headers += [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ]
        start_response(status, headers)
        return [] if method == "HEAD" else [body]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The resources the server may use.

    Attributes:
        threads: Requests decided at once (waitress's worker threads).
        connection_limit: Open connections at most; more wait in the listen backlog.
        channel_timeout: Seconds an idle or stalled connection is kept.
        max_header_bytes: Largest request head (request line and headers) accepted; larger
            requests get 431.
        max_body_bytes: Largest request body accepted (the endpoint never reads one; nginx and
            Envoy send none); larger requests get 413.
    """

    threads: int = 4
    connection_limit: int = 256
    channel_timeout: int = 30
    max_header_bytes: int = 64 << 10
    max_body_bytes: int = 64 << 10


def serve(
    app: Callable[[Environ, StartResponse], Iterable[bytes]],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    limits: ServerLimits = ServerLimits(),
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``app`` with waitress until SIGINT or SIGTERM.

    Args:
        app: The WSGI application (a :class:`DecisionEndpoint`).
        host: Address to listen on.
        port: Port to listen on (0: any free port; ``ready`` is told which).
        limits: The server's resource limits.
        ready: Called with ``http://HOST:PORT`` once the socket listens.

    Raises:
        ServerMissingError: waitress is not installed.
        OSError: The address cannot be bound.
    """
    try:
        server_module: Any = importlib.import_module("waitress.server")
    except ImportError as exc:
        raise ServerMissingError(
            "'crlcheck serve' needs waitress: pip install 'crlcheck[serve]'"
        ) from exc
    server = server_module.create_server(
        app,
        host=host,
        port=port,
        threads=limits.threads,
        connection_limit=limits.connection_limit,
        channel_timeout=limits.channel_timeout,
        max_request_header_size=limits.max_header_bytes,
        max_request_body_size=limits.max_body_bytes,
        expose_tracebacks=False,
        ident="crlcheck",
    )
    if ready is not None:
        ready(f"http://{server.effective_host}:{server.effective_port}")

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main else None
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        server.close()
        server.task_dispatcher.shutdown()
