"""WSGIMiddleware: a trusted proxy header under waitress; SSL_CLIENT_CERT from the server."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from crlcheck.frontends import WSGIMiddleware, directory_authorizer
from tests.frontends.conftest import WebPKI
from tests.pki import NOW
from tests.web import TIMEOUT, escaped, waitress_server

HEADER = "X-SSL-Client-Escaped-Cert"


def hello(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    decision = environ.get("crlcheck.decision")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"hello": decision.reason if decision else None}).encode()]


def middleware(documents: Path, **options: Any) -> WSGIMiddleware:
    return WSGIMiddleware(hello, directory_authorizer(documents), clock=lambda: NOW, **options)


def call(app: WSGIMiddleware, environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    status: list[str] = []
    body = b"".join(app({"PATH_INFO": "/", **environ}, lambda s, h: status.append(s)))
    return status[0], json.loads(body)


def test_ssl_client_cert_from_the_server_decides(documents: Path, web_pki: WebPKI) -> None:
    app = middleware(documents)
    assert call(app, {"SSL_CLIENT_CERT": web_pki.good.pem.decode()}) == (
        "200 OK",
        {"hello": "not_revoked"},
    )
    status, body = call(app, {"SSL_CLIENT_CERT": web_pki.revoked.pem.decode()})
    assert (status, body["reason"]) == ("403 Forbidden", "revoked")


def test_a_header_is_ignored_unless_it_is_trusted(documents: Path, web_pki: WebPKI) -> None:
    environ = {"HTTP_X_SSL_CLIENT_ESCAPED_CERT": escaped(web_pki.good.pem)}
    status, body = call(middleware(documents), environ)
    assert (status, body["reason"]) == ("403 Forbidden", "bad_request")


def test_exempt_paths_pass_through_unchecked(documents: Path) -> None:
    app = middleware(documents, exempt_paths=["/ping"])
    assert call(app, {"PATH_INFO": "/ping"}) == ("200 OK", {"hello": None})


def get(url: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, Any], str | None]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
    try:
        conn.putrequest("GET", "/app")
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.getheader("X-Crlcheck-Reason")
    finally:
        conn.close()


@pytest.mark.e2e
def test_under_waitress_the_nginx_escaped_cert_header_decides(
    documents: Path, web_pki: WebPKI
) -> None:
    app = middleware(documents, header=HEADER)
    with waitress_server(app) as url:
        good = get(url, [(HEADER, escaped(web_pki.good.pem))])
        revoked = get(url, [(HEADER, escaped(web_pki.revoked.pem))])
        stranger = get(url, [(HEADER, escaped(web_pki.stranger.pem))])
        twice = get(url, [(HEADER, escaped(web_pki.good.pem))] * 2)
        # waitress drops headers spelled with underscores, so this cannot stand in for it.
        underscore = get(url, [(HEADER.replace("-", "_"), escaped(web_pki.good.pem))])
    assert good == (200, {"hello": "not_revoked"}, None)
    assert (revoked[0], revoked[1]["reason"], revoked[2]) == (403, "revoked", "revoked")
    assert (stranger[0], stranger[1]["reason"]) == (403, "no_covering_crl")
    assert (twice[0], twice[1]["reason"]) == (403, "bad_request")
    assert (underscore[0], underscore[1]["reason"]) == (403, "bad_request")
