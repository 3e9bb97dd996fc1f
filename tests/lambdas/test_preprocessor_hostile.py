"""The preprocessor handler (in-process, against moto) on genuinely signed CRLs refused by their
values (issue 9, items 4-6): each is one refused record with its own log line, reason and
metric; the published document stays byte for byte; a valid CRL in a later record of the same
event is still published; the invocation then fails. ``CRLCHECK_ALLOW_SHA1=true`` publishes a
SHA-1 CRL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from cryptography import x509

from crlcheck import load_document
from crlcheck.crl import MAX_CRL_NUMBER
from crlcheck.errors import RecordsRefusedError
from tests.hardening import resigned
from tests.lambdas.test_preprocessor import (
    CRL_KEY,
    TRUSTSTORE,
    Context,
    document,
    event_for,
    log_lines,
    upload_crl,
)
from tests.pki import CA, pem
from tests.serverless import BUCKET, Lambda, fresh_crl, utcnow

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

HOSTILE_KEY = "crls/hostile.crl"
VALID_KEY = "crls/valid.crl"


def window() -> dict[str, Any]:
    now = utcnow()
    return {
        "this_update": now - dt.timedelta(hours=1),
        "next_update": now + dt.timedelta(days=1),
    }


def _expired_signer(ca: CA, rsa_ca: CA) -> tuple[bytes, list[x509.Certificate]]:
    now = utcnow()
    signer = resigned.signer_valid(
        ca, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), now - dt.timedelta(days=2)
    )
    return ca.make_crl([5], signer=signer, number=7, **window()), [signer.cert]


Make = Callable[[CA, CA], tuple[bytes, list[x509.Certificate]]]

# (name, maker, reason, a structured log field and its value)
CASES: list[tuple[str, Make, str, tuple[str, object]]] = [
    (
        "this-update-year-0",
        lambda ca, rsa_ca: (resigned.year_zero_this_update(ca), []),
        "crl_field_out_of_range",
        ("field", "thisUpdate"),
    ),
    (
        "revocation-date-year-0",
        lambda ca, rsa_ca: (resigned.year_zero_revocation_date(ca, number=7, **window()), []),
        "crl_field_out_of_range",
        ("field", "revocationDate"),
    ),
    (
        "crl-number-beyond-int-to-str",
        lambda ca, rsa_ca: (resigned.crl_number(ca, 10**5000, **window()), []),
        "crl_field_out_of_range",
        ("field", "cRLNumber"),
    ),
    (
        "crl-number-21-octets",
        lambda ca, rsa_ca: (resigned.crl_number(ca, MAX_CRL_NUMBER + 1, **window()), []),
        "crl_field_out_of_range",
        ("field", "cRLNumber"),
    ),
    (
        "sha1-rsa",
        lambda ca, rsa_ca: (resigned.sha1_rsa_crl(rsa_ca, number=7, **window()), []),
        "crl_weak_signature",
        ("algorithm", "sha1WithRSAEncryption"),
    ),
    ("signer-expired", _expired_signer, "crl_signer_expired", ("signer", None)),
]


@pytest.fixture(scope="module")
def rsa_ca() -> CA:
    return CA("crlcheck Lambda RSA CA", kind="rsa")


def upload_truststore(s3: S3Client, certs: list[x509.Certificate]) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=b"".join(pem(c) for c in certs))


@pytest.mark.parametrize(
    ("name", "make", "reason", "logged"), CASES, ids=[case[0] for case in CASES]
)
def test_hostile_record_is_refused_and_the_valid_record_is_still_published(
    name: str,
    make: Make,
    reason: str,
    logged: tuple[str, object],
    preprocessor: Lambda,
    s3: S3Client,
    ca: CA,
    rsa_ca: CA,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile, extra_signers = make(ca, rsa_ca)
    upload_truststore(s3, [ca.cert, rsa_ca.cert, *extra_signers])
    # A document is already published where the hostile CRL lands.
    first = upload_crl(s3, CRL_KEY, fresh_crl(ca, [0x10], number=2))
    preprocessor.handler(event_for((CRL_KEY, first)), Context())
    before = document(s3)
    bad = upload_crl(s3, CRL_KEY, hostile)
    good = upload_crl(s3, VALID_KEY, fresh_crl(ca, [0x20, 0x21], number=3))
    capsys.readouterr()

    with pytest.raises(RecordsRefusedError, match="1 of 2") as info:
        preprocessor.handler(event_for((CRL_KEY, bad), (VALID_KEY, good)), Context())

    assert info.value.refusals == ((f"{BUCKET}/{CRL_KEY}", reason),)
    assert document(s3) == before  # Same bytes, same ETag: not rewritten.
    assert load_document(document(s3, "crls/valid.cache.json")[0]).serials() == [0x20, 0x21]
    refused, published = log_lines(capsys)
    assert (refused["message"], published["message"]) == ("refused", "published")
    assert refused["reason"] == reason
    assert refused["version_id"] == bad
    assert refused["Outcome"] == "refused"
    key, value = logged
    assert refused[key] == (value if value is not None else ca.name.rfc4514_string())
    assert len(refused["detail"]) < 400  # Never the megabytes of a huge number.


def test_expired_signer_log_line_carries_its_dates(
    preprocessor: Lambda,
    s3: S3Client,
    ca: CA,
    rsa_ca: CA,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile, signers = _expired_signer(ca, rsa_ca)
    upload_truststore(s3, signers)
    version = upload_crl(s3, HOSTILE_KEY, hostile)
    with pytest.raises(RecordsRefusedError, match="crl_signer_expired"):
        preprocessor.handler(event_for((HOSTILE_KEY, version)), Context())
    (line,) = log_lines(capsys)
    assert line["not_before"] == "2024-01-01T00:00:00Z"
    assert line["not_after"] == signers[0].not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="crls/hostile.cache.json")


def test_allow_sha1_setting_publishes_a_sha1_crl(
    preprocessor: Lambda,
    s3: S3Client,
    rsa_ca: CA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upload_truststore(s3, [rsa_ca.cert])
    version = upload_crl(s3, "crls/legacy.crl", resigned.sha1_rsa_crl(rsa_ca, **window()))
    with pytest.raises(RecordsRefusedError, match="crl_weak_signature"):
        preprocessor.handler(event_for(("crls/legacy.crl", version)), Context())
    preprocessor.cold_start()
    monkeypatch.setenv("CRLCHECK_ALLOW_SHA1", "true")
    result = preprocessor.handler(event_for(("crls/legacy.crl", version)), Context())
    assert result["records"][0]["outcome"] == "published"
    doc = load_document(document(s3, "crls/legacy.cache.json")[0])
    assert doc.info.signature_algorithm == "sha1WithRSAEncryption"
