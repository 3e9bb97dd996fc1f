"""The authorizer handler in-process, against moto, with the real event shapes."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest

import crlcheck.aws.authorizer
import crlcheck.aws.preprocessor
import crlcheck.service
from crlcheck.serial import format_serial
from tests.pki import CA, Leaf
from tests.serverless import (
    BUCKET,
    ClientSpy,
    Lambda,
    fresh_crl,
    load_event,
    make_document,
    utcnow,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KEY = "crls/ca.cache.json"
OTHER_KEY = "crls/other.cache.json"
ARN = "arn:aws:execute-api:us-east-1:123456789012"
SHAPES = {  # fixture -> its methodArn/routeArn
    "rest-request-mtls.json": f"{ARN}:a1b2c3d4e5/prod/GET/hello",
    "http-v1-mtls.json": f"{ARN}:f6g7h8i9j0/$default/GET/hello",
    "http-v2-mtls.json": f"{ARN}:f6g7h8i9j0/$default/GET/hello",
}


class Context:
    aws_request_id = "c0ffee00-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def good(ca: CA) -> Leaf:
    return ca.issue_cert("good client", serial=0x5001)


@pytest.fixture(scope="module")
def revoked(ca: CA) -> Leaf:
    return ca.issue_cert("revoked client", serial=0x5002)


def publish(s3: S3Client, ca: CA, revoked: list[int], *, number: int = 1, key: str = KEY) -> None:
    s3.put_object(
        Bucket=BUCKET, Key=key, Body=make_document(ca, fresh_crl(ca, revoked, number=number))
    )


def call(
    authorizer: Lambda, pem: bytes | None, shape: str = "rest-request-mtls.json"
) -> dict[str, Any]:
    result: dict[str, Any] = authorizer.handler(load_event(shape, pem), Context())
    return result


def effect(response: dict[str, Any]) -> str:
    if "isAuthorized" in response:
        return "Allow" if response["isAuthorized"] is True else "Deny"
    (statement,) = response["policyDocument"]["Statement"]
    value: str = statement["Effect"]
    return value


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# --- fail closed ---------------------------------------------------------------------------


def test_missing_document_denies(authorizer: Lambda, good: Leaf) -> None:
    response = call(authorizer, good.pem)
    assert effect(response) == "Deny"
    assert response["context"]["reason"] == "store_unavailable"


def test_unknown_ca_denies(authorizer: Lambda, s3: S3Client, ca: CA, other_ca: CA) -> None:
    publish(s3, ca, [])
    stranger = other_ca.issue_cert("stranger", serial=0x5001)
    response = call(authorizer, stranger.pem)
    assert effect(response) == "Deny"
    assert response["context"]["reason"] == "no_covering_crl"
    assert response["context"]["issuer"] == other_ca.cert.subject.rfc4514_string()


def test_garbled_certificate_denies(authorizer: Lambda, s3: S3Client, ca: CA) -> None:
    publish(s3, ca, [])
    pem = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
    response = call(authorizer, pem)
    assert effect(response) == "Deny"
    assert response["context"] == {"reason": "bad_certificate"}
    assert response["principalId"] == "unknown"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_missing_certificate_denies_on_the_event_resource(
    authorizer: Lambda, spy: ClientSpy, shape: str
) -> None:
    event = load_event(shape)
    context = event["requestContext"]
    context.get("identity", context.get("authentication", {})).pop("clientCert")
    response = authorizer.handler(event, Context())
    assert effect(response) == "Deny"
    assert response["context"]["reason"] == "bad_request"
    assert response["policyDocument"]["Statement"][0]["Resource"] == SHAPES[shape]
    assert spy.counter is not None
    assert sum(spy.counter.statuses.values()) == 0  # A bad request costs no S3 call.


@pytest.mark.parametrize("event", [None, "x", [], {"type": "TOKEN"}, {"version": "2.0"}])
def test_malformed_events_deny(authorizer: Lambda, event: object) -> None:
    response = authorizer.handler(event, None)
    assert effect(response) == "Deny"
    assert response["policyDocument"]["Statement"][0]["Resource"] == "*"


def test_malformed_v2_event_gets_a_simple_deny(
    authorizer: Lambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRLCHECK_RESPONSE_FORMAT", "simple")
    response = authorizer.handler({"version": "2.0", "routeArn": "arn:r"}, None)
    assert response == {"isAuthorized": False, "context": {"reason": "bad_request"}}


def test_misconfiguration_denies_and_is_logged(
    authorizer: Lambda,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    good: Leaf,
) -> None:
    monkeypatch.delenv("CRLCHECK_BUCKET")
    response = call(authorizer, good.pem)
    assert effect(response) == "Deny"
    assert response["context"] == {"reason": "internal_error"}
    (line,) = log_lines(capsys)
    assert line["reason"] == "internal_error"
    assert line["error_type"] == "SettingsError"
    assert line["error_reason"] == "misconfigured"
    assert "CRLCHECK_BUCKET" in line["error"]
    assert line["lambda_request_id"] == Context.aws_request_id


def test_unexpected_exception_denies(
    authorizer: Lambda,
    s3: S3Client,
    ca: CA,
    good: Leaf,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    publish(s3, ca, [])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(crlcheck.service, "decide", broken)
    response = call(authorizer, good.pem, "http-v2-mtls.json")
    assert effect(response) == "Deny"
    assert response["context"] == {"reason": "internal_error"}
    assert response["policyDocument"]["Statement"][0]["Resource"] == SHAPES["http-v2-mtls.json"]
    (line,) = log_lines(capsys)
    assert line["error"] == "bug"
    assert line["Reason"] == "internal_error"


def test_exception_in_logging_still_denies(
    authorizer: Lambda, s3: S3Client, ca: CA, good: Leaf, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(s3, ca, [])

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("stdout is gone")

    monkeypatch.setattr(crlcheck.aws.authorizer, "write_line", broken)
    assert effect(call(authorizer, good.pem)) == "Deny"


# --- the three shapes, both response formats -----------------------------------------------


@pytest.mark.parametrize("shape", list(SHAPES))
def test_allows_good_and_denies_revoked(
    authorizer: Lambda, s3: S3Client, ca: CA, good: Leaf, revoked: Leaf, shape: str
) -> None:
    publish(s3, ca, [revoked.serial], number=7)
    allowed = call(authorizer, good.pem, shape)
    assert effect(allowed) == "Allow"
    assert allowed["policyDocument"]["Statement"][0]["Resource"] == SHAPES[shape]
    assert allowed["principalId"] == format_serial(good.serial)
    assert allowed["context"] == {
        "reason": "not_revoked",
        "serial": "5001",
        "issuer": ca.cert.subject.rfc4514_string(),
        "crl_number": "7",
    }
    denied = call(authorizer, revoked.pem, shape)
    assert effect(denied) == "Deny"
    assert denied["context"]["reason"] == "revoked"
    assert denied["context"]["serial"] == "5002"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_simple_responses_only_for_v2(
    authorizer: Lambda,
    s3: S3Client,
    ca: CA,
    good: Leaf,
    revoked: Leaf,
    monkeypatch: pytest.MonkeyPatch,
    shape: str,
) -> None:
    monkeypatch.setenv("CRLCHECK_RESPONSE_FORMAT", "simple")
    publish(s3, ca, [revoked.serial])
    allowed = call(authorizer, good.pem, shape)
    denied = call(authorizer, revoked.pem, shape)
    if shape == "http-v2-mtls.json":
        assert allowed["isAuthorized"] is True
        assert denied["isAuthorized"] is False
        assert set(allowed) == {"isAuthorized", "context"}
        assert denied["context"]["reason"] == "revoked"
    else:
        assert "isAuthorized" not in allowed
        assert (effect(allowed), effect(denied)) == ("Allow", "Deny")


def test_one_log_line_per_decision_without_pem(
    authorizer: Lambda,
    s3: S3Client,
    ca: CA,
    good: Leaf,
    revoked: Leaf,
    capsys: pytest.CaptureFixture[str],
) -> None:
    publish(s3, ca, [revoked.serial])
    call(authorizer, good.pem, "http-v1-mtls.json")
    call(authorizer, revoked.pem, "http-v1-mtls.json")
    first, second = log_lines(capsys)
    assert (first["allowed"], first["reason"], first["Outcome"]) == (True, "not_revoked", "allow")
    assert (second["allowed"], second["reason"], second["Outcome"]) == (False, "revoked", "deny")
    assert first["Reloads"] == 1
    assert second["Reloads"] == 0
    assert first["event_kind"] == "http_v1"
    assert first["lambda_request_id"] == Context.aws_request_id
    assert 0 < first["CRLAgeSeconds"] < 7200
    for line in (first, second):
        text = json.dumps(line)
        assert "BEGIN CERTIFICATE" not in text
        assert good.pem.decode().splitlines()[1] not in text
        assert "_aws" in line


# --- warm container: ETag revalidation -----------------------------------------------------


def test_unchanged_etag_costs_no_download(
    authorizer: Lambda, s3: S3Client, ca: CA, good: Leaf, spy: ClientSpy
) -> None:
    publish(s3, ca, [])
    for _ in range(3):
        assert effect(call(authorizer, good.pem)) == "Allow"
    assert spy.counter is not None
    assert (spy.counter.downloads, spy.counter.not_modified) == (1, 2)
    assert len(spy.clients) == 1  # One client for the container's lifetime.


def test_new_document_is_picked_up_by_the_warm_authorizer(
    authorizer: Lambda, s3: S3Client, ca: CA, good: Leaf
) -> None:
    publish(s3, ca, [])
    assert effect(call(authorizer, good.pem)) == "Allow"
    publish(s3, ca, [good.serial], number=2)
    response = call(authorizer, good.pem)
    assert effect(response) == "Deny"
    assert response["context"]["crl_number"] == "2"


def test_revalidation_interval_skips_s3(
    authorizer: Lambda,
    s3: S3Client,
    ca: CA,
    good: Leaf,
    spy: ClientSpy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRLCHECK_REVALIDATE_SECONDS", "3600")
    publish(s3, ca, [])
    assert effect(call(authorizer, good.pem)) == "Allow"
    publish(s3, ca, [good.serial], number=2)
    # Within the interval the warm authorizer does not ask S3: bounded staleness, by design.
    assert effect(call(authorizer, good.pem)) == "Allow"
    assert spy.counter is not None
    assert sum(spy.counter.statuses.values()) == 1


def test_several_cas(
    authorizer: Lambda,
    s3: S3Client,
    ca: CA,
    other_ca: CA,
    good: Leaf,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", f"{KEY},{OTHER_KEY}")
    other_good = other_ca.issue_cert("other good", serial=good.serial)
    publish(s3, ca, [])
    publish(s3, other_ca, [], key=OTHER_KEY)
    assert effect(call(authorizer, good.pem)) == "Allow"
    assert effect(call(authorizer, other_good.pem)) == "Allow"
    # The same serial revoked by one CA denies only that CA's certificate.
    publish(s3, other_ca, [good.serial], number=2, key=OTHER_KEY)
    assert effect(call(authorizer, good.pem)) == "Allow"
    assert effect(call(authorizer, other_good.pem)) == "Deny"


# --- faults during revalidation ------------------------------------------------------------


@pytest.mark.parametrize("fault", ["throttle", "server_error", "timeout", "access_denied"])
def test_store_fault_keeps_the_last_good_set(
    authorizer: Lambda,
    s3: S3Client,
    ca: CA,
    good: Leaf,
    revoked: Leaf,
    spy: ClientSpy,
    capsys: pytest.CaptureFixture[str],
    fault: str,
) -> None:
    publish(s3, ca, [revoked.serial])
    assert effect(call(authorizer, good.pem)) == "Allow"
    assert spy.faults is not None
    getattr(spy.faults, fault)()
    assert effect(call(authorizer, good.pem)) == "Allow"
    assert effect(call(authorizer, revoked.pem)) == "Deny"
    lines = log_lines(capsys)
    assert lines[-1]["S3Errors"] == 1
    assert lines[-1]["documents"]["failures"][0]["kept"] is True


def test_store_fault_on_cold_start_denies(
    authorizer: Lambda, s3: S3Client, ca: CA, good: Leaf, spy: ClientSpy
) -> None:
    publish(s3, ca, [])
    spy.initial_fault = "throttle"
    response = call(authorizer, good.pem)
    assert effect(response) == "Deny"
    assert response["context"]["reason"] == "store_unavailable"


def test_deleted_document_keeps_serving_until_stale(
    authorizer: Lambda, s3: S3Client, ca: CA, good: Leaf, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(s3, ca, [])
    assert effect(call(authorizer, good.pem)) == "Allow"
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=KEY)["Versions"]
    for version in versions:
        s3.delete_object(Bucket=BUCKET, Key=KEY, VersionId=version["VersionId"])
    assert effect(call(authorizer, good.pem)) == "Allow"
    assert log_lines(capsys)[-1]["documents"]["failures"][0]["reason"] == "document_missing"


def test_corrupt_document_denies_on_cold_start_and_is_ignored_when_warm(
    authorizer: Lambda, s3: S3Client, ca: CA, good: Leaf, spy: ClientSpy
) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b'{"format": "crlcheck.revocation-set"')
    response = call(authorizer, good.pem)
    assert effect(response) == "Deny"
    assert response["context"]["reason"] == "store_unavailable"
    publish(s3, ca, [])
    assert effect(call(authorizer, good.pem)) == "Allow"
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"garbage")
    assert effect(call(authorizer, good.pem)) == "Allow"  # The last good set keeps serving.
    assert spy.counter is not None
    downloads = spy.counter.downloads
    assert effect(call(authorizer, good.pem)) == "Allow"
    assert spy.counter.downloads == downloads  # The bad body is not downloaded again.


def test_stale_crl_denies_unless_within_grace(
    authorizer: Lambda,
    s3: S3Client,
    ca: CA,
    good: Leaf,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = utcnow()
    crl = ca.make_crl(
        [], this_update=now - dt.timedelta(days=2), next_update=now - dt.timedelta(hours=1)
    )
    s3.put_object(
        Bucket=BUCKET, Key=KEY, Body=make_document(ca, crl, now=now - dt.timedelta(days=1))
    )
    response = call(authorizer, good.pem)
    assert effect(response) == "Deny"
    assert response["context"]["reason"] == "crl_stale"
    authorizer.cold_start()
    monkeypatch.setenv("CRLCHECK_STALE_GRACE_SECONDS", str(2 * 3600))
    assert effect(call(authorizer, good.pem)) == "Allow"
