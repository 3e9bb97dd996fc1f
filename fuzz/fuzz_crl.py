"""Coverage-guided fuzzing of the CRL loader and verifier with atheris (libFuzzer for Python).

Each input is tried twice:

1. as a CRL file, DER or PEM: ``load_crl``, then ``verify_crl`` against every CA certificate of
   ``tests/data/openssl``;
2. when it is DER: its first element inside the outer SEQUENCE (the TBSCertList of a real CRL)
   is signed again with the committed test key ``tests/data/openssl/ec-ca.key``
   (ecdsa-with-SHA384), so that mutations get past the signature check and reach the extension
   checks and the entry walkers.

The contract under test: a value or a ``CRLCheckError`` subclass. Any other exception escapes
``TestOneInput``, and atheris reports it as a crash (with the input written to
``<artifact_prefix>crash-<sha1>``).

Usage (libFuzzer options, then corpus directories; the first one receives new inputs)::

    python fuzz/fuzz_crl.py -runs=100000 -seed=1 -max_len=16384 /tmp/corpus
    python fuzz/fuzz_crl.py -max_total_time=3600 /tmp/corpus      # a long campaign

``tests/hardening/test_atheris.py`` runs a bounded campaign (``CRLCHECK_ATHERIS_RUNS``) seeded
with the openssl vectors.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path

import atheris  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

# Coverage feedback from crlcheck's Python code only (cryptography's parser is Rust).
with atheris.instrument_imports(include=["crlcheck"]):
    from crlcheck import CRLCheckError, load_certificates, load_crl, verify_crl

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "openssl"
NOW = datetime(2026, 1, 15, tzinfo=UTC)  # Inside the vectors' validity (see their README).

SIGNERS: list[x509.Certificate] = [
    cert for path in sorted(DATA.glob("*.pem")) for cert in load_certificates(path.read_bytes())
]
_key = serialization.load_pem_private_key((DATA / "ec-ca.key").read_bytes(), password=None)
if not isinstance(_key, ec.EllipticCurvePrivateKey):
    raise SystemExit("tests/data/openssl/ec-ca.key is not an EC key")
KEY: ec.EllipticCurvePrivateKey = _key
# AlgorithmIdentifier ecdsa-with-SHA384 (1.2.840.10045.4.3.3).
ECDSA_SHA384 = bytes.fromhex("300a06082a8648ce3d040303")


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _first_child(der: bytes) -> bytes | None:
    """The first element inside the outer SEQUENCE, or None (a lenient reader: no checks
    beyond bounds, since the point is to hand odd bytes to crlcheck)."""
    if len(der) < 4 or der[0] != 0x30:
        return None
    pos = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    if pos + 2 > len(der):
        return None
    first = der[pos + 1]
    if first < 0x80:
        end = pos + 2 + first
    else:
        count = first & 0x7F
        if count > 4:
            return None
        end = pos + 2 + count + int.from_bytes(der[pos + 2 : pos + 2 + count], "big")
    return der[pos:end] if end <= len(der) else None


def _check(data: bytes) -> None:
    with contextlib.suppress(CRLCheckError):
        verify_crl(load_crl(data), SIGNERS, now=NOW)


def TestOneInput(data: bytes) -> None:  # noqa: N802 (the name atheris calls)
    _check(data)
    tbs = _first_child(data)
    if tbs is not None:
        signature = KEY.sign(tbs, ec.ECDSA(hashes.SHA384()))
        _check(_tlv(0x30, tbs + ECDSA_SHA384 + _tlv(0x03, b"\x00" + signature)))


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
