"""The preprocessor handler in-process, against moto, with S3 event notifications."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import pytest

from crlcheck import load_document
from crlcheck.aws.settings import SettingsError
from crlcheck.errors import EventError, RecordsRefusedError
from tests.pki import CA
from tests.serverless import (
    BUCKET,
    Lambda,
    fresh_crl,
    load_event,
    s3_event,
    utcnow,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TRUSTSTORE = "truststore/truststore.pem"
CRL_KEY = "crls/ca.crl"
DOC_KEY = "crls/ca.cache.json"


class Context:
    aws_request_id = "c0ffee00-0000-4000-8000-000000000002"


def upload_truststore(s3: S3Client, *cas: CA, bucket: str = BUCKET) -> None:
    s3.put_object(Bucket=bucket, Key=TRUSTSTORE, Body=b"".join(ca.pem for ca in cas))


def upload_crl(s3: S3Client, key: str, crl: bytes) -> str:
    """Upload a CRL; return its VersionId (the bucket is versioned)."""
    return s3.put_object(Bucket=BUCKET, Key=key, Body=crl)["VersionId"]


def event_for(*uploads: tuple[str, str]) -> dict[str, Any]:
    """An S3 event for (key, version) uploads, with keys encoded as S3 encodes them."""
    return s3_event(*((BUCKET, quote_plus(key, safe="/"), version) for key, version in uploads))


def document(s3: S3Client, key: str = DOC_KEY) -> tuple[bytes, str]:
    obj = s3.get_object(Bucket=BUCKET, Key=key)
    return obj["Body"].read(), obj["ETag"]


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# --- refusals first ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda ca, other: fresh_crl(other, number=9), "crl_issuer_mismatch"),
        (
            lambda ca, other: ca.make_crl(
                [],
                number=9,
                this_update=utcnow() - dt.timedelta(days=2),
                next_update=utcnow() - dt.timedelta(hours=1),
            ),
            "crl_stale",
        ),
        (lambda ca, other: b"garbage", "crl_malformed"),
        (lambda ca, other: fresh_crl(ca, number=1), "crl_rollback"),
    ],
    ids=["unknown-signer", "stale", "garbage", "rollback"],
)
def test_refused_crl_leaves_the_document_untouched_and_raises(
    preprocessor: Lambda,
    s3: S3Client,
    ca: CA,
    other_ca: CA,
    capsys: pytest.CaptureFixture[str],
    make: Any,
    reason: str,
) -> None:
    upload_truststore(s3, ca)
    good = upload_crl(s3, CRL_KEY, fresh_crl(ca, [0x10], number=2))
    preprocessor.handler(event_for((CRL_KEY, good)), Context())
    before = document(s3)
    bad = upload_crl(s3, CRL_KEY, make(ca, other_ca))
    capsys.readouterr()
    with pytest.raises(RecordsRefusedError, match=reason) as info:
        preprocessor.handler(event_for((CRL_KEY, bad)), Context())
    assert info.value.refusals == ((f"{BUCKET}/{CRL_KEY}", reason),)
    assert document(s3) == before  # Same bytes, same ETag: not rewritten.
    (line,) = log_lines(capsys)
    assert line["message"] == "refused"
    assert line["reason"] == reason
    assert line["key"] == CRL_KEY
    assert line["version_id"] == bad
    assert line["Outcome"] == "refused"
    assert line["lambda_request_id"] == Context.aws_request_id


def test_rollback_refusal_names_both_numbers(
    preprocessor: Lambda, s3: S3Client, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    upload_truststore(s3, ca)
    v5 = upload_crl(s3, CRL_KEY, fresh_crl(ca, number=5))
    v4 = upload_crl(s3, CRL_KEY, fresh_crl(ca, number=4))
    preprocessor.handler(event_for((CRL_KEY, v5)), Context())
    capsys.readouterr()
    with pytest.raises(RecordsRefusedError):
        preprocessor.handler(event_for((CRL_KEY, v4)), Context())
    (line,) = log_lines(capsys)
    assert (line["published"], line["offered"]) == ("5", "4")
    assert load_document(document(s3)[0]).info.crl_number == 5


def test_missing_truststore_refuses(
    preprocessor: Lambda, s3: S3Client, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    version = upload_crl(s3, CRL_KEY, fresh_crl(ca))
    with pytest.raises(RecordsRefusedError, match="document_missing"):
        preprocessor.handler(event_for((CRL_KEY, version)), Context())
    assert log_lines(capsys)[0]["detail"].startswith("GetObject s3://")
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=DOC_KEY)["KeyCount"] == 0


def test_malformed_truststore_refuses(preprocessor: Lambda, s3: S3Client, ca: CA) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=b"-----BEGIN CERTIFICATE-----\nxx\n")
    version = upload_crl(s3, CRL_KEY, fresh_crl(ca))
    with pytest.raises(RecordsRefusedError, match="bad_certificate"):
        preprocessor.handler(event_for((CRL_KEY, version)), Context())


def test_document_key_is_refused(preprocessor: Lambda, s3: S3Client, ca: CA) -> None:
    """A trigger without the .crl filter must not make the function process its own output."""
    upload_truststore(s3, ca)
    with pytest.raises(RecordsRefusedError, match="bad_request"):
        preprocessor.handler(event_for((DOC_KEY, None)), Context())  # type: ignore[arg-type]


def test_malformed_event_raises_after_a_log_line(
    preprocessor: Lambda, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(EventError):
        preprocessor.handler({"Records": "nope"}, Context())
    (line,) = log_lines(capsys)
    assert (line["level"], line["error_type"]) == ("ERROR", "EventError")


def test_misconfiguration_raises(
    preprocessor: Lambda, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CRLCHECK_TRUSTSTORE_KEY")
    with pytest.raises(SettingsError, match="CRLCHECK_TRUSTSTORE_KEY"):
        preprocessor.handler(load_event("s3-put.json"), Context())
    assert log_lines(capsys)[0]["error_type"] == "SettingsError"


# --- publishing ----------------------------------------------------------------------------


def test_publishes_the_document_next_to_the_crl(
    preprocessor: Lambda, s3: S3Client, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    upload_truststore(s3, ca)
    version = upload_crl(s3, CRL_KEY, fresh_crl(ca, [1, 2, 3], number=3))
    result = preprocessor.handler(event_for((CRL_KEY, version)), Context())
    assert result["records"][0]["outcome"] == "published"
    body, _ = document(s3)
    revset = load_document(body)
    assert (len(revset), revset.info.crl_number) == (3, 3)
    head = s3.head_object(Bucket=BUCKET, Key=DOC_KEY)
    assert head["ContentType"] == "application/json"
    assert head["Metadata"]["crl-number"] == "3"
    assert head["Metadata"]["crl-version-id"] == version
    (line,) = log_lines(capsys)
    assert line["message"] == "published"
    assert line["document_key"] == DOC_KEY
    assert line["entries"] == 3
    assert line["Outcome"] == "published"
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "Preprocessed", "Unit": "Count"}
    ]


def test_redelivered_event_is_a_no_op(
    preprocessor: Lambda, s3: S3Client, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    upload_truststore(s3, ca)
    version = upload_crl(s3, CRL_KEY, fresh_crl(ca, number=3, pem_output=True))
    event = event_for((CRL_KEY, version))
    preprocessor.handler(event, Context())
    before = document(s3)
    result = preprocessor.handler(event, Context())
    assert result["records"][0]["outcome"] == "unchanged"
    assert document(s3) == before
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=DOC_KEY)["Versions"]
    assert len(versions) == 1  # Nothing was written the second time.
    assert [line["message"] for line in log_lines(capsys)] == ["published", "unchanged"]


def test_newer_crl_replaces_the_document(preprocessor: Lambda, s3: S3Client, ca: CA) -> None:
    upload_truststore(s3, ca)
    v1 = upload_crl(s3, CRL_KEY, fresh_crl(ca, [1], number=1))
    preprocessor.handler(event_for((CRL_KEY, v1)), Context())
    v2 = upload_crl(s3, CRL_KEY, fresh_crl(ca, [1, 2], number=2))
    preprocessor.handler(event_for((CRL_KEY, v2)), Context())
    assert len(load_document(document(s3)[0])) == 2


def test_the_event_version_is_processed_not_the_latest(
    preprocessor: Lambda, s3: S3Client, ca: CA
) -> None:
    upload_truststore(s3, ca)
    v1 = upload_crl(s3, CRL_KEY, fresh_crl(ca, [1], number=1))
    upload_crl(s3, CRL_KEY, fresh_crl(ca, [1, 2], number=2))
    preprocessor.handler(event_for((CRL_KEY, v1)), Context())
    assert load_document(document(s3)[0]).info.crl_number == 1


def test_corrupt_published_document_is_kept_and_the_record_refused(
    preprocessor: Lambda, s3: S3Client, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    upload_truststore(s3, ca)
    s3.put_object(Bucket=BUCKET, Key=DOC_KEY, Body=b"{corrupt")
    version = upload_crl(s3, CRL_KEY, fresh_crl(ca, number=1))
    with pytest.raises(RecordsRefusedError, match="published_document_invalid"):
        preprocessor.handler(event_for((CRL_KEY, version)), Context())
    assert document(s3)[0] == b"{corrupt"
    (line,) = log_lines(capsys)
    assert line["reason"] == "published_document_invalid"
    assert "delete the document first" in line["detail"]


def test_every_record_is_handled_with_url_decoded_keys(
    preprocessor: Lambda, s3: S3Client, ca: CA, other_ca: CA
) -> None:
    upload_truststore(s3, ca, other_ca)  # One bundle, several CAs: the signer is picked by name.
    first = upload_crl(s3, "crls/Example CA.crl", fresh_crl(ca, [1]))
    second = upload_crl(s3, "crls/partner+ca (2025).crl", fresh_crl(other_ca, [1, 2]))
    event = event_for(("crls/Example CA.crl", first), ("crls/partner+ca (2025).crl", second))
    assert [r["s3"]["object"]["key"] for r in event["Records"]] == [
        "crls/Example+CA.crl",
        "crls/partner%2Bca+%282025%29.crl",
    ]
    result = preprocessor.handler(event, Context())
    assert [r["outcome"] for r in result["records"]] == ["published", "published"]
    assert len(load_document(document(s3, "crls/Example CA.cache.json")[0])) == 1
    assert len(load_document(document(s3, "crls/partner+ca (2025).cache.json")[0])) == 2


def test_one_refused_record_does_not_stop_the_others(
    preprocessor: Lambda,
    s3: S3Client,
    ca: CA,
    other_ca: CA,
    capsys: pytest.CaptureFixture[str],
) -> None:
    upload_truststore(s3, ca)  # other_ca is not trusted.
    bad = upload_crl(s3, "crls/other.crl", fresh_crl(other_ca))
    good = upload_crl(s3, CRL_KEY, fresh_crl(ca))
    with pytest.raises(RecordsRefusedError, match="1 of 2"):
        preprocessor.handler(event_for(("crls/other.crl", bad), (CRL_KEY, good)), Context())
    assert load_document(document(s3)[0]).info.crl_number == 1
    assert [line["message"] for line in log_lines(capsys)] == ["refused", "published"]


def test_non_created_records_are_skipped(preprocessor: Lambda, s3: S3Client) -> None:
    event = event_for((CRL_KEY, None))  # type: ignore[arg-type]
    event["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    result = preprocessor.handler(event, Context())
    assert result["records"][0]["outcome"] == "skipped"


def test_output_prefix_and_truststore_bucket(
    preprocessor: Lambda, s3: S3Client, ca: CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRLCHECK_OUTPUT_PREFIX", "documents/")
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_BUCKET", "crlcheck-trust-bucket")
    s3.create_bucket(Bucket="crlcheck-trust-bucket")
    upload_truststore(s3, ca, bucket="crlcheck-trust-bucket")
    version = upload_crl(s3, CRL_KEY, fresh_crl(ca))
    result = preprocessor.handler(event_for((CRL_KEY, version)), Context())
    assert result["records"][0]["document_key"] == "documents/crls/ca.cache.json"
    assert load_document(document(s3, "documents/crls/ca.cache.json")[0]).info.crl_number == 1


def test_clock_skew_setting(
    preprocessor: Lambda, s3: S3Client, ca: CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_truststore(s3, ca)
    future = utcnow() + dt.timedelta(minutes=10)
    crl = ca.make_crl([], this_update=future, next_update=future + dt.timedelta(days=1))
    version = upload_crl(s3, CRL_KEY, crl)
    with pytest.raises(RecordsRefusedError, match="crl_not_yet_valid"):
        preprocessor.handler(event_for((CRL_KEY, version)), Context())
    preprocessor.cold_start()
    monkeypatch.setenv("CRLCHECK_CLOCK_SKEW_SECONDS", "900")
    assert preprocessor.handler(event_for((CRL_KEY, version)), Context())["records"]
