"""Concurrent deliveries of two CRLs of one issuer to the preprocessor Lambda.

Both invocations read the published document before either writes (a barrier forces the
worst interleaving), then write in a chosen order. The conditional PUT makes the second write
fail (412) instead of silently replacing the first; the failed invocation raises, Lambda
retries it, and the retry compares CRL numbers with what is now published. Whatever the order,
the newer CRL ends up published, and the authorizer never sees the older one win.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

import crlcheck.aws.authorizer
import crlcheck.aws.preprocessor
import crlcheck.service
from crlcheck import load_document
from crlcheck.errors import RecordsRefusedError
from tests.pki import CA
from tests.serverless import (
    BUCKET,
    Lambda,
    fresh_crl,
    preprocessor_lambda,
    reset_moto,
    s3_event,
    set_fake_aws_env,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.e2e

TRUSTSTORE = "truststore/truststore.pem"
CRL_KEY = "crls/ca.crl"
DOC_KEY = "crls/ca.cache.json"


@pytest.fixture
def moto_url(moto_port: int) -> str:
    return f"http://127.0.0.1:{moto_port}"


@pytest.fixture
def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ca: CA) -> S3Client:
    reset_moto(moto_url)
    set_fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca.pem)
    return client


@pytest.fixture
def preprocessor(s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> Lambda:
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_KEY", TRUSTSTORE)
    for name in ("CRLCHECK_TRUSTSTORE_BUCKET", "CRLCHECK_OUTPUT_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    return preprocessor_lambda()


def published_number(s3: S3Client) -> int | None:
    body = s3.get_object(Bucket=BUCKET, Key=DOC_KEY)["Body"].read()
    return load_document(body).info.crl_number


def upload(s3: S3Client, crl: bytes) -> dict[str, Any]:
    version = s3.put_object(Bucket=BUCKET, Key=CRL_KEY, Body=crl)["VersionId"]
    return s3_event((BUCKET, CRL_KEY, version))


@pytest.mark.parametrize("already_published", [False, True], ids=["first-publication", "update"])
@pytest.mark.parametrize("first_writer", [1, 2], ids=["older-writes-first", "newer-writes-first"])
def test_concurrent_deliveries_end_with_the_newer_crl(
    s3: S3Client,
    preprocessor: Lambda,
    monkeypatch: pytest.MonkeyPatch,
    ca: CA,
    already_published: bool,
    first_writer: int,
) -> None:
    if already_published:
        preprocessor.handler(upload(s3, fresh_crl(ca, [], number=0)), None)
        preprocessor.cold_start()
    events = {n: upload(s3, fresh_crl(ca, list(range(1, 1 + n)), number=n)) for n in (1, 2)}

    # Both read what is published, then wait for each other: the worst interleaving.
    both_read = threading.Barrier(2, timeout=30)
    first_written = threading.Event()
    current = threading.local()
    real_read, real_write = (
        crlcheck.aws.preprocessor.read_document,
        crlcheck.aws.preprocessor.write_document,
    )

    def read_document(*args: Any, **kwargs: Any) -> Any:
        found = real_read(*args, **kwargs)
        both_read.wait()
        return found

    def write_document(*args: Any, **kwargs: Any) -> Any:
        if current.number != first_writer:
            assert first_written.wait(timeout=30)
        try:
            return real_write(*args, **kwargs)
        finally:
            first_written.set()

    monkeypatch.setattr(crlcheck.aws.preprocessor, "read_document", read_document)
    monkeypatch.setattr(crlcheck.aws.preprocessor, "write_document", write_document)
    outcomes: dict[int, BaseException | None] = {}

    def invoke(number: int) -> Callable[[], None]:
        def run() -> None:
            current.number = number
            try:
                preprocessor.handler(events[number], None)
                outcomes[number] = None
            except BaseException as exc:  # Recorded; asserted below.
                outcomes[number] = exc

        return run

    threads = [threading.Thread(target=invoke(n)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    loser = 2 if first_writer == 1 else 1
    assert outcomes[first_writer] is None
    lost = outcomes[loser]
    assert isinstance(lost, RecordsRefusedError)
    # The loser's conditional PUT failed (412 PreconditionFailed): a retryable store error.
    assert lost.refusals == ((f"{BUCKET}/{CRL_KEY}", "store_unavailable"),)
    assert published_number(s3) == first_writer  # The loser overwrote nothing.

    # Lambda retries the failed invocation (no barrier now): it re-reads what is published.
    monkeypatch.setattr(crlcheck.aws.preprocessor, "read_document", real_read)
    monkeypatch.setattr(crlcheck.aws.preprocessor, "write_document", real_write)
    if loser == 2:
        preprocessor.handler(events[2], None)  # Newer than what won: published.
    else:
        with pytest.raises(RecordsRefusedError, match="crl_rollback"):
            preprocessor.handler(events[1], None)  # Older than what won: refused.
    assert published_number(s3) == 2
