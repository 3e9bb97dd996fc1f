"""Issue 10: many documents under one prefix through a catalog (moto, in-process).

120 partitions of one CA (AWS Private CA style: each partition is its own CRL with a critical
issuingDistributionPoint that certificates name in their cRLDistributionPoints), published by
the preprocessor Lambda, decided by the authorizer Lambda with CRLCHECK_DOCUMENT_PREFIX.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import TYPE_CHECKING, Any

import pytest
from cryptography import x509

from crlcheck.catalog import catalog_key, load_catalog
from tests.pki import CA, Leaf, idp
from tests.serverless import (
    BUCKET,
    ClientSpy,
    Lambda,
    authorizer_lambda,
    load_event,
    preprocessor_lambda,
    s3_event,
    utcnow,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "crl/"
TRUSTSTORE = "truststore/truststore.pem"
PARTITIONS = 120
SHARED_SERIAL = 0x4242  # Revoked in partition 7 only.


def url(n: int) -> str:
    return f"http://crl.example.com/crl/partition-{n}.crl"


def partition_crl(ca: CA, n: int, revoked: list[int], *, number: int = 1) -> bytes:
    now = utcnow()
    point = idp(full_name=[x509.UniformResourceIdentifier(url(n))], only_contains_user_certs=True)
    return ca.make_crl(
        revoked,
        number=number,
        this_update=now - dt.timedelta(hours=1),
        next_update=now + dt.timedelta(days=1),
        extensions=[(point, True)],
    )


def crl_key(n: int) -> str:
    return f"{PREFIX}ca/partition-{n}.crl"


def doc_key(n: int) -> str:
    return f"{PREFIX}ca/partition-{n}.cache.json"


def publish(s3: S3Client, preprocessor: Lambda, crls: dict[int, bytes]) -> dict[str, Any]:
    records = []
    for n, crl in crls.items():
        version = s3.put_object(Bucket=BUCKET, Key=crl_key(n), Body=crl)["VersionId"]
        records.append((BUCKET, crl_key(n), version))
    result: dict[str, Any] = preprocessor.handler(s3_event(*records), None)
    return result


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_PREFIX", PREFIX)
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_KEY", TRUSTSTORE)
    for name in (
        "CRLCHECK_DOCUMENT_KEYS",
        "CRLCHECK_REVALIDATE_SECONDS",
        "CRLCHECK_STALE_GRACE_SECONDS",
        "CRLCHECK_CHAIN_KEY",
        "CRLCHECK_TRUSTSTORE_BUCKET",
        "CRLCHECK_OUTPUT_PREFIX",
        "CRLCHECK_CACHE_MAX_MB",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def partitioned(s3: S3Client, ca: CA, environment: None) -> Lambda:
    """120 partitions published; partition 7 revokes SHARED_SERIAL. Returns the preprocessor."""
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca.pem)
    preprocessor = preprocessor_lambda()
    crls = {
        n: partition_crl(ca, n, [SHARED_SERIAL] if n == 7 else [1000 + n])
        for n in range(PARTITIONS)
    }
    publish(s3, preprocessor, crls)
    return preprocessor


def leaf(ca: CA, n: int | None, serial: int) -> Leaf:
    points = [url(n)] if n is not None else []
    return ca.issue_cert(f"client-{n}-{serial}", serial=serial, crl_distribution_points=points)


def authorize(authorizer: Lambda, cert: Leaf) -> tuple[str, str]:
    response = authorizer.handler(load_event("rest-request-mtls.json", cert.pem), None)
    effect: str = response["policyDocument"]["Statement"][0]["Effect"]
    return effect, response["context"]["reason"]


def calls(spy: ClientSpy) -> int:
    assert spy.counter is not None
    return sum(spy.counter.statuses.values())


def test_the_catalog_lists_every_partition(s3: S3Client, partitioned: Lambda) -> None:
    body = s3.get_object(Bucket=BUCKET, Key=catalog_key(PREFIX))["Body"].read()
    catalog = load_catalog(body)
    assert sorted(catalog.entries) == sorted(doc_key(n) for n in range(PARTITIONS))
    assert catalog.entries[doc_key(3)].distribution_points == (f"URI:{url(3)}",)


def test_cold_and_warm_requests_touch_a_bounded_number_of_objects(
    s3: S3Client, ca: CA, partitioned: Lambda, spy: ClientSpy
) -> None:
    authorizer = authorizer_lambda(spy)
    assert authorize(authorizer, leaf(ca, 5, 0x9001)) == ("Allow", "not_revoked")
    assert spy.counter is not None
    assert calls(spy) <= 3  # The catalog and partition 5's document.
    assert spy.counter.downloads == 2
    before = calls(spy)
    assert authorize(authorizer, leaf(ca, 5, 0x9002)) == ("Allow", "not_revoked")
    assert calls(spy) - before <= 2  # One conditional read of the catalog (304).
    assert spy.counter.downloads == 2
    before = calls(spy)
    assert authorize(authorizer, leaf(ca, 99, 0x9003)) == ("Allow", "not_revoked")
    assert calls(spy) - before <= 2  # The catalog (304) and partition 99, first use.


def test_each_certificate_is_decided_by_its_own_partition(
    ca: CA, partitioned: Lambda, spy: ClientSpy
) -> None:
    authorizer = authorizer_lambda(spy)
    assert authorize(authorizer, leaf(ca, 7, SHARED_SERIAL)) == ("Deny", "revoked")
    assert authorize(authorizer, leaf(ca, 8, SHARED_SERIAL)) == ("Allow", "not_revoked")
    assert authorize(authorizer, leaf(ca, 8, 1008)) == ("Deny", "revoked")


def test_an_unpublished_partition_and_a_certificate_without_crldp_are_denied(
    ca: CA, partitioned: Lambda, spy: ClientSpy
) -> None:
    authorizer = authorizer_lambda(spy)
    assert authorize(authorizer, leaf(ca, 500, 0x9100))[0] == "Deny"
    assert authorize(authorizer, leaf(ca, None, 0x9101)) == ("Deny", "no_covering_crl")
    assert authorize(authorizer, leaf(CA("crlcheck Unknown CA"), 1, 0x9102))[0] == "Deny"


def test_a_partition_published_while_warm_is_used_by_a_later_request(
    s3: S3Client, ca: CA, partitioned: Lambda, spy: ClientSpy
) -> None:
    authorizer = authorizer_lambda(spy)
    new = leaf(ca, 500, 0x9200)
    assert authorize(authorizer, new)[0] == "Deny"
    publish(s3, partitioned, {500: partition_crl(ca, 500, [])})
    assert authorize(authorizer, new) == ("Allow", "not_revoked")
    # A new CRL of a partition in use replaces its set: a later revocation is seen.
    assert authorize(authorizer, leaf(ca, 5, 0x9300)) == ("Allow", "not_revoked")
    publish(s3, partitioned, {5: partition_crl(ca, 5, [1005, 0x9300], number=2)})
    assert authorize(authorizer, leaf(ca, 5, 0x9300)) == ("Deny", "revoked")


def test_the_decision_log_line_stays_bounded(
    ca: CA, partitioned: Lambda, spy: ClientSpy, capsys: pytest.CaptureFixture[str]
) -> None:
    authorizer = authorizer_lambda(spy)
    capsys.readouterr()
    authorize(authorizer, leaf(ca, 5, 0x9400))
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["documents"]["reloaded"] == [catalog_key(PREFIX), doc_key(5)]
    assert len(json.dumps(line)) < 4000


def test_without_a_catalog_a_cold_start_denies_and_a_warm_one_keeps_serving(
    s3: S3Client, ca: CA, partitioned: Lambda, spy: ClientSpy
) -> None:
    warm = authorizer_lambda(spy)
    assert authorize(warm, leaf(ca, 5, 0x9500))[0] == "Allow"
    for version in s3.list_object_versions(Bucket=BUCKET, Prefix=catalog_key(PREFIX))["Versions"]:
        s3.delete_object(Bucket=BUCKET, Key=catalog_key(PREFIX), VersionId=version["VersionId"])
    assert authorize(warm, leaf(ca, 5, 0x9501))[0] == "Allow"
    warm.cold_start()
    assert authorize(warm, leaf(ca, 5, 0x9502)) == ("Deny", "store_unavailable")


def preprocess_concurrently(versions: dict[int, str]) -> list[BaseException]:
    """Run one preprocessor invocation per uploaded partition CRL, all at once; their errors."""
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            preprocessor_lambda().handler(s3_event((BUCKET, crl_key(n), versions[n])), None)
        except BaseException as exc:  # Returned to the test.
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture
def atomic_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """S3's conditional PutObject is atomic; moto's in-process one is not under threads (two
    writers with the same IfMatch can both succeed). Serialise the writes as S3 does, and
    record which keys were written."""
    import crlcheck.aws.preprocessor as module

    lock = threading.Lock()
    real = module.write_document
    written: list[str] = []

    def write_document(*args: Any, **kwargs: Any) -> str:
        with lock:
            written.append(args[2])
            return real(*args, **kwargs)

    monkeypatch.setattr(module, "write_document", write_document)
    return written


@pytest.mark.usefixtures("atomic_writes")
def test_concurrent_preprocessors_lose_no_catalog_entry(
    s3: S3Client, ca: CA, environment: None
) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca.pem)
    crls = {n: partition_crl(ca, n, []) for n in range(12)}
    versions = {
        n: s3.put_object(Bucket=BUCKET, Key=crl_key(n), Body=crl)["VersionId"]
        for n, crl in crls.items()
    }
    assert preprocess_concurrently(versions) == []
    body = s3.get_object(Bucket=BUCKET, Key=catalog_key(PREFIX))["Body"].read()
    assert sorted(load_catalog(body).entries) == sorted(doc_key(n) for n in crls)


def test_a_lost_catalog_race_is_retried_from_a_fresh_read(
    s3: S3Client,
    ca: CA,
    environment: None,
    atomic_writes: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two runs read the same catalog, then both write it: the second write fails (412) and
    its run reads again and lands its entry."""
    import crlcheck.aws.preprocessor as module

    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca.pem)
    versions = {
        n: s3.put_object(Bucket=BUCKET, Key=crl_key(n), Body=partition_crl(ca, n, []))["VersionId"]
        for n in (1, 2)
    }
    both_read = threading.Barrier(2, timeout=30)
    real_read = module.read_document
    first_reads: set[int] = set()

    def read_document(client: Any, bucket: str, key: str) -> Any:
        found = real_read(client, bucket, key)
        if key == catalog_key(PREFIX) and threading.get_ident() not in first_reads:
            first_reads.add(threading.get_ident())
            both_read.wait()  # Both runs hold the same (absent) catalog.
        return found

    monkeypatch.setattr(module, "read_document", read_document)
    assert preprocess_concurrently(versions) == []
    assert atomic_writes.count(catalog_key(PREFIX)) == 3  # One write lost, and was retried.
    body = s3.get_object(Bucket=BUCKET, Key=catalog_key(PREFIX))["Body"].read()
    assert sorted(load_catalog(body).entries) == [doc_key(1), doc_key(2)]
