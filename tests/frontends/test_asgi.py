"""ASGIMiddleware: the TLS extension (direct scopes) and a trusted proxy header (uvicorn)."""

from __future__ import annotations

import asyncio
import http.client
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from crlcheck.frontends import ASGIMiddleware, directory_authorizer
from tests.frontends.conftest import WebPKI
from tests.pki import NOW
from tests.web import TIMEOUT, escaped, uvicorn_server

HEADER = "X-Amzn-Mtls-Clientcert"


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        return
    decision = scope.get("crlcheck.decision")
    body = json.dumps({"hello": decision.reason if decision else None}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def middleware(documents: Path, **options: Any) -> ASGIMiddleware:
    return ASGIMiddleware(hello, directory_authorizer(documents), clock=lambda: NOW, **options)


def run(app: ASGIMiddleware, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def http_scope(**extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
    scope.update(extra)
    return scope


def tls(*chain: bytes, error: str | None = None) -> dict[str, Any]:
    return {
        "tls": {
            "server_cert": None,
            "client_cert_chain": [c.decode() for c in chain],
            "client_cert_name": None,
            "client_cert_error": error,
            "tls_version": 0x0304,
            "cipher_suite": 0x1301,
        }
    }


def status_and_body(sent: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    return sent[0]["status"], json.loads(sent[1]["body"])


# --- The TLS extension, in direct scopes (uvicorn does not provide it) ---------------------


def test_no_tls_extension_and_no_trusted_header_is_a_deny(documents: Path) -> None:
    status, body = status_and_body(run(middleware(documents), http_scope()))
    assert (status, body["reason"], body["allowed"]) == (403, "bad_request", False)


def test_a_header_is_ignored_unless_it_is_trusted(documents: Path, web_pki: WebPKI) -> None:
    headers = [(HEADER.lower().encode(), escaped(web_pki.good.pem).encode())]
    status, body = status_and_body(run(middleware(documents), http_scope(headers=headers)))
    assert (status, body["reason"]) == (403, "bad_request")


def test_the_tls_extension_good_certificate_is_allowed(documents: Path, web_pki: WebPKI) -> None:
    sent = run(middleware(documents), http_scope(extensions=tls(web_pki.good.pem)))
    status, body = status_and_body(sent)
    assert (status, body) == (200, {"hello": "not_revoked"})


def test_the_tls_extension_revoked_certificate_is_a_403_with_a_json_reason(
    documents: Path, web_pki: WebPKI
) -> None:
    sent = run(
        middleware(documents),
        http_scope(extensions=tls(web_pki.revoked.pem, web_pki.ca.pem)),
    )
    status, body = status_and_body(sent)
    assert status == 403
    assert body["reason"] == "revoked"
    assert body["serial"] == format(web_pki.revoked.serial, "X").zfill(4)
    assert "message" not in body
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"x-crlcheck-reason"] == b"revoked"


def test_a_certificate_the_server_could_not_verify_is_denied(
    documents: Path, web_pki: WebPKI
) -> None:
    scope = http_scope(extensions=tls(web_pki.good.pem, error="certificate has expired"))
    status, body = status_and_body(run(middleware(documents), scope))
    assert (status, body["reason"]) == (403, "bad_certificate")


def test_a_tls_connection_without_a_client_certificate_is_denied(documents: Path) -> None:
    status, body = status_and_body(run(middleware(documents), http_scope(extensions=tls())))
    assert (status, body["reason"]) == (403, "bad_request")


def test_an_unknown_issuer_is_denied(documents: Path, web_pki: WebPKI) -> None:
    sent = run(middleware(documents), http_scope(extensions=tls(web_pki.stranger.pem)))
    assert status_and_body(sent)[1]["reason"] == "no_covering_crl"


def test_a_denied_websocket_is_closed_before_it_is_accepted(
    documents: Path, web_pki: WebPKI
) -> None:
    scope = http_scope(type="websocket", extensions=tls(web_pki.revoked.pem))
    assert run(middleware(documents), scope) == [{"type": "websocket.close", "code": 1008}]
    scope = http_scope(type="websocket", extensions=tls(web_pki.good.pem))
    assert run(middleware(documents), scope) == [{"type": "websocket.accept"}]


def test_lifespan_and_exempt_paths_pass_through(documents: Path) -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    guarded = ASGIMiddleware(app, directory_authorizer(documents), exempt_paths=["/health"])
    run(guarded, {"type": "lifespan"})
    run(guarded, http_scope(path="/health"))
    assert seen == ["lifespan", "http"]


# --- A trusted proxy header, under a real ASGI server --------------------------------------


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/anything", headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.e2e
def test_under_uvicorn_the_alb_passthrough_header_decides(documents: Path, web_pki: WebPKI) -> None:
    app = middleware(documents, header=HEADER)
    with uvicorn_server(app) as url:
        good = get(url, {HEADER: escaped(web_pki.good.pem + web_pki.ca.pem)})
        revoked = get(url, {HEADER: escaped(web_pki.revoked.pem + web_pki.ca.pem)})
        missing = get(url, {})
    assert good == (200, {"hello": "not_revoked"})
    assert revoked[0] == 403
    assert revoked[1]["reason"] == "revoked"
    assert missing[0] == 403
    assert missing[1]["reason"] == "bad_request"


def test_a_trusted_header_sent_twice_is_refused(documents: Path, web_pki: WebPKI) -> None:
    name = HEADER.lower().encode()
    headers = [
        (name, escaped(web_pki.good.pem).encode()),
        (name, escaped(web_pki.revoked.pem).encode()),
    ]
    app = middleware(documents, header=HEADER)
    status, body = status_and_body(run(app, http_scope(headers=headers)))
    assert (status, body["reason"]) == (403, "bad_request")


def test_a_trusted_header_is_the_only_source(documents: Path, web_pki: WebPKI) -> None:
    # Behind a proxy, the TLS extension describes the proxy's connection, not the client's.
    app = middleware(documents, header=HEADER)
    scope = http_scope(extensions=tls(web_pki.good.pem))
    assert status_and_body(run(app, scope))[1]["reason"] == "bad_request"
