"""WSGI middleware: deny requests whose client certificate is revoked, before the application.

Works with any WSGI application (Flask, Django, Pyramid, bare WSGI) without importing it::

    from crlcheck.frontends import WSGIMiddleware, directory_authorizer

    app.wsgi_app = WSGIMiddleware(app.wsgi_app, directory_authorizer("/var/lib/crlcheck"),
                                  header="X-Amzn-Mtls-Clientcert")  # Flask behind ALB

WSGI has no standard way to reach the TLS connection, so the certificate comes from a trusted
proxy header, or, with no header configured, from ``environ["SSL_CLIENT_CERT"]`` (Apache
mod_wsgi with ``SSLOptions +ExportCertData``), which a client cannot set. An allowed request
reaches the application with the decision in ``environ["crlcheck.decision"]``; a denied one gets
403 with a JSON body.

A WSGI server turns both ``X-Client-Cert`` and ``X-Client_Cert`` into ``HTTP_X_CLIENT_CERT``:
the proxy in front must drop or overwrite both spellings (nginx drops headers with underscores
by default, and so do waitress and gunicorn).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from crlcheck.frontends._door import (
    Door,
    RequestError,
    certificate_from_header,
    decision_body,
    decision_headers,
)
from crlcheck.service import Authorizer

__all__ = ["WSGIApp", "WSGIMiddleware", "certificate_from_environ"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def environ_key(header: str) -> str:
    """The WSGI environ key of a request header (``X-Client-Cert`` → ``HTTP_X_CLIENT_CERT``)."""
    return "HTTP_" + header.upper().replace("-", "_")


def certificate_from_environ(environ: Environ, header: str | None) -> str:
    """The client certificate of a WSGI request: from ``header`` if set, else from
    ``SSL_CLIENT_CERT``.

    Raises:
        RequestError: No certificate, or a bad header.
        CertificateParseError: The header holds no certificate.
    """
    if header is not None:
        value = environ.get(environ_key(header))
        return certificate_from_header([] if value is None else [str(value)], header)
    pem = environ.get("SSL_CLIENT_CERT")
    if not isinstance(pem, str) or not pem.strip():
        raise RequestError(
            "no client certificate: no SSL_CLIENT_CERT from the server and no proxy header "
            "is trusted"
        )
    return pem


class WSGIMiddleware:
    """Checks the client certificate of every request against the CRLs.

    Args:
        app: The WSGI application behind it.
        authorizer: Decides certificates (see :func:`crlcheck.frontends.directory_authorizer`
            and :func:`crlcheck.frontends.s3_authorizer`).
        header: Read the certificate from this proxy header (URL-encoded PEM) and nowhere
            else; None (the default) reads ``environ["SSL_CLIENT_CERT"]``.
        exempt_paths: Paths (``PATH_INFO``) passed through unchecked, exact match.
        clock: The wall clock decisions are made at.
    """

    def __init__(
        self,
        app: WSGIApp,
        authorizer: Authorizer,
        *,
        header: str | None = None,
        exempt_paths: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.header = header
        self.exempt_paths = frozenset(exempt_paths)
        self.door = Door(authorizer, name="wsgi", clock=clock)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in self.exempt_paths:
            return self.app(environ, start_response)
        decision = self.door.decide(lambda: certificate_from_environ(environ, self.header))
        if decision.allowed:
            environ["crlcheck.decision"] = decision
            return self.app(environ, start_response)
        body = decision_body(decision)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("403 Forbidden", headers + decision_headers(decision))
        return [body]
