"""lambdas/authorizer.py and lambdas/preprocessor.py as Lambda loads them: a fresh import each."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from tests.pki import CA, Leaf
from tests.serverless import BUCKET, fresh_crl, load_event, make_document, s3_event

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KEY = "crls/ca.crl"
DOC_KEY = "crls/ca.cache.json"


def fresh_import(name: str) -> ModuleType:
    """Import ``lambdas.<name>`` as a new container would (no state from earlier tests)."""
    sys.modules.pop(f"lambdas.{name}", None)
    return importlib.import_module(f"lambdas.{name}")


@pytest.fixture
def good(ca: CA) -> Leaf:
    return ca.issue_cert(serial=0x600D)


@pytest.fixture
def revoked(ca: CA) -> Leaf:
    return ca.issue_cert(serial=0xBAD)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, s3: S3Client) -> None:
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", DOC_KEY)
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_KEY", "truststore/truststore.pem")
    for name in (
        "CRLCHECK_REVALIDATE_SECONDS",
        "CRLCHECK_STALE_GRACE_SECONDS",
        "CRLCHECK_RESPONSE_FORMAT",
        "CRLCHECK_TRUSTSTORE_BUCKET",
        "CRLCHECK_OUTPUT_PREFIX",
        "CRLCHECK_CLOCK_SKEW_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("environment")
def test_the_entry_points_publish_and_decide(
    s3: S3Client, ca: CA, good: Leaf, revoked: Leaf
) -> None:
    preprocessor = fresh_import("preprocessor")
    authorizer = fresh_import("authorizer")
    s3.put_object(Bucket=BUCKET, Key="truststore/truststore.pem", Body=ca.pem)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=fresh_crl(ca, [revoked.serial]))
    summary = preprocessor.handler(s3_event((BUCKET, KEY, None)), None)
    assert [r["outcome"] for r in summary["records"]] == ["published"]

    def effect(pem: bytes) -> str:
        response = authorizer.handler(load_event("rest-request-mtls.json", pem), None)
        value: str = response["policyDocument"]["Statement"][0]["Effect"]
        return value

    assert effect(good.pem) == "Allow"
    assert effect(revoked.pem) == "Deny"


@pytest.mark.usefixtures("environment")
def test_a_misconfigured_authorizer_denies_and_recovers_once_configured(
    monkeypatch: pytest.MonkeyPatch, s3: S3Client, ca: CA, good: Leaf
) -> None:
    monkeypatch.delenv("CRLCHECK_BUCKET", raising=False)
    authorizer = fresh_import("authorizer")
    event = load_event("rest-request-mtls.json", good.pem)
    response = authorizer.handler(event, None)
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert response["context"] == {"reason": "internal_error"}
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    s3.put_object(Bucket=BUCKET, Key=DOC_KEY, Body=make_document(ca, fresh_crl(ca, [])))
    response = authorizer.handler(event, None)
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
