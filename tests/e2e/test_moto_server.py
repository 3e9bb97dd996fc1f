"""End to end over HTTP: moto's S3 server on 127.0.0.1, both handlers, a warm authorizer.

boto3 reaches the server through ``AWS_ENDPOINT_URL_S3`` (read by botocore itself, so the
handlers run unmodified) with fake credentials. The preprocessor is invoked with the S3 event an
upload would trigger (moto cannot run Lambda functions here); the authorizer keeps its
module-level state between calls, as in a warm container.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

import crlcheck.aws.authorizer
from crlcheck import load_document
from crlcheck.errors import RecordsRefusedError
from tests.pki import CA, Leaf
from tests.serverless import (
    BUCKET,
    ClientSpy,
    Lambda,
    authorizer_lambda,
    fresh_crl,
    load_event,
    make_document,
    preprocessor_lambda,
    reset_moto,
    s3_event,
    set_fake_aws_env,
    utcnow,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.e2e

TRUSTSTORE = "truststore/truststore.pem"
CRL_KEY = "crls/ca.crl"
DOC_KEY = "crls/ca.cache.json"


@pytest.fixture
def server(moto_port: int) -> str:
    """The URL of moto's S3 server on 127.0.0.1 (tests/conftest.py)."""
    return f"http://127.0.0.1:{moto_port}"


@pytest.fixture
def s3(server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Client:
    """A client of the server, which is reset, with the versioned test bucket."""
    reset_moto(server)
    set_fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", server)
    client = boto3.client("s3")
    assert client.meta.endpoint_url == server
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


@pytest.fixture
def spy() -> ClientSpy:
    return ClientSpy()


@pytest.fixture
def authorizer(s3: S3Client, spy: ClientSpy, monkeypatch: pytest.MonkeyPatch) -> Lambda:
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", DOC_KEY)
    monkeypatch.setenv("CRLCHECK_REVALIDATE_SECONDS", "0")
    monkeypatch.setenv("CRLCHECK_STALE_GRACE_SECONDS", "0")
    monkeypatch.setenv("CRLCHECK_RESPONSE_FORMAT", "policy")
    return authorizer_lambda(spy)


@pytest.fixture
def preprocessor(s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> Lambda:
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_KEY", TRUSTSTORE)
    monkeypatch.delenv("CRLCHECK_TRUSTSTORE_BUCKET", raising=False)
    monkeypatch.delenv("CRLCHECK_OUTPUT_PREFIX", raising=False)
    return preprocessor_lambda()


@pytest.fixture(scope="module")
def good(ca: CA) -> Leaf:
    return ca.issue_cert("e2e good", serial=0x7001)


@pytest.fixture(scope="module")
def revoked(ca: CA) -> Leaf:
    return ca.issue_cert("e2e revoked", serial=0x7002)


def publish_crl(s3: S3Client, preprocessor: Lambda, crl: bytes) -> dict[str, Any]:
    """Upload a CRL and run the preprocessor on the event the upload triggers."""
    version = s3.put_object(Bucket=BUCKET, Key=CRL_KEY, Body=crl)["VersionId"]
    result: dict[str, Any] = preprocessor.handler(s3_event((BUCKET, CRL_KEY, version)), None)
    return result


def authorize(
    authorizer: Lambda,
    leaf: Leaf,
    shape: str = "rest-request-mtls.json",
    *,
    reason: str | None = None,
) -> str:
    """Call the authorizer; return "Allow" or "Deny" (and check the response, and ``reason``)."""
    response = authorizer.handler(load_event(shape, leaf.pem), None)
    (statement,) = response["policyDocument"]["Statement"]
    assert statement["Resource"].startswith("arn:aws:execute-api:")
    if reason is not None:
        assert response["context"]["reason"] == reason
    effect: str = statement["Effect"]
    return effect


def test_publish_then_authorize_then_revoke(
    s3: S3Client,
    preprocessor: Lambda,
    authorizer: Lambda,
    spy: ClientSpy,
    ca: CA,
    other_ca: CA,
    good: Leaf,
    revoked: Leaf,
) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca.pem + other_ca.pem)
    result = publish_crl(s3, preprocessor, fresh_crl(ca, [revoked.serial], number=1))
    assert result["records"][0]["outcome"] == "published"
    assert s3.head_object(Bucket=BUCKET, Key=DOC_KEY)["ContentLength"] > 0

    for shape in ("rest-request-mtls.json", "http-v1-mtls.json", "http-v2-mtls.json"):
        assert authorize(authorizer, good, shape) == "Allow"
        assert authorize(authorizer, revoked, shape, reason="revoked") == "Deny"
    unknown = other_ca.issue_cert("unknown CA")
    assert authorize(authorizer, unknown, reason="no_covering_crl") == "Deny"
    assert spy.counter is not None
    # Seven requests, one download: every revalidation after the first was a 304.
    assert (spy.counter.downloads, spy.counter.not_modified) == (1, 6)

    # The CA revokes the good certificate; the same warm authorizer denies it next request.
    publish_crl(s3, preprocessor, fresh_crl(ca, [revoked.serial, good.serial], number=2))
    assert authorize(authorizer, good, reason="revoked") == "Deny"
    assert spy.counter.downloads == 2
    assert len(spy.clients) == 1

    # A redelivered event changes nothing, so it costs the authorizer no download either.
    version = s3.list_object_versions(Bucket=BUCKET, Prefix=CRL_KEY)["Versions"][0]["VersionId"]
    again = preprocessor.handler(s3_event((BUCKET, CRL_KEY, version)), None)
    assert again["records"][0]["outcome"] == "unchanged"
    assert authorize(authorizer, good) == "Deny"
    assert spy.counter.downloads == 2


def test_rollback_is_refused_and_the_authorizer_keeps_the_newer_crl(
    s3: S3Client, preprocessor: Lambda, authorizer: Lambda, ca: CA, good: Leaf
) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca.pem)
    publish_crl(s3, preprocessor, fresh_crl(ca, [good.serial], number=5))
    with pytest.raises(RecordsRefusedError, match="crl_rollback"):
        publish_crl(s3, preprocessor, fresh_crl(ca, [], number=4))
    assert (
        load_document(s3.get_object(Bucket=BUCKET, Key=DOC_KEY)["Body"].read()).info.crl_number == 5
    )
    assert authorize(authorizer, good) == "Deny"


# --- faults during revalidation, over HTTP -------------------------------------------------


@pytest.fixture
def warm(
    s3: S3Client, authorizer: Lambda, spy: ClientSpy, ca: CA, good: Leaf, revoked: Leaf
) -> Lambda:
    """A warm authorizer with a fresh document that revokes ``revoked``."""
    s3.put_object(
        Bucket=BUCKET, Key=DOC_KEY, Body=make_document(ca, fresh_crl(ca, [revoked.serial]))
    )
    assert authorize(authorizer, good) == "Allow"
    return authorizer


@pytest.mark.parametrize("fault", ["throttle", "server_error", "timeout", "access_denied"])
def test_fault_with_a_fresh_set_keeps_serving(
    warm: Lambda, spy: ClientSpy, good: Leaf, revoked: Leaf, fault: str
) -> None:
    assert spy.faults is not None
    getattr(spy.faults, fault)()
    assert authorize(warm, good) == "Allow"
    assert authorize(warm, revoked) == "Deny"
    spy.faults.clear()
    assert authorize(warm, good) == "Allow"


@pytest.mark.parametrize("fault", ["throttle", "server_error", "timeout", "access_denied"])
def test_fault_on_a_cold_start_denies(
    s3: S3Client, authorizer: Lambda, spy: ClientSpy, ca: CA, good: Leaf, fault: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=DOC_KEY, Body=make_document(ca, fresh_crl(ca)))
    spy.initial_fault = fault
    assert authorize(authorizer, good, reason="store_unavailable") == "Deny"
    assert spy.faults is not None
    spy.faults.clear()
    assert authorize(authorizer, good) == "Allow"  # Recovers on the next request.


def test_fault_with_a_stale_set_denies(
    warm: Lambda, spy: ClientSpy, good: Leaf, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 fails and the kept set's CRL has passed nextUpdate (fresh_crl: now + 1 day): deny."""
    later = utcnow() + dt.timedelta(days=1, minutes=1)

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Later:
            return cls.fromtimestamp(later.timestamp(), tz)

    assert spy.faults is not None
    spy.faults.throttle()
    assert authorize(warm, good) == "Allow"
    monkeypatch.setattr(crlcheck.aws.authorizer, "datetime", Later)
    assert authorize(warm, good, reason="crl_stale") == "Deny"


def test_deleted_document(
    s3: S3Client, warm: Lambda, spy: ClientSpy, good: Leaf, monkeypatch: pytest.MonkeyPatch
) -> None:
    for version in s3.list_object_versions(Bucket=BUCKET, Prefix=DOC_KEY)["Versions"]:
        s3.delete_object(Bucket=BUCKET, Key=DOC_KEY, VersionId=version["VersionId"])
    # Warm: the last good set keeps serving until its CRL's nextUpdate.
    assert authorize(warm, good) == "Allow"
    # Cold: nothing to serve, deny.
    warm.cold_start()
    assert authorize(warm, good, reason="store_unavailable") == "Deny"


def test_corrupt_document(
    s3: S3Client, warm: Lambda, spy: ClientSpy, good: Leaf, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.put_object(Bucket=BUCKET, Key=DOC_KEY, Body=b'{"format":"crlcheck.revocation-set"}')
    assert authorize(warm, good) == "Allow"  # Warm: keeps the last good set.
    warm.cold_start()
    assert authorize(warm, good, reason="store_unavailable") == "Deny"  # Cold: no document.


def test_stale_document_denies(s3: S3Client, authorizer: Lambda, ca: CA, good: Leaf) -> None:
    now = utcnow()
    crl = ca.make_crl(
        [], this_update=now - dt.timedelta(days=2), next_update=now - dt.timedelta(minutes=1)
    )
    s3.put_object(
        Bucket=BUCKET,
        Key=DOC_KEY,
        Body=make_document(ca, crl, now=now - dt.timedelta(days=1)),
    )
    assert authorize(authorizer, good, reason="crl_stale") == "Deny"
