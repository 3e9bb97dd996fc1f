"""S3 faults on real sockets while the warm authorizer revalidates its documents.

Beyond ``tests/lambdas`` (faults injected into botocore) and ``tests/e2e/test_moto_server.py``,
these go through a fault-injecting HTTP proxy (:mod:`tests.hardening.faultproxy`) in front of
moto's S3 server, so botocore's real timeouts, retries and length checks are what the
authorizer meets. The expectation, from issue 5: keep the last good set while it is fresh, deny
when there is none, recover by itself when S3 recovers, and answer within the Lambda timeout.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

import crlcheck.aws.authorizer
import crlcheck.aws.preprocessor
import crlcheck.service
from crlcheck.cache import BAD_BODY_RETRY_SECONDS
from tests.hardening.faultproxy import FaultProxy
from tests.pki import CA, Leaf
from tests.serverless import (
    BUCKET,
    Lambda,
    authorizer_lambda,
    fresh_crl,
    load_event,
    make_document,
    reset_moto,
    set_fake_aws_env,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.e2e

KEY = "crls/ca.cache.json"
OTHER_KEY = "crls/other.cache.json"
LAMBDA_TIMEOUT = 10.0  # template.yaml, AuthorizerFunction.Timeout


@pytest.fixture
def proxy(moto_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto_port).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def s3(moto_port: int, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A direct client of moto (for setting up); the authorizer goes through the proxy."""
    url = f"http://127.0.0.1:{moto_port}"
    reset_moto(url)
    set_fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
    client = boto3.client("s3", endpoint_url=url)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def authorizer(s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> Lambda:
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", KEY)
    for name in (
        "CRLCHECK_REVALIDATE_SECONDS",
        "CRLCHECK_STALE_GRACE_SECONDS",
        "CRLCHECK_RESPONSE_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    return authorizer_lambda()


@pytest.fixture(scope="module")
def good(ca: CA) -> Leaf:
    return ca.issue_cert("faults good", serial=0x9001)


@pytest.fixture(scope="module")
def revoked(ca: CA) -> Leaf:
    return ca.issue_cert("faults revoked", serial=0x9002)


def publish(s3: S3Client, ca: CA, serials: list[int], number: int, key: str = KEY) -> None:
    s3.put_object(
        Bucket=BUCKET, Key=key, Body=make_document(ca, fresh_crl(ca, serials, number=number))
    )


def call(
    authorizer: Lambda, leaf: Leaf, capsys: pytest.CaptureFixture[str]
) -> tuple[str, str, float, dict[str, Any]]:
    """(effect, reason, seconds, log record) of one authorizer invocation."""
    started = time.monotonic()
    response = authorizer.handler(load_event("rest-request-mtls.json", leaf.pem), None)
    elapsed = time.monotonic() - started
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    record: dict[str, Any] = json.loads(lines[-1])
    (statement,) = response["policyDocument"]["Statement"]
    return statement["Effect"], response["context"]["reason"], elapsed, record


def failures(record: dict[str, Any]) -> list[dict[str, Any]]:
    documents: dict[str, Any] = record.get("documents", {})
    found: list[dict[str, Any]] = documents.get("failures", [])
    return found


# Modes that fail fast (no timeout): each request costs at most the retries' backoff.
FAST_FAULTS = ["reset", "503", "500", "403", "truncate"]


@pytest.mark.parametrize("mode", FAST_FAULTS)
def test_fault_keeps_the_last_good_set_then_recovers_by_itself(
    authorizer: Lambda,
    s3: S3Client,
    proxy: FaultProxy,
    ca: CA,
    good: Leaf,
    revoked: Leaf,
    capsys: pytest.CaptureFixture[str],
    mode: str,
) -> None:
    publish(s3, ca, [revoked.serial], number=1)
    assert call(authorizer, good, capsys)[:2] == ("Allow", "not_revoked")
    # S3 fails; meanwhile the CA revokes ``good`` (a new document, a new ETag).
    proxy.mode = mode
    publish(s3, ca, [revoked.serial, good.serial], number=2)
    effect, _, elapsed, record = call(authorizer, good, capsys)
    assert effect == "Allow"  # The last good set, still fresh, keeps serving...
    assert failures(record)[0]["kept"] is True  # ...and the failure is logged.
    assert elapsed < LAMBDA_TIMEOUT / 2
    assert call(authorizer, revoked, capsys)[:2] == ("Deny", "revoked")
    # S3 recovers: the very next request sees the new document, with nothing restarted.
    proxy.mode = "pass"
    effect, reason, _, record = call(authorizer, good, capsys)
    assert (effect, reason) == ("Deny", "revoked")
    assert failures(record) == []


@pytest.mark.parametrize("mode", ["503", "stall"])
def test_cold_start_during_a_fault_denies_then_recovers(
    authorizer: Lambda,
    s3: S3Client,
    proxy: FaultProxy,
    ca: CA,
    good: Leaf,
    capsys: pytest.CaptureFixture[str],
    mode: str,
) -> None:
    publish(s3, ca, [], number=1)
    proxy.mode = mode
    effect, reason, elapsed, _ = call(authorizer, good, capsys)
    assert (effect, reason) == ("Deny", "store_unavailable")
    assert elapsed < LAMBDA_TIMEOUT
    proxy.mode = "pass"
    assert call(authorizer, good, capsys)[:2] == ("Allow", "not_revoked")


@pytest.mark.parametrize("checksum", [True, False], ids=["with-checksum", "without-checksum"])
def test_a_document_corrupted_in_transit_is_not_held_against_it(
    authorizer: Lambda,
    s3: S3Client,
    moto_port: int,
    proxy: FaultProxy,
    ca: CA,
    good: Leaf,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    checksum: bool,
) -> None:
    """A new document whose body arrives corrupt (same length) is refused and the last good set
    kept; once transfers are clean again, the new document, which never changed in S3, must be
    picked up. With a stored checksum (boto3 adds CRC32 to uploads by default) botocore rejects
    the body itself; without one, the corrupt body reaches the document loader."""
    if not checksum:
        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{moto_port}",
            config=Config(request_checksum_calculation="when_required"),
        )
    publish(s3, ca, [], number=1)
    assert call(authorizer, good, capsys)[0] == "Allow"
    proxy.mode = "corrupt"
    publish(s3, ca, [good.serial], number=2)
    effect, _, _, record = call(authorizer, good, capsys)
    assert effect == "Allow"
    (failure,) = failures(record)
    proxy.mode = "pass"
    if checksum:
        # botocore compares the body with the stored CRC32: a transfer fault, retried next time.
        assert failure["reason"] == "store_unavailable"
        assert "checksum" in failure["message"]
    else:
        # Indistinguishable from a bad document: not downloaded again for a while...
        assert failure["reason"] == "document_invalid"
        assert call(authorizer, good, capsys)[0] == "Allow"
        # ...but only for a while (before the fix made in this suite: until the next CRL).
        real = time.monotonic
        later = SimpleNamespace(monotonic=lambda: real() + BAD_BODY_RETRY_SECONDS)
        monkeypatch.setattr(crlcheck.service, "time", later)
    assert call(authorizer, good, capsys)[:2] == ("Deny", "revoked")


def test_a_stall_costs_bounded_time_per_document_and_keeps_the_last_good_sets(
    authorizer: Lambda,
    s3: S3Client,
    proxy: FaultProxy,
    ca: CA,
    other_ca: CA,
    good: Leaf,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """S3 accepts connections and never answers. botocore's read timeout (2 s, 2 attempts)
    bounds each document's revalidation to ~4 s, and the documents are revalidated one after
    the other: with two documents the answer comes in ~8 s, inside the 10 s Lambda timeout;
    with three it would not (see docs/SECURITY.md, "Known limits")."""
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", f"{KEY},{OTHER_KEY}")
    publish(s3, ca, [], number=1)
    publish(s3, other_ca, [], number=1, key=OTHER_KEY)
    assert call(authorizer, good, capsys)[0] == "Allow"
    proxy.mode = "stall"
    effect, _, elapsed, record = call(authorizer, good, capsys)
    assert effect == "Allow"
    assert [f["kept"] for f in failures(record)] == [True, True]
    assert elapsed < LAMBDA_TIMEOUT, elapsed
    assert elapsed / 2 < 5.0, elapsed
    proxy.mode = "pass"
    assert call(authorizer, good, capsys)[:2] == ("Allow", "not_revoked")


# --- hostile names: what reaches the response context and the log ---------------------------

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def test_injection_in_certificate_names_reaches_neither_context_nor_logs(
    authorizer: Lambda, s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issuer name is echoed into the response context (which API Gateway can map into
    backend request headers) and into the log line: CR/LF, NUL and line separators in it must
    not come out as such."""
    evil = CA("evil\r\nX-Injected: 1\r\n\r\n\x00\u2028{}")
    leaf = evil.issue_cert("victim\r\nSet-Cookie: a=b")
    publish(s3, evil, [leaf.serial], number=1)
    capsys.readouterr()
    response = authorizer.handler(load_event("rest-request-mtls.json", leaf.pem), None)
    out = capsys.readouterr().out
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert response["context"]["reason"] == "revoked"
    for value in response["context"].values():
        assert not (isinstance(value, str) and _UNSAFE.search(value)), value
    assert "X-Injected" in response["context"]["issuer"]  # Kept readable, made harmless.
    (line,) = out.splitlines()  # One log line, whatever the names hold.
    record = json.loads(line)
    assert not _UNSAFE.search(record["issuer"])
    assert "\u2028" not in line
