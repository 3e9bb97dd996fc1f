"""The command line on genuinely signed CRLs refused by their values (issue 9, items 4-6):
exit status 1, exactly one line on stderr, nothing on stdout, no document (nor temporary file)
written. ``--allow-sha1`` lets a SHA-1 CRL through; ``inspect`` refuses a CRL whose fields are
out of range with status 1 too.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from crlcheck.cli import main
from crlcheck.crl import MAX_CRL_NUMBER
from tests.hardening import resigned
from tests.pki import CA, NOW

AT = ["--at", NOW.isoformat()]

Made = tuple[bytes, list[x509.Certificate]]


def _own(make: Callable[[CA], bytes]) -> Callable[[CA, CA], Made]:
    """A maker whose CRL is signed by the EC test CA itself."""
    return lambda ca, rsa_ca: (make(ca), [ca.cert])


def _by_rsa(make: Callable[[CA], bytes]) -> Callable[[CA, CA], Made]:
    return lambda ca, rsa_ca: (make(rsa_ca), [rsa_ca.cert])


# (name, maker, reason)
CASES: list[tuple[str, Callable[[CA, CA], Made], str]] = [
    ("this-update-year-0", _own(resigned.year_zero_this_update), "crl_field_out_of_range"),
    ("next-update-year-0", _own(resigned.year_zero_next_update), "crl_field_out_of_range"),
    (
        "revocation-date-year-0",
        _own(resigned.year_zero_revocation_date),
        "crl_field_out_of_range",
    ),
    (
        "crl-number-21-octets",
        _own(lambda ca: resigned.crl_number(ca, MAX_CRL_NUMBER + 1)),
        "crl_field_out_of_range",
    ),
    (
        "crl-number-beyond-int-to-str",
        _own(lambda ca: resigned.crl_number(ca, 10**5000)),
        "crl_field_out_of_range",
    ),
    ("sha1-rsa", _by_rsa(resigned.sha1_rsa_crl), "crl_weak_signature"),
    ("pss-sha1", _by_rsa(resigned.pss_sha1_crl), "crl_weak_signature"),
    ("dsa-sha1", lambda ca, rsa_ca: resigned.dsa_sha1_crl(ca), "crl_weak_signature"),
    ("ecdsa-sha1", _own(resigned.ecdsa_sha1_crl), "crl_weak_signature"),
    ("signer-expired", lambda ca, rsa_ca: resigned.expired_signer_crl(ca), "crl_signer_expired"),
    (
        "signer-not-yet-valid",
        lambda ca, rsa_ca: resigned.future_signer_crl(ca),
        "crl_signer_expired",
    ),
    (
        "signer-validity-year-0",
        lambda ca, rsa_ca: resigned.year_zero_signer_crl(ca),
        "crl_signer_expired",
    ),
]


@pytest.fixture(scope="module")
def rsa_ca() -> CA:
    return CA("crlcheck CLI RSA CA", kind="rsa")


def write_case(tmp_path: Path, made: Made) -> tuple[Path, Path]:
    data, signers = made
    crl = tmp_path / "hostile.crl"
    issuer = tmp_path / "issuer.pem"
    crl.write_bytes(data)
    issuer.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in signers))
    return crl, issuer


def assert_one_refusal_line(err: str, reason: str) -> None:
    assert err.startswith(f"crlcheck: refused ({reason}): ")
    assert err.count("\n") == 1
    assert err.endswith("\n")
    assert "Traceback" not in err


@pytest.mark.parametrize(("name", "make", "reason"), CASES, ids=[c[0] for c in CASES])
def test_preprocess_refuses_with_exit_1_one_line_and_no_document(
    name: str,
    make: Callable[[CA, CA], Made],
    reason: str,
    ca: CA,
    rsa_ca: CA,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    crl, issuer = write_case(tmp_path, make(ca, rsa_ca))
    out = tmp_path / "hostile.cache.json"
    argv = ["preprocess", str(crl), "--issuer", str(issuer), "-o", str(out), "-q", *AT]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_refusal_line(captured.err, reason)
    assert set(tmp_path.iterdir()) == {crl, issuer}


def test_preprocess_allow_sha1_writes_the_document(
    rsa_ca: CA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crl, issuer = write_case(tmp_path, (resigned.sha1_rsa_crl(rsa_ca), [rsa_ca.cert]))
    out = tmp_path / "legacy.cache.json"
    argv = ["preprocess", str(crl), "--issuer", str(issuer), "-o", str(out), "--allow-sha1", *AT]
    assert main(argv) == 0
    doc = orjson.loads(out.read_bytes())
    assert doc["crl"]["signature_algorithm"] == "sha1WithRSAEncryption"
    assert "wrote" in capsys.readouterr().err


def test_allow_sha1_does_not_excuse_an_expired_signer(
    ca: CA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crl, issuer = write_case(tmp_path, resigned.expired_signer_crl(ca))
    argv = ["preprocess", str(crl), "--issuer", str(issuer), "-o", "-", "--allow-sha1", *AT]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_refusal_line(captured.err, "crl_signer_expired")


def test_preprocess_help_documents_allow_sha1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["preprocess", "--help"])
    assert "--allow-sha1" in capsys.readouterr().out


# inspect reads thisUpdate, nextUpdate and cRLNumber (not the entries, and not the signature).
LOAD_REFUSALS = [
    (name, make)
    for name, make, reason in CASES
    if reason == "crl_field_out_of_range" and name != "revocation-date-year-0"
]


@pytest.mark.parametrize(("name", "make"), LOAD_REFUSALS, ids=[c[0] for c in LOAD_REFUSALS])
def test_inspect_refuses_out_of_range_fields_with_exit_1_and_one_line(
    name: str,
    make: Callable[[CA, CA], Made],
    ca: CA,
    rsa_ca: CA,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    crl, _ = write_case(tmp_path, make(ca, rsa_ca))
    assert main(["inspect", str(crl), *AT]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_refusal_line(captured.err, "crl_field_out_of_range")


def test_inspect_does_not_verify_so_a_sha1_crl_is_summarised(
    rsa_ca: CA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crl, _ = write_case(tmp_path, (resigned.sha1_rsa_crl(rsa_ca), [rsa_ca.cert]))
    assert main(["inspect", str(crl), "--json", *AT]) == 0
    summary = orjson.loads(capsys.readouterr().out)
    assert summary["signature_algorithm"] == "sha1WithRSAEncryption"
    assert summary["signature"].startswith("not verified")


def test_inspect_of_garbage_is_still_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "garbage.crl"
    path.write_bytes(b"\x30\x03\x02\x01\x00")
    assert main(["inspect", str(path), *AT]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_python_m_crlcheck_exits_1_for_a_year_zero_crl(ca: CA, tmp_path: Path) -> None:
    crl, issuer = write_case(tmp_path, (resigned.year_zero_this_update(ca), [ca.cert]))
    result = subprocess.run(
        [sys.executable, "-m", "crlcheck", "preprocess", str(crl), "--issuer", str(issuer), *AT],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 1
    assert_one_refusal_line(result.stderr, "crl_field_out_of_range")
    assert set(tmp_path.iterdir()) == {crl, issuer}
