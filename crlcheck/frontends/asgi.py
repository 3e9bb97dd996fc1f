"""ASGI middleware: deny requests whose client certificate is revoked, before the application.

Works with any ASGI application (Starlette, FastAPI, Quart, Django's ASGI handler...) without
importing it::

    from crlcheck.frontends import ASGIMiddleware, directory_authorizer

    app = ASGIMiddleware(app, directory_authorizer("/var/lib/crlcheck"))  # TLS extension
    app = ASGIMiddleware(app, authorizer, header="X-Amzn-Mtls-Clientcert")  # behind ALB

An allowed request reaches the application with the decision in ``scope["crlcheck.decision"]``;
a denied one gets 403 with a JSON body (``{"allowed": false, "reason": "revoked", ...}``), and a
denied WebSocket handshake is closed before it is accepted (the server answers 403). Lifespan
and other scope types pass through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import datetime
from typing import Any

from crlcheck.decision import Decision
from crlcheck.errors import CertificateParseError
from crlcheck.frontends._door import (
    Door,
    RequestError,
    certificate_from_header,
    decision_body,
    decision_headers,
)
from crlcheck.service import Authorizer

__all__ = ["ASGIApp", "ASGIMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def certificate_from_scope(scope: Scope, header: str | None) -> str:
    """The client certificate of an ASGI ``http`` or ``websocket`` scope.

    With ``header`` set, from that request header only (see :mod:`crlcheck.frontends._door`);
    otherwise from the ASGI TLS extension (``scope["extensions"]["tls"]``): the first entry of
    ``client_cert_chain`` is the client's certificate.

    Raises:
        RequestError: No certificate: no TLS extension (the server does not provide it, or the
            connection is not TLS), or an empty chain; or a bad header.
        CertificateParseError: The server reports that the certificate failed its verification
            (``client_cert_error``), or the header holds no certificate.
    """
    if header is not None:
        name = header.lower().encode("latin-1")
        values = [v.decode("latin-1") for k, v in scope.get("headers") or () if k.lower() == name]
        return certificate_from_header(values, header)
    tls = (scope.get("extensions") or {}).get("tls")
    if not isinstance(tls, dict):
        raise RequestError(
            "no client certificate: the server provides no TLS extension and no proxy "
            "header is trusted"
        )
    error = tls.get("client_cert_error")
    if error:
        raise CertificateParseError(f"the server could not verify the client certificate: {error}")
    chain = list(tls.get("client_cert_chain") or ())
    if not chain or not isinstance(chain[0], str) or not chain[0]:
        raise RequestError("no client certificate on this TLS connection")
    leaf: str = chain[0]
    return leaf


class ASGIMiddleware:
    """Checks the client certificate of every HTTP and WebSocket request against the CRLs.

    Args:
        app: The ASGI application behind it.
        authorizer: Decides certificates (see :func:`crlcheck.frontends.directory_authorizer`
            and :func:`crlcheck.frontends.s3_authorizer`).
        header: Read the certificate from this proxy header (URL-encoded PEM) and nowhere
            else; None (the default) reads the ASGI TLS extension and ignores every header.
        exempt_paths: Paths passed through unchecked (exact match), e.g. a load balancer's
            health check that comes without a certificate.
        clock: The wall clock decisions are made at.

    The check runs in the event loop's default thread pool under asyncio (a document reload,
    or an S3 revalidation, must not stall the loop); under another event loop it runs inline.
    """

    def __init__(
        self,
        app: ASGIApp,
        authorizer: Authorizer,
        *,
        header: str | None = None,
        exempt_paths: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.header = header
        self.exempt_paths = frozenset(exempt_paths)
        self.door = Door(authorizer, name="asgi", clock=clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket") or scope.get("path") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        decision = await self._decide(scope)
        if decision.allowed:
            scope = dict(scope)
            scope["crlcheck.decision"] = decision
            await self.app(scope, receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            body = decision_body(decision)
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            headers += [(k.lower().encode(), v.encode()) for k, v in decision_headers(decision)]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    async def _decide(self, scope: Scope) -> Decision:
        def check() -> Decision:
            return self.door.decide(lambda: certificate_from_scope(scope, self.header))

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # Not asyncio (trio, for one): decide inline.
            return check()
        return await loop.run_in_executor(None, check)
