"""Issue 9's scenarios: genuinely signed CRLs uploaded to the wrong key never replace a document.

Each scenario publishes CA A's current CRL (revoking V), then uploads a CRL that a trusted
signer really signed, at A's key. The published document must stay byte for byte, the record
must be refused with its own reason, and the authorizer must still deny V.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from crlcheck.errors import RecordsRefusedError
from tests.pki import CA, Leaf
from tests.serverless import BUCKET, Lambda, fresh_crl, load_event, s3_event

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TRUSTSTORE = "truststore/truststore.pem"
MISMATCH = "document_identity_mismatch"
CRL_KEY = "crls/ca.crl"
DOC_KEY = "crls/ca.cache.json"  # What the authorizer fixture loads.


class Context:
    aws_request_id = "c0ffee00-0000-4000-8000-00000000beef"


def upload(s3: S3Client, crl: bytes) -> dict[str, Any]:
    version = s3.put_object(Bucket=BUCKET, Key=CRL_KEY, Body=crl)["VersionId"]
    return s3_event((BUCKET, CRL_KEY, version))


def published(s3: S3Client) -> bytes:
    body: bytes = s3.get_object(Bucket=BUCKET, Key=DOC_KEY)["Body"].read()
    return body


def effect(authorizer: Lambda, leaf: Leaf) -> str:
    response = authorizer.handler(load_event("rest-request-mtls.json", leaf.pem), Context())
    value: str = response["policyDocument"]["Statement"][0]["Effect"]
    return value


@pytest.fixture
def ca_a(ca: CA) -> CA:
    return ca  # The authorizer fixture's CA name; its document is DOC_KEY.


@pytest.fixture
def victim(ca_a: CA) -> Leaf:
    return ca_a.issue_cert("revoked in A's CRL #2", serial=0x7777)


@pytest.fixture
def a_published(s3: S3Client, preprocessor: Lambda, ca_a: CA, victim: Leaf) -> bytes:
    """A's CRL #2 (revokes the victim) published; returns the document's bytes."""
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca_a.pem)
    preprocessor.handler(upload(s3, fresh_crl(ca_a, [victim.serial], number=2)), Context())
    return published(s3)


def refuse(preprocessor: Lambda, event: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordsRefusedError, match=reason) as caught:
        preprocessor.handler(event, Context())
    assert caught.value.refusals == ((f"{BUCKET}/{CRL_KEY}", reason),)


def test_issuer_swap_then_rollback_is_refused_twice(
    s3: S3Client,
    preprocessor: Lambda,
    authorizer: Lambda,
    ca_a: CA,
    other_ca: CA,
    victim: Leaf,
    a_published: bytes,
) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca_a.pem + other_ca.pem)
    assert effect(authorizer, victim) == "Deny"
    # 1. CA B's CRL at A's key: another issuer, refused.
    refuse(
        preprocessor, upload(s3, fresh_crl(other_ca, [], number=9)), "document_identity_mismatch"
    )
    assert published(s3) == a_published
    # 2. A's older CRL #1 (does not revoke the victim): a rollback against A's document.
    refuse(preprocessor, upload(s3, fresh_crl(ca_a, [], number=1)), "crl_rollback")
    assert published(s3) == a_published
    assert effect(authorizer, victim) == "Deny"
    authorizer.cold_start()
    assert effect(authorizer, victim) == "Deny"


def test_a_rekeyed_ca_cannot_replace_the_other_keys_document(
    s3: S3Client,
    preprocessor: Lambda,
    authorizer: Lambda,
    ca_a: CA,
    victim: Leaf,
    a_published: bytes,
) -> None:
    rekeyed = CA(ca_a.cn)  # Same name, new key: both keys' CRLs are genuine.
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca_a.pem + rekeyed.pem)
    refuse(
        preprocessor, upload(s3, fresh_crl(rekeyed, [], number=50)), "document_identity_mismatch"
    )
    assert published(s3) == a_published
    authorizer.cold_start()
    assert effect(authorizer, victim) == "Deny"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{corrupt", "published_document_invalid"),
        (
            b'{"format":"crlcheck.revocation-set","version":7}',
            "published_document_unsupported_version",
        ),
    ],
)
def test_an_unreadable_document_is_not_replaced_by_any_crl(
    s3: S3Client, preprocessor: Lambda, ca_a: CA, body: bytes, reason: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca_a.pem)
    s3.put_object(Bucket=BUCKET, Key=DOC_KEY, Body=body)
    refuse(preprocessor, upload(s3, fresh_crl(ca_a, [], number=1)), reason)
    assert published(s3) == body


def test_deleting_the_document_is_the_way_out(
    s3: S3Client, preprocessor: Lambda, authorizer: Lambda, ca_a: CA, a_published: bytes
) -> None:
    rekeyed = CA(ca_a.cn)
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=ca_a.pem + rekeyed.pem)
    s3.delete_object(Bucket=BUCKET, Key=DOC_KEY)
    preprocessor.handler(upload(s3, fresh_crl(rekeyed, [], number=1)), Context())
    assert published(s3) != a_published
