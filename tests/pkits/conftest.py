"""NIST PKITS (from ``cryptography-vectors``) for delta CRLs (4.15) and revoked CAs (4.4.2)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

vectors = pytest.importorskip("cryptography_vectors")

PKITS = Path(vectors.__file__).parent / "x509" / "PKITS_data"
CERTS = PKITS / "certs"
CRLS = PKITS / "crls"


class Case(NamedTuple):
    """One PKITS test: the end entity, the CRLs offered, the chain offered, PKITS's verdict."""

    section: str
    ee: str
    crls: tuple[str, ...]
    chain: tuple[str, ...]
    valid: bool


DELTA1 = ("deltaCRLCA1CRL", "deltaCRLCA1deltaCRL")
DELTA2 = ("deltaCRLCA2CRL", "deltaCRLCA2deltaCRL")
# deltaCRLCA3CRL is stale (nextUpdate 2010-06-01): the preprocessor refuses it, so only the
# delta is published, and a delta never decides alone.
DELTA3 = ("deltaCRLCA3CRL", "deltaCRLCA3deltaCRL")
PATH = ("TrustAnchorRootCRL", "GoodCACRL")

CASES: list[Case] = [
    Case("4.1.1", "ValidCertificatePathTest1EE", PATH, ("GoodCACert",), True),
    Case(
        "4.1.1 missing CRL",
        "ValidCertificatePathTest1EE",
        ("GoodCACRL",),
        ("GoodCACert", "TrustAnchorRootCertificate"),
        False,
    ),
    Case(
        "4.4.2",
        "InvalidRevokedCATest2EE",
        (*PATH, "RevokedsubCACRL"),
        ("RevokedsubCACert", "GoodCACert", "TrustAnchorRootCertificate"),
        False,
    ),
    Case(
        "4.15.1",
        "InvaliddeltaCRLIndicatorNoBaseTest1EE",
        ("deltaCRLIndicatorNoBaseCACRL",),
        (),
        False,
    ),
    Case("4.15.2", "ValiddeltaCRLTest2EE", DELTA1, (), True),
    Case("4.15.3", "InvaliddeltaCRLTest3EE", DELTA1, (), False),
    Case("4.15.4", "InvaliddeltaCRLTest4EE", DELTA1, (), False),
    Case("4.15.5", "ValiddeltaCRLTest5EE", DELTA1, (), True),
    Case("4.15.6", "InvaliddeltaCRLTest6EE", DELTA1, (), False),
    Case("4.15.7", "ValiddeltaCRLTest7EE", DELTA1, (), True),
    Case("4.15.8", "ValiddeltaCRLTest8EE", DELTA2, (), True),
    Case("4.15.9", "InvaliddeltaCRLTest9EE", DELTA2, (), False),
    Case("4.15.10", "InvaliddeltaCRLTest10EE", DELTA3, (), False),
]


@pytest.fixture(scope="session")
def signers_pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every PKITS CA certificate that cryptography loads, as one PEM bundle."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    out = tmp_path_factory.mktemp("pkits") / "signers.pem"
    pems = []
    for path in sorted(CERTS.glob("*.crt")):
        if path.stem.endswith("EE"):
            continue
        try:
            cert = x509.load_der_x509_certificate(path.read_bytes())
        except ValueError:
            continue  # Two DSA certificates inherit parameters (see tests/hardening).
        pems.append(cert.public_bytes(serialization.Encoding.PEM))
    out.write_bytes(b"".join(pems))
    return out
