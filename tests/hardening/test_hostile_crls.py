"""Hostile CRLs: each is refused with one specific CRLCheckError subclass, never another
exception, and ``crlcheck preprocess`` turns each refusal into exit status 1 with one line on
stderr and no document written.

The catalogue is in :mod:`tests.hardening.hostile`; below it, exhaustive variations of one
signed CRL (every truncation, every single-bit flip).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from crlcheck import CRLCheckError, CRLParseError, RevocationSet, load_crl, verify_crl
from crlcheck.cli import main
from tests.hardening.hostile import CATALOGUE, Hostile, make
from tests.pki import CA, NOW, Revoked

# A refusal must be quick even for the multi-megabyte inputs (the quadratic PEM search this
# suite found took hours on 4 MB); generous for slow CI machines.
SECONDS_PER_INPUT = 5.0


def load_and_verify(data: bytes, signers: list[x509.Certificate]) -> RevocationSet:
    return verify_crl(load_crl(data), signers, now=NOW)


@pytest.fixture(scope="module")
def hostile(hca: CA) -> dict[str, tuple[bytes, list[x509.Certificate]]]:
    return {case.name: make(case, hca) for case in CATALOGUE}


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda c: c.name)
def test_library_refuses_with_the_specific_error(
    case: Hostile, hostile: dict[str, tuple[bytes, list[x509.Certificate]]]
) -> None:
    data, signers = hostile[case.name]
    started = time.perf_counter()
    with pytest.raises(CRLCheckError) as info:
        load_and_verify(data, signers)
    assert time.perf_counter() - started < SECONDS_PER_INPUT
    assert type(info.value) is case.error, info.value
    assert info.value.reason == case.error.reason
    assert info.value.message


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda c: c.name)
def test_cli_preprocess_exits_1_with_one_line_and_no_document(
    case: Hostile,
    hostile: dict[str, tuple[bytes, list[x509.Certificate]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data, signers = hostile[case.name]
    crl = tmp_path / "hostile.crl"
    issuer = tmp_path / "issuer.pem"
    out = tmp_path / "hostile.cache.json"
    crl.write_bytes(data)
    issuer.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in signers))
    argv = ["preprocess", str(crl), "--issuer", str(issuer), "-o", str(out), "-q"]
    assert main([*argv, "--at", NOW.isoformat()]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"crlcheck: refused ({(case.cli_error or case.error).reason}): ")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert set(tmp_path.iterdir()) == {crl, issuer}  # No document, no temporary file.


# --- exhaustive variations of one signed CRL ------------------------------------------------


@pytest.fixture(scope="module")
def small_crl(hca: CA) -> bytes:
    return hca.make_crl(
        [Revoked(7), Revoked(2**70, reason=x509.ReasonFlags.key_compromise)], number=9
    )


def test_every_truncation_of_der_is_a_parse_error(small_crl: bytes) -> None:
    for size in range(len(small_crl)):
        with pytest.raises(CRLParseError):
            load_crl(small_crl[:size])


def test_every_truncation_of_pem_is_a_parse_error_until_the_end_line(
    small_crl: bytes, hca: CA
) -> None:
    pem = hca.make_crl([7], number=9, pem_output=True)
    complete = pem.index(b"-----END X509 CRL-----") + len(b"-----END X509 CRL-----")
    for size in range(complete):
        with pytest.raises(CRLParseError):
            load_crl(pem[:size])
    for size in range(complete, len(pem) + 1):
        load_and_verify(pem[:size], [hca.cert])  # Only the final newline is missing.


def test_no_single_bit_flip_of_a_signed_crl_verifies(small_crl: bytes, hca: CA) -> None:
    """Every one of the 8 x len(CRL) one-bit corruptions is refused, by the parser or by the
    signature check: none yields a revocation set."""
    load_and_verify(small_crl, [hca.cert])
    refused: dict[str, int] = {}
    for i in range(len(small_crl)):
        for bit in range(8):
            data = bytearray(small_crl)
            data[i] ^= 1 << bit
            with pytest.raises(CRLCheckError) as info:
                load_and_verify(bytes(data), [hca.cert])
            name = type(info.value).__name__
            refused[name] = refused.get(name, 0) + 1
    assert sum(refused.values()) == 8 * len(small_crl)
    assert set(refused) <= {"CRLParseError", "CRLSignatureError", "CRLIssuerMismatchError"}
