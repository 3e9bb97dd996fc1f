"""The front doors read documents from S3 as the Lambda authorizer does (moto in-process)."""

from __future__ import annotations

from typing import Any

from crlcheck import dump_document, load_crl, verify_crl
from crlcheck.frontends import WSGIMiddleware, s3_authorizer
from tests.frontends.conftest import WebPKI
from tests.pki import NEXT, NOW, T0
from tests.serverless import BUCKET

KEY = "crls/web-ca.cache.json"


def test_a_middleware_over_s3_documents_decides_and_revalidates(s3: Any, web_pki: WebPKI) -> None:
    crl = web_pki.ca.make_crl([web_pki.revoked.serial], this_update=T0, next_update=NEXT)
    document = dump_document(verify_crl(load_crl(crl), [web_pki.ca.cert], now=T0))
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=document)
    authorizer = s3_authorizer(BUCKET, [KEY])

    def ok(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    app = WSGIMiddleware(ok, authorizer, clock=lambda: NOW)
    statuses: list[str] = []
    for leaf in (web_pki.good, web_pki.revoked, web_pki.good):
        environ = {"PATH_INFO": "/", "SSL_CLIENT_CERT": leaf.pem.decode()}
        app(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["200 OK", "403 Forbidden", "200 OK"]
    assert authorizer.cache.documents()[KEY].etag.startswith('"')
