"""The same PKITS cases through the Lambda functions (moto): the preprocessor publishes complete
and delta documents, the authorizer combines them and checks intermediates from a bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from crlcheck.errors import RecordsRefusedError
from tests.pkits.conftest import CASES, CERTS, CRLS, Case
from tests.serverless import (
    BUCKET,
    Lambda,
    authorizer_lambda,
    load_event,
    preprocessor_lambda,
    s3_event,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TRUSTSTORE = "truststore/pkits.pem"


def pem(name: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_der_x509_certificate((CERTS / f"{name}.crt").read_bytes())
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def published(s3: S3Client, signers_pem: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every CRL the cases name, through the preprocessor Lambda: {CRL name: document key}."""
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_KEY", TRUSTSTORE)
    for name in ("CRLCHECK_TRUSTSTORE_BUCKET", "CRLCHECK_OUTPUT_PREFIX", "CRLCHECK_ALLOW_SHA1"):
        monkeypatch.delenv(name, raising=False)
    s3.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=signers_pem.read_bytes())
    preprocessor = preprocessor_lambda()
    keys = {}
    for name in sorted({crl for case in CASES for crl in case.crls}):
        key = f"crls/{name}.crl"
        version = s3.put_object(Bucket=BUCKET, Key=key, Body=(CRLS / f"{name}.crl").read_bytes())
        event = s3_event((BUCKET, key, version["VersionId"]))
        if name == "deltaCRLCA3CRL":  # Stale: the only expected refusal.
            with pytest.raises(RecordsRefusedError, match="crl_stale"):
                preprocessor.handler(event, None)
            continue
        preprocessor.handler(event, None)
        keys[name] = f"crls/{name}.cache.json"
    return keys


def authorize(authorizer: Lambda, ee: str) -> tuple[str, dict[str, Any]]:
    event = load_event("rest-request-mtls.json", pem(ee))
    response = authorizer.handler(event, None)
    effect: str = response["policyDocument"]["Statement"][0]["Effect"]
    return effect, response["context"]


def test_pkits_cases_through_the_lambda_functions(
    s3: S3Client,
    published: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    delta = json.loads(
        s3.get_object(Bucket=BUCKET, Key=published["deltaCRLCA1deltaCRL"])["Body"].read()
    )
    assert delta["format"] == "crlcheck.delta-revocation-set"
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    for name in ("CRLCHECK_REVALIDATE_SECONDS", "CRLCHECK_STALE_GRACE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    case: Case
    for case in CASES:
        keys = [published[name] for name in case.crls if name in published]
        monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", ",".join(keys))
        if case.chain:
            chain_key = f"chains/{case.section}.pem"
            s3.put_object(Bucket=BUCKET, Key=chain_key, Body=b"".join(pem(n) for n in case.chain))
            monkeypatch.setenv("CRLCHECK_CHAIN_KEY", chain_key)
        else:
            monkeypatch.delenv("CRLCHECK_CHAIN_KEY", raising=False)
        effect, _context = authorize(authorizer_lambda(), case.ee)
        assert effect == ("Allow" if case.valid else "Deny"), (case, capsys.readouterr().out)
    capsys.readouterr()


def test_logs_say_which_document_and_certificate_decided(
    s3: S3Client,
    published: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    keys = [published["deltaCRLCA1CRL"], published["deltaCRLCA1deltaCRL"]]
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", ",".join(keys))
    monkeypatch.delenv("CRLCHECK_CHAIN_KEY", raising=False)
    capsys.readouterr()
    assert authorize(authorizer_lambda(), "InvaliddeltaCRLTest4EE")[0] == "Deny"
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (line["reason"], line["delta_crl_number"]) == ("revoked", "5")

    chain = b"".join(pem(n) for n in ("RevokedsubCACert", "GoodCACert"))
    s3.put_object(Bucket=BUCKET, Key="chains/revoked.pem", Body=chain)
    monkeypatch.setenv("CRLCHECK_CHAIN_KEY", "chains/revoked.pem")
    keys = [published[n] for n in ("TrustAnchorRootCRL", "GoodCACRL", "RevokedsubCACRL")]
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", ",".join(keys))
    assert authorize(authorizer_lambda(), "InvalidRevokedCATest2EE")[0] == "Deny"
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["reason"] == "revoked"
    assert line["certificate"].startswith("intermediate 1 (CN=Revoked subCA")


def test_a_chain_bundle_that_never_loaded_denies(
    s3: S3Client, published: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", published["GoodCACRL"])
    monkeypatch.setenv("CRLCHECK_CHAIN_KEY", "chains/missing.pem")
    effect, context = authorize(authorizer_lambda(), "ValidCertificatePathTest1EE")
    assert (effect, context["reason"]) == ("Deny", "store_unavailable")
