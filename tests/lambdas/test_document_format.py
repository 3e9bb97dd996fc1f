"""The binary document (format version 2) through both Lambdas: the preprocessor writes the
format ``CRLCHECK_DOCUMENT_FORMAT`` names, and the authorizer reads either by its first bytes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import pytest

from crlcheck import load_document
from crlcheck.aws.settings import PreprocessorSettings, SettingsError
from crlcheck.codec import sniff
from crlcheck.errors import RecordsRefusedError
from crlcheck.publish import document_key
from tests.pki import CA
from tests.serverless import BUCKET, Lambda, fresh_crl, load_event, s3_event

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TRUSTSTORE = "truststore/truststore.pem"
CRL_KEY = "crls/ca.crl"
BIN_KEY = "crls/ca.cache.bin"
JSON_KEY = "crls/ca.cache.json"


class Context:
    aws_request_id = "c0ffee00-0000-4000-8000-000000000003"


def publish_crl(s3: S3Client, ca: CA, preprocessor: Lambda, serials: list[int], number: int) -> Any:
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca.pem)
    version = s3.put_object(Bucket=BUCKET, Key=CRL_KEY, Body=fresh_crl(ca, serials, number=number))[
        "VersionId"
    ]
    event = s3_event((BUCKET, quote_plus(CRL_KEY, safe="/"), version))
    return preprocessor.handler(event, Context())


def body(s3: S3Client, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return data


# --- refusals first --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["xml", "JSON", "bin", "json,binary"])
def test_an_unknown_document_format_is_a_settings_error_naming_the_variable(value: str) -> None:
    env = {"CRLCHECK_TRUSTSTORE_KEY": TRUSTSTORE, "CRLCHECK_DOCUMENT_FORMAT": value}
    with pytest.raises(SettingsError, match="CRLCHECK_DOCUMENT_FORMAT") as info:
        PreprocessorSettings.from_environ(env)
    assert info.value.variable == "CRLCHECK_DOCUMENT_FORMAT"


def test_a_binary_document_uploaded_as_a_crl_is_refused(
    monkeypatch: pytest.MonkeyPatch, preprocessor: Lambda, s3: S3Client, ca: CA
) -> None:
    monkeypatch.setenv("CRLCHECK_DOCUMENT_FORMAT", "binary")
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca.pem)
    version = s3.put_object(Bucket=BUCKET, Key=BIN_KEY, Body=b"\x89CRLCHK\n")["VersionId"]
    with pytest.raises(RecordsRefusedError, match="bad_request"):
        preprocessor.handler(s3_event((BUCKET, BIN_KEY, version)), Context())
    assert document_key("crls/ca.crl", format="binary") == BIN_KEY


# --- what they do ----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "fmt"), [("", "json"), ("json", "json"), (" binary ", "binary")])
def test_the_format_setting_defaults_to_json(value: str, fmt: str) -> None:
    env = {"CRLCHECK_TRUSTSTORE_KEY": TRUSTSTORE, "CRLCHECK_DOCUMENT_FORMAT": value}
    assert PreprocessorSettings.from_environ(env).document_format == fmt


def test_the_preprocessor_writes_a_binary_document_the_authorizer_reads(
    monkeypatch: pytest.MonkeyPatch,
    preprocessor: Lambda,
    authorizer: Lambda,
    s3: S3Client,
    ca: CA,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRLCHECK_DOCUMENT_FORMAT", "binary")
    revoked, good = ca.issue_cert("revoked", serial=0x6002), ca.issue_cert("good", serial=0x6001)
    result = publish_crl(s3, ca, preprocessor, [revoked.serial], number=4)
    assert result["records"][0]["document_key"] == BIN_KEY
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=JSON_KEY)["KeyCount"] == 0
    data = body(s3, BIN_KEY)
    assert sniff(data) == "binary"
    assert load_document(data).info.crl_number == 4
    head = s3.head_object(Bucket=BUCKET, Key=BIN_KEY)
    assert head["ContentType"] == "application/octet-stream"
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (line["document_key"], line["document_format"]) == (BIN_KEY, "binary")

    # The authorizer is told the document's key explicitly, and recognises its format.
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", BIN_KEY)
    authorizer.cold_start()
    for leaf, expected in ((good, "Allow"), (revoked, "Deny")):
        response = authorizer.handler(load_event("rest-request-mtls.json", leaf.pem), Context())
        assert response["policyDocument"]["Statement"][0]["Effect"] == expected


def test_a_redelivered_event_is_a_no_op_in_binary_too(
    monkeypatch: pytest.MonkeyPatch, preprocessor: Lambda, s3: S3Client, ca: CA
) -> None:
    monkeypatch.setenv("CRLCHECK_DOCUMENT_FORMAT", "binary")
    publish_crl(s3, ca, preprocessor, [1, 2], number=5)
    first = s3.head_object(Bucket=BUCKET, Key=BIN_KEY)["ETag"]
    version = s3.list_object_versions(Bucket=BUCKET, Prefix=CRL_KEY)["Versions"][0]["VersionId"]
    event = s3_event((BUCKET, quote_plus(CRL_KEY, safe="/"), version))
    assert preprocessor.handler(event, Context())["records"][0]["outcome"] == "unchanged"
    assert s3.head_object(Bucket=BUCKET, Key=BIN_KEY)["ETag"] == first


def test_switching_formats_publishes_a_document_of_each(
    monkeypatch: pytest.MonkeyPatch, preprocessor: Lambda, s3: S3Client, ca: CA
) -> None:
    publish_crl(s3, ca, preprocessor, [1], number=1)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_FORMAT", "binary")
    preprocessor.cold_start()
    publish_crl(s3, ca, preprocessor, [1, 2], number=2)
    assert load_document(body(s3, JSON_KEY)).info.crl_number == 1
    assert load_document(body(s3, BIN_KEY)).info.crl_number == 2
