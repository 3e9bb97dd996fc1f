"""crlcheck.events: the three authorizer event shapes and S3 notifications."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crlcheck.aws.events import (
    MAX_PEM_LENGTH,
    EventKind,
    parse_authorizer_event,
    parse_s3_event,
    peek_event_kind,
    peek_resource_arn,
)
from crlcheck.errors import EventError
from tests.pki import CA
from tests.serverless import load_event

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _cert_holder(event: dict[str, Any]) -> dict[str, Any]:
    context = event["requestContext"]
    holder: dict[str, Any] = context[
        "authentication" if "authentication" in context else "identity"
    ]
    return holder


# --- negative cases first ------------------------------------------------------------------


@pytest.mark.parametrize("event", [None, [], "event", 42])
def test_non_object_event_is_refused(event: object) -> None:
    with pytest.raises(EventError, match="not an object") as info:
        parse_authorizer_event(event)
    assert info.value.reason == "bad_request"


def test_token_authorizer_event_is_refused() -> None:
    event = {"type": "TOKEN", "authorizationToken": "x", "methodArn": "arn:aws:execute-api:x"}
    with pytest.raises(EventError, match="TOKEN authorizer"):
        parse_authorizer_event(event)


def test_unknown_payload_version_is_refused() -> None:
    event = load_event("http-v2-mtls.json", PEM)
    event["version"] = "3.0"
    with pytest.raises(EventError, match="unknown authorizer payload version"):
        parse_authorizer_event(event)


@pytest.mark.parametrize(
    "name", ["rest-request-mtls.json", "http-v1-mtls.json", "http-v2-mtls.json"]
)
def test_missing_client_cert_is_refused(name: str) -> None:
    event = load_event(name, PEM)
    del _cert_holder(event)["clientCert"]
    with pytest.raises(EventError, match="clientCert"):
        parse_authorizer_event(event)


@pytest.mark.parametrize(
    "name", ["rest-request-mtls.json", "http-v1-mtls.json", "http-v2-mtls.json"]
)
@pytest.mark.parametrize("pem", [None, "", 12, ["a"]])
def test_missing_or_mistyped_pem_is_refused(name: str, pem: object) -> None:
    event = load_event(name, PEM)
    _cert_holder(event)["clientCert"]["clientCertPem"] = pem
    with pytest.raises(EventError, match="clientCertPem"):
        parse_authorizer_event(event)


def test_oversized_pem_is_refused() -> None:
    event = load_event("rest-request-mtls.json", b"A" * (MAX_PEM_LENGTH + 1))
    with pytest.raises(EventError, match="longer than"):
        parse_authorizer_event(event)


def test_non_ascii_pem_is_refused() -> None:
    event = load_event("rest-request-mtls.json", PEM)
    event["requestContext"]["identity"]["clientCert"]["clientCertPem"] = "-----BEGIN \u00e9"
    with pytest.raises(EventError, match="not ASCII"):
        parse_authorizer_event(event)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("rest-request-mtls.json", "methodArn"),
        ("http-v1-mtls.json", "methodArn"),
        ("http-v2-mtls.json", "routeArn"),
    ],
)
def test_missing_resource_arn_is_refused(name: str, field: str) -> None:
    event = load_event(name, PEM)
    del event[field]
    with pytest.raises(EventError, match=field):
        parse_authorizer_event(event)


def test_v2_certificate_in_the_v1_place_is_refused() -> None:
    """Detection is by version: a 2.0 event must carry the certificate under authentication."""
    event = load_event("http-v2-mtls.json", PEM)
    event["requestContext"]["identity"] = event["requestContext"].pop("authentication")
    with pytest.raises(EventError, match=r"requestContext\.authentication"):
        parse_authorizer_event(event)


def test_missing_request_context_is_refused() -> None:
    event = load_event("rest-request-mtls.json", PEM)
    del event["requestContext"]
    with pytest.raises(EventError, match="requestContext"):
        parse_authorizer_event(event)


# --- the three shapes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "arn", "request_id"),
    [
        (
            "rest-request-mtls.json",
            EventKind.REST,
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/hello",
            "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        ),
        (
            "http-v1-mtls.json",
            EventKind.HTTP_V1,
            "arn:aws:execute-api:us-east-1:123456789012:f6g7h8i9j0/$default/GET/hello",
            "Fq3mHhPzIAMEVbg=",
        ),
        (
            "http-v2-mtls.json",
            EventKind.HTTP_V2,
            "arn:aws:execute-api:us-east-1:123456789012:f6g7h8i9j0/$default/GET/hello",
            "Fq3mKjT9IAMEbQw=",
        ),
    ],
)
def test_each_shape_is_detected_and_read(
    ca: CA, name: str, kind: EventKind, arn: str, request_id: str
) -> None:
    pem = ca.issue_cert().pem
    parsed = parse_authorizer_event(load_event(name, pem))
    assert parsed.kind is kind
    assert parsed.client_cert_pem == pem  # The JSON \n escapes are undone by the JSON decoder.
    assert parsed.resource_arn == arn
    assert parsed.request_id == request_id
    assert parsed.source_ip == "198.51.100.23"
    assert peek_event_kind(load_event(name)) is kind


def test_rest_event_needs_no_authorization_token() -> None:
    event = load_event("rest-request-mtls.json", PEM)
    assert "authorizationToken" not in event
    assert parse_authorizer_event(event).kind is EventKind.REST


def test_the_clientcert_text_fields_are_not_read() -> None:
    event = load_event("http-v1-mtls.json", PEM)
    cert = event["requestContext"]["identity"]["clientCert"]
    for field in ("serialNumber", "issuerDN", "subjectDN", "validity"):
        del cert[field]
    assert parse_authorizer_event(event).client_cert_pem == PEM


def test_optional_fields_may_be_missing_or_null() -> None:
    event = load_event("http-v2-mtls.json", PEM)
    del event["requestContext"]["http"]
    event["requestContext"]["requestId"] = None
    parsed = parse_authorizer_event(event)
    assert parsed.request_id is None
    assert parsed.source_ip is None


def test_parsing_does_not_modify_the_event() -> None:
    event = load_event("http-v2-mtls.json", PEM)
    before = copy.deepcopy(event)
    parse_authorizer_event(event)
    assert event == before


@pytest.mark.parametrize(
    ("event", "arn"),
    [
        ({"methodArn": "arn:m"}, "arn:m"),
        ({"routeArn": "arn:r"}, "arn:r"),
        ({"methodArn": 5}, None),
        ({}, None),
        (None, None),
        ("x", None),
    ],
)
def test_peek_resource_arn_never_raises(event: object, arn: str | None) -> None:
    assert peek_resource_arn(event) == arn


@pytest.mark.parametrize("event", [None, {}, {"version": "9"}, {"type": "TOKEN"}, []])
def test_peek_event_kind_never_raises(event: object) -> None:
    assert peek_event_kind(event) is None


# --- S3 notifications ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"Records": []},
        {"Records": "x"},
        {"Records": [None]},
        {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {}}}]},
        {"Records": [{"s3": {"bucket": {}, "object": {"key": "k"}}}]},
        {"Records": [{"eventSource": "aws:sqs", "s3": {}}]},
    ],
)
def test_malformed_s3_events_are_refused(event: object) -> None:
    with pytest.raises(EventError):
        parse_s3_event(event)


def test_s3_test_event_has_no_records() -> None:
    event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}
    assert parse_s3_event(event) == []


def test_s3_record_is_read_with_the_key_url_decoded() -> None:
    (record,) = parse_s3_event(load_event("s3-put.json"))
    assert record.bucket == "crlcheck-example-bucket"
    assert record.key == "crls/Example CA.crl"
    assert record.version_id == "Qx8mZ3tVb7wR2yK5nP0sL4dF6hJ9aC1e"
    assert record.etag == "7d4e1f0a9c2b3e5d6f8a1b2c3d4e5f60"
    assert record.size == 48213
    assert record.event_name == "ObjectCreated:Put"
    assert record.created


def test_every_record_is_read_and_plus_is_not_a_space() -> None:
    first, second = parse_s3_event(load_event("s3-put-multi.json"))
    assert first.key == "crls/Example CA.crl"
    # A literal '+' arrives as %2B; unquote (not _plus) or no decoding would both be wrong.
    assert second.key == "crls/partner+ca (2025).crl"
    assert second.size == 1203457


def test_s3_record_optional_fields() -> None:
    event = load_event("s3-put.json")
    obj = event["Records"][0]["s3"]["object"]
    del obj["versionId"], obj["eTag"]
    obj["size"] = True
    event["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    (record,) = parse_s3_event(event)
    assert (record.version_id, record.etag, record.size) == (None, None, None)
    assert not record.created
