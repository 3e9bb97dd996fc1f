"""``crlcheck serve`` behind a real nginx (ssl_verify_client + auth_request), real mTLS clients.

nginx terminates TLS on 127.0.0.1, verifies the client chain against the test CAs, and asks
``crlcheck serve`` (a subprocess, waitress) about every request, passing the certificate in
``X-Client-Cert`` set from ``$ssl_client_escaped_cert``. The test is skipped only when nginx is
not installed (``.ci/run`` installs Debian's package).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import ssl
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.pki import CA, Leaf
from tests.web import (
    TIMEOUT,
    Nginx,
    crlcheck_serve,
    escaped,
    issue_server_cert,
    nginx_binary,
    nginx_server,
    write_document,
)

pytestmark = pytest.mark.e2e

HEADER = "X-Client-Cert"


@dataclass
class Deployment:
    """nginx in front of ``crlcheck serve``, the PKI, and client certificates as files."""

    nginx: Nginx
    serve_url: str
    ca: CA
    documents: Path
    clients: dict[str, tuple[Path, Path, Leaf]]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    root = tmp_path_factory.mktemp("nginx")
    ca, stale_ca, unknown_ca = CA("crlcheck Serve CA"), CA("crlcheck Stale CA"), CA("Unknown CA")
    leaves = {
        "good": ca.issue_cert("good"),
        "revoked": ca.issue_cert("revoked"),
        "stale": stale_ca.issue_cert("stale"),
        "unknown": unknown_ca.issue_cert("unknown"),  # Trusted by nginx; no CRL published.
    }
    documents = root / "documents"
    documents.mkdir()
    now = utcnow()
    write_document(
        documents,
        ca,
        [leaves["revoked"].serial],
        this_update=now - dt.timedelta(hours=1),
        next_update=now + dt.timedelta(days=1),
    )
    write_document(
        documents,
        stale_ca,
        [],
        this_update=now - dt.timedelta(days=2),
        next_update=now - dt.timedelta(days=1),
    )
    clients = {}
    for label, leaf in leaves.items():
        cert, key = root / f"{label}.pem", root / f"{label}.key"
        cert.write_bytes(leaf.pem)
        key.write_bytes(leaf.key_pem)
        clients[label] = (cert, key, leaf)
    prefix = root / "prefix"
    prefix.mkdir()
    with (
        crlcheck_serve("--documents", str(documents), "--header", HEADER) as serve_url,
        nginx_server(
            binary,
            prefix,
            server=issue_server_cert(ca),
            client_cas=[ca, stale_ca, unknown_ca],
            serve_url=serve_url,
        ) as nginx,
    ):
        (root / "ca.pem").write_bytes(ca.pem)
        yield Deployment(nginx, serve_url, ca, documents, clients)


def mtls_get(
    deployment: Deployment, client: str | None, headers: dict[str, str] | None = None
) -> tuple[int, str | None, bytes]:
    """GET / from nginx over mTLS as ``client``; (status, X-Crlcheck-Reason, body)."""
    context = ssl.create_default_context(cafile=str(deployment.documents.parent / "ca.pem"))
    if client is not None:
        cert, key, _ = deployment.clients[client]
        context.load_cert_chain(cert, key)
    parts = urllib.parse.urlsplit(deployment.nginx.url)
    conn = http.client.HTTPSConnection(
        parts.hostname or "", parts.port, context=context, timeout=TIMEOUT
    )
    try:
        conn.request("GET", "/", headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("X-Crlcheck-Reason"), response.read()
    finally:
        conn.close()


def test_a_valid_certificate_passes_nginx(deployment: Deployment) -> None:
    status, reason, body = mtls_get(deployment, "good")
    assert (status, reason, body) == (200, "not_revoked", b"hello from behind crlcheck\n")


def test_a_revoked_certificate_gets_403_from_nginx(deployment: Deployment) -> None:
    assert mtls_get(deployment, "revoked")[:2] == (403, "revoked")


def test_a_spoofed_certificate_header_is_overwritten_by_nginx(deployment: Deployment) -> None:
    good = escaped(deployment.clients["good"][2].pem)
    status, reason, _ = mtls_get(deployment, "revoked", {HEADER: good})
    assert (status, reason) == (403, "revoked")
    # The same spelling with underscores: nginx drops such headers by default.
    status, reason, _ = mtls_get(deployment, "revoked", {HEADER.replace("-", "_"): good})
    assert (status, reason) == (403, "revoked")


def test_unknown_issuer_and_stale_crl_are_denied(deployment: Deployment) -> None:
    assert mtls_get(deployment, "unknown")[:2] == (403, "no_covering_crl")
    assert mtls_get(deployment, "stale")[:2] == (403, "crl_stale")


def test_no_client_certificate_fails_the_handshake_check(deployment: Deployment) -> None:
    # ssl_verify_client on: nginx answers 400 itself, crlcheck is never asked.
    assert mtls_get(deployment, None)[0] == 400


def test_a_new_document_is_picked_up_without_a_restart(deployment: Deployment) -> None:
    leaf = deployment.clients["good"][2]
    now = utcnow()
    path = next(deployment.documents.glob("crlcheck-serve-ca.cache.json"))
    try:
        write_document(
            deployment.documents,
            deployment.ca,
            [leaf.serial, deployment.clients["revoked"][2].serial],
            this_update=now - dt.timedelta(minutes=30),
            next_update=now + dt.timedelta(days=1),
            number=2,
            filename=path.name,
        )
        assert mtls_get(deployment, "good")[:2] == (403, "revoked")
    finally:
        write_document(
            deployment.documents,
            deployment.ca,
            [deployment.clients["revoked"][2].serial],
            this_update=now - dt.timedelta(minutes=20),
            next_update=now + dt.timedelta(days=1),
            number=3,
            filename=path.name,
        )
    assert mtls_get(deployment, "good")[:2] == (200, "not_revoked")


def direct(url: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        json_body = response.getheader("Content-Type") == "application/json"
        return response.status, json.loads(body) if body and json_body else body or None
    finally:
        conn.close()


def test_healthz_reports_each_document(deployment: Deployment) -> None:
    status, body = direct(deployment.serve_url, "GET", "/healthz", {})
    assert status == 503  # The stale CA's CRL is past its nextUpdate.
    validity = {d["key"]: d["validity"] for d in body["documents"]}
    assert validity == {
        "crlcheck-serve-ca.cache.json": "fresh",
        "crlcheck-stale-ca.cache.json": "stale",
    }


def test_the_endpoint_bounds_header_size_and_answers_any_method(
    deployment: Deployment,
) -> None:
    # Envoy's ext_authz sends the original method and path.
    good = escaped(deployment.clients["good"][2].pem)
    assert direct(deployment.serve_url, "POST", "/any/path", {HEADER: good})[0] == 200
    assert direct(deployment.serve_url, "HEAD", "/", {HEADER: good}) == (200, None)
    status, _ = direct(deployment.serve_url, "GET", "/", {HEADER: good, "X-Big": "a" * 70000})
    assert status == 431


def test_serve_without_documents_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crlcheck.cli import main

    assert main(["serve", "--documents", str(tmp_path), "--header", HEADER]) == 2
    assert "no *.cache.json or *.cache.bin document" in capsys.readouterr().err


def test_serve_without_waitress_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from crlcheck.cli import main

    write_document(
        tmp_path,
        CA(),
        [],
        this_update=utcnow() - dt.timedelta(hours=1),
        next_update=utcnow() + dt.timedelta(days=1),
    )
    monkeypatch.setitem(sys.modules, "waitress.server", None)  # import raises ImportError
    status = main(["serve", "--documents", str(tmp_path), "--header", HEADER])
    assert status == 2
    assert "pip install 'crlcheck[serve]'" in capsys.readouterr().err


# --- One certificate, one decision, whatever the front door --------------------------------

CASES = {
    "good": (True, "not_revoked"),
    "revoked": (False, "revoked"),
    "unknown": (False, "no_covering_crl"),
    "stale": (False, "crl_stale"),
}


class _Context:
    aws_request_id = "c0ffee00-0000-4000-8000-000000000014"


def test_the_same_certificate_gets_the_same_decision_through_every_front_door(
    deployment: Deployment,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from crlcheck.cli import main
    from crlcheck.frontends import ASGIMiddleware, WSGIMiddleware, directory_authorizer
    from tests.serverless import BUCKET, authorizer_lambda, load_event

    documents = sorted(deployment.documents.glob("*.cache.json"))
    for path in documents:  # The same documents in S3, for the Lambda authorizer.
        s3.put_object(Bucket=BUCKET, Key=f"crls/{path.name}", Body=path.read_bytes())
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", ",".join(f"crls/{p.name}" for p in documents))
    for name in ("CRLCHECK_REVALIDATE_SECONDS", "CRLCHECK_STALE_GRACE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CRLCHECK_RESPONSE_FORMAT", raising=False)
    lambda_handler = authorizer_lambda().handler

    def ok(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [environ["crlcheck.decision"].reason.encode()]

    wsgi = WSGIMiddleware(ok, directory_authorizer(deployment.documents))

    async def asgi_ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = scope["crlcheck.decision"].reason.encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    asgi = ASGIMiddleware(asgi_ok, directory_authorizer(deployment.documents))

    def through_lambda(pem: bytes) -> tuple[bool, str]:
        response = lambda_handler(load_event("rest-request-mtls.json", pem), _Context())
        (statement,) = response["policyDocument"]["Statement"]
        return statement["Effect"] == "Allow", response["context"]["reason"]

    def through_wsgi(pem: bytes) -> tuple[bool, str]:
        status: list[str] = []
        body = b"".join(wsgi({"SSL_CLIENT_CERT": pem.decode()}, lambda s, h: status.append(s)))
        allowed = status[0] == "200 OK"
        return allowed, body.decode() if allowed else json.loads(body)["reason"]

    def through_asgi(pem: bytes) -> tuple[bool, str]:
        import asyncio

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request"}

        tls = {"tls": {"client_cert_chain": [pem.decode()], "client_cert_error": None}}
        scope = {"type": "http", "path": "/", "headers": [], "extensions": tls}
        asyncio.run(asgi(scope, receive, send))
        allowed = sent[0]["status"] == 200
        body = sent[1]["body"]
        return allowed, body.decode() if allowed else json.loads(body)["reason"]

    def through_nginx(pem_label: str) -> tuple[bool, str]:
        status, reason, _ = mtls_get(deployment, pem_label)
        assert reason is not None
        return status == 200, reason

    def through_cli(path: Path) -> tuple[bool, str]:
        argv = ["check", str(path), "--json"]
        for document in documents:
            argv += ["--cache", str(document)]
        capsys.readouterr()  # The Lambda's log lines so far.
        status = main(argv)
        view = json.loads(capsys.readouterr().out)
        return status == 0, view["reason"]

    for label, expected in CASES.items():
        cert_path, _, leaf = deployment.clients[label]
        answers = {
            "lambda": through_lambda(leaf.pem),
            "wsgi": through_wsgi(leaf.pem),
            "asgi": through_asgi(leaf.pem),
            "serve behind nginx": through_nginx(label),
            "cli": through_cli(cert_path),
        }
        assert answers == dict.fromkeys(answers, expected), label
