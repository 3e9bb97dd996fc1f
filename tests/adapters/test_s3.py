"""crlcheck.s3 against moto in-process (``mock_aws``), with faults injected by botocore hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from crlcheck import Reason, StorageError, decide
from crlcheck.aws.s3 import (
    AUTHORIZER_CONFIG,
    PREPROCESSOR_CONFIG,
    S3DocumentSource,
    read_document,
    read_object,
    write_document,
)
from crlcheck.cache import NOT_MODIFIED, Fetched, RevocationCache
from crlcheck.errors import DocumentNotFoundError, DocumentTooLargeError
from tests.pki import CA, NOW
from tests.serverless import BUCKET, Faults, GetObjectCounter, make_document

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KEY = "crls/ca.cache.json"


# --- negative cases first ------------------------------------------------------------------


def test_missing_key_is_not_found(s3: S3Client) -> None:
    with pytest.raises(DocumentNotFoundError, match="NoSuchKey") as info:
        S3DocumentSource(s3, BUCKET).fetch(KEY, None)
    assert info.value.key == KEY
    assert not info.value.retryable
    assert info.value.reason == "document_missing"


def test_access_denied_is_not_found(s3: S3Client) -> None:
    """Without s3:ListBucket a missing key answers 403: treated like a missing document."""
    faults = Faults(s3)
    faults.access_denied()
    with pytest.raises(DocumentNotFoundError, match="AccessDenied"):
        S3DocumentSource(s3, BUCKET).fetch(KEY, None)
    assert faults.attempts == 1  # Not retried.


def test_missing_bucket_is_a_storage_error(s3: S3Client) -> None:
    with pytest.raises(StorageError, match="NoSuchBucket") as info:
        S3DocumentSource(s3, "crlcheck-no-such-bucket").fetch(KEY, None)
    assert not isinstance(info.value, DocumentNotFoundError)
    assert not info.value.retryable


@pytest.mark.parametrize(
    ("inject", "match"),
    [
        (Faults.throttle, "SlowDown"),
        (Faults.server_error, "InternalError"),
        (Faults.timeout, "ReadTimeoutError"),
    ],
    ids=["throttled", "5xx", "read-timeout"],
)
def test_transient_faults_are_retried_once_then_retryable(
    s3: S3Client, inject: object, match: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"{}")
    faults = Faults(s3)
    inject(faults)  # type: ignore[operator]
    with pytest.raises(StorageError, match=match) as info:
        S3DocumentSource(s3, BUCKET).fetch(KEY, None)
    assert info.value.retryable
    assert faults.attempts == 2  # AUTHORIZER_CONFIG: total_max_attempts=2.
    assert info.value.__cause__ is not None


@pytest.mark.parametrize(
    "exc",
    [
        ConnectTimeoutError(endpoint_url="https://s3.amazonaws.com/"),
        EndpointConnectionError(endpoint_url="https://s3.amazonaws.com/"),
    ],
    ids=["connect-timeout", "no-connection"],
)
def test_connection_faults_are_retryable(s3: S3Client, exc: Exception) -> None:
    faults = Faults(s3)
    faults.fault = exc
    with pytest.raises(StorageError) as info:
        S3DocumentSource(s3, BUCKET).fetch(KEY, "etag")
    assert info.value.retryable
    assert isinstance(info.value.__cause__, type(exc))


def test_client_configs_are_bounded() -> None:
    authorizer: Any = AUTHORIZER_CONFIG
    preprocessor: Any = PREPROCESSOR_CONFIG
    assert authorizer.connect_timeout == 1.0
    assert authorizer.read_timeout == 2.0
    assert authorizer.retries == {"mode": "standard", "total_max_attempts": 2}
    assert preprocessor.retries["total_max_attempts"] > 2


def test_oversized_document_is_refused_unread(s3: S3Client, ca: CA) -> None:
    body = make_document(ca, ca.make_crl([]), now=NOW)
    etag = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)["ETag"]
    with pytest.raises(DocumentTooLargeError, match="too large") as info:
        S3DocumentSource(s3, BUCKET, max_bytes=len(body) - 1).fetch(KEY, None)
    assert (info.value.etag, info.value.size, info.value.key) == (etag, len(body), KEY)
    assert info.value.reason == "document_too_large"
    assert S3DocumentSource(s3, BUCKET, max_bytes=len(body)).fetch(KEY, None) == Fetched(body, etag)


def test_cache_keeps_the_last_good_set_over_an_oversized_document(s3: S3Client, ca: CA) -> None:
    small = make_document(ca, ca.make_crl([]), now=NOW)
    big = make_document(ca, ca.make_crl(range(1, 200), number=2), now=NOW)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=small)
    counter = GetObjectCounter(s3)
    cache = RevocationCache(S3DocumentSource(s3, BUCKET, max_bytes=len(small)), [KEY])
    cache.refresh(0.0)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=big)
    report = cache.refresh(1.0)
    assert report.failures[0].reason == "document_too_large"
    assert report.failures[0].kept
    assert cache.sets()[0].info.crl_number == 1
    # The same oversized object is not requested in full again: 304 on its ETag.
    cache.refresh(2.0)
    assert counter.not_modified == 1
    assert cache.refresh(3.0).failures[0].reason == "document_too_large"


# --- conditional reads ---------------------------------------------------------------------


def test_conditional_get(s3: S3Client) -> None:
    source = S3DocumentSource(s3, BUCKET)
    counter = GetObjectCounter(s3)
    put = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"one")
    fetched = source.fetch(KEY, None)
    assert fetched == Fetched(b"one", put["ETag"])
    assert fetched.etag.startswith('"')
    # boto3 reports the 304 as ClientError code '304': it becomes NOT_MODIFIED.
    assert source.fetch(KEY, put["ETag"]) is NOT_MODIFIED
    assert (counter.downloads, counter.not_modified) == (1, 1)
    put2 = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"two")
    assert source.fetch(KEY, put["ETag"]) == Fetched(b"two", put2["ETag"])
    assert counter.downloads == 2


def test_cache_over_s3_downloads_only_changes(s3: S3Client, ca: CA) -> None:
    cert = ca.issue_cert("s3 client", serial=0x3001).pem
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=make_document(ca, ca.make_crl([]), now=NOW))
    counter = GetObjectCounter(s3)
    cache = RevocationCache(S3DocumentSource(s3, BUCKET), [KEY])
    for t in range(5):
        cache.refresh(float(t))
    assert (counter.downloads, counter.not_modified) == (1, 4)
    assert decide(cert, cache.sets(), now=NOW).allowed
    s3.put_object(
        Bucket=BUCKET, Key=KEY, Body=make_document(ca, ca.make_crl([0x3001], number=2), now=NOW)
    )
    assert cache.refresh(5.0).reloaded == (KEY,)
    assert counter.downloads == 2
    assert decide(cert, cache.sets(), now=NOW).reason is Reason.REVOKED


# --- preprocessor helpers ------------------------------------------------------------------


def test_read_object_by_version(s3: S3Client) -> None:
    v1 = s3.put_object(Bucket=BUCKET, Key="crls/ca.crl", Body=b"v1")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="crls/ca.crl", Body=b"v2")
    assert read_object(s3, BUCKET, "crls/ca.crl").body == b"v2"
    old = read_object(s3, BUCKET, "crls/ca.crl", version_id=v1)
    assert (old.body, old.version_id) == (b"v1", v1)


def test_read_object_missing(s3: S3Client) -> None:
    with pytest.raises(DocumentNotFoundError):
        read_object(s3, BUCKET, "crls/missing.crl")


def test_read_document_missing_is_none(s3: S3Client) -> None:
    assert read_document(s3, BUCKET, KEY) is None
    faults = Faults(s3)
    faults.access_denied()
    assert read_document(s3, BUCKET, KEY) is None


def test_read_document_fault_raises(s3: S3Client) -> None:
    faults = Faults(s3)
    faults.throttle()
    with pytest.raises(StorageError) as info:
        read_document(s3, BUCKET, KEY)
    assert info.value.retryable


def test_write_document_is_conditional(s3: S3Client) -> None:
    etag1 = write_document(s3, BUCKET, KEY, b"one", replaces=None, metadata={"crl-number": "1"})
    head = s3.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ETag"] == etag1
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"crl-number": "1"}
    # Creating again fails: someone published meanwhile (412, retryable).
    with pytest.raises(StorageError, match="PreconditionFailed") as info:
        write_document(s3, BUCKET, KEY, b"other", replaces=None)
    assert info.value.retryable
    etag2 = write_document(s3, BUCKET, KEY, b"two", replaces=etag1)
    # Replacing a version that is no longer current fails too.
    with pytest.raises(StorageError, match="PreconditionFailed"):
        write_document(s3, BUCKET, KEY, b"three", replaces=etag1)
    current = read_object(s3, BUCKET, KEY)
    assert (current.body, current.etag) == (b"two", etag2)


def test_write_document_to_a_deleted_key_is_a_lost_race(s3: S3Client) -> None:
    etag = write_document(s3, BUCKET, KEY, b"one", replaces=None)
    s3.delete_object(Bucket=BUCKET, Key=KEY)
    with pytest.raises(StorageError) as info:
        write_document(s3, BUCKET, KEY, b"two", replaces=etag)
    assert info.value.retryable


def test_write_document_failures(s3: S3Client) -> None:
    with pytest.raises(StorageError, match="NoSuchBucket") as info:
        write_document(s3, "crlcheck-no-such-bucket", KEY, b"x", replaces=None)
    assert not info.value.retryable


def test_write_document_with_an_old_botocore(s3: S3Client) -> None:
    """A botocore without IfMatch refuses the parameter: a clear, non-retryable error."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        raise ParamValidationError(report='Unknown parameter in input: "IfMatch"')

    s3.meta.events.register("provide-client-params.s3.PutObject", refuse)
    with pytest.raises(StorageError, match=r"botocore >= 1\.35\.69") as info:
        write_document(s3, BUCKET, KEY, b"x", replaces='"etag"')
    assert not info.value.retryable


def test_write_document_timeout_is_retryable(s3: S3Client) -> None:
    s3.meta.events.register(
        "before-send.s3.PutObject",
        lambda **_: (_ for _ in ()).throw(ReadTimeoutError(endpoint_url="https://s3/")),
    )
    with pytest.raises(StorageError, match="ReadTimeoutError") as info:
        write_document(s3, BUCKET, KEY, b"x", replaces=None)
    assert info.value.retryable
