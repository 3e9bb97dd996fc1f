"""What the loaders say about input of the wrong kind: what was found, and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from crlcheck import load_certificate, load_certificates, load_crl
from crlcheck._describe import Expected, refusal
from crlcheck.cli import main
from crlcheck.errors import CertificateParseError, CRLParseError
from tests.pki import CA, NOW, make_key, to_pem

LEAKS = ("Traceback", "cryptography.io", "ParseError", "MalformedFraming", "ShortData", "Tag {")


@pytest.fixture(scope="module")
def inputs() -> dict[str, bytes]:
    """One of each kind of file a user may give by mistake."""
    ca = CA("crlcheck Describe CA")
    leaf = ca.issue_cert("leaf")
    crl = ca.make_crl([])
    key = make_key()
    cert_der = leaf.cert.public_bytes(serialization.Encoding.DER)
    return {
        "key_pem": leaf.key_pem,
        "key_der": key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        "sec1_der": key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        "public_key_der": key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "crl_der": crl,
        "crl_pem": to_pem(crl),
        "cert_der": cert_der,
        "cert_pem": leaf.pem,
        "truncated_cert": cert_der[:200],
        "truncated_crl": crl[:100],
        "truncated_pem_cert": to_pem(cert_der[:200], "CERTIFICATE"),
        "text": b"hello, world\n",
    }


# --- the library -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("key_pem", "not a certificate: the input is a private key (PEM 'PRIVATE KEY' block, "),
        ("key_der", "not a certificate: the input is a PKCS #8 private key (DER)"),
        ("sec1_der", "not a certificate: the input is an EC private key (DER)"),
        ("public_key_der", "not a certificate: the input is a public key (DER)"),
        ("crl_der", "not a certificate: the input is a CRL (DER)"),
        ("crl_pem", "not a certificate: the input is a CRL (PEM 'X509 CRL' block, "),
        ("truncated_cert", "truncated DER: the data ends before the structure does (200 of "),
        ("truncated_pem_cert", "PEM 'CERTIFICATE' block: truncated DER: the data ends before"),
        ("text", "not a certificate: the input is text, neither PEM nor DER"),
    ],
)
def test_a_certificate_loader_says_what_it_was_given(
    name: str, message: str, inputs: dict[str, bytes]
) -> None:
    for load in (load_certificate, load_certificates):
        with pytest.raises(CertificateParseError) as info:
            load(inputs[name])
        assert info.value.message.startswith(message), info.value.message
        assert not any(leak in info.value.message for leak in LEAKS)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("key_pem", "not a CRL: the input is a private key (PEM 'PRIVATE KEY' block, "),
        ("key_der", "not a CRL: the input is a PKCS #8 private key (DER)"),
        ("cert_der", "not a CRL: the input is a certificate (DER)"),
        ("cert_pem", "not a CRL: the input is a certificate (PEM 'CERTIFICATE' block, "),
        ("truncated_crl", "truncated DER: the data ends before the structure does (100 of "),
        ("text", "not a CRL: the input is text, neither PEM nor DER"),
    ],
)
def test_load_crl_says_what_it_was_given(name: str, message: str, inputs: dict[str, bytes]) -> None:
    with pytest.raises(CRLParseError) as info:
        load_crl(inputs[name])
    assert info.value.message.startswith(message), info.value.message
    assert not any(leak in info.value.message for leak in LEAKS)


def test_a_malformed_certificate_is_described_in_words() -> None:
    # A certificate's shape whose serial is a BOOLEAN: the parser's complaint, without its
    # Rust debug text.
    tbs = "300e a003020102 010100 3000 3000 3000"  # [0] version, BOOLEAN, 3 empty SEQUENCEs
    data = bytes.fromhex("3015 " + tbs + " 3000 030100")
    message = refusal(data, "certificate", ValueError("ParseError { kind: UnexpectedTag }"))
    assert message == "malformed certificate: an unexpected element"


@given(st.binary(max_size=300))
def test_refusal_never_raises(data: bytes) -> None:
    kinds: tuple[Expected, ...] = ("certificate", "CRL")
    for expected in kinds:
        assert refusal(data, expected, ValueError("x"))
        assert refusal(b"-----BEGIN CERTIFICATE-----\n" + data, expected)


# --- through the command line ----------------------------------------------------------------


@pytest.fixture(scope="module")
def files(inputs: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("describe")
    paths = {name: root / name for name in inputs}
    for name, path in paths.items():
        path.write_bytes(inputs[name])
    ca = CA("crlcheck Describe CLI CA")
    (root / "ca.pem").write_bytes(ca.pem)
    (root / "ca.crl").write_bytes(ca.make_crl([]))
    paths["ca"] = root / "ca.pem"
    paths["doc"] = root / "ca.cache.json"
    argv = ["preprocess", str(root / "ca.crl"), "--issuer", str(paths["ca"])]
    assert main([*argv, "-q", "--at", NOW.isoformat()]) == 0
    return paths


@pytest.mark.parametrize(
    ("argv", "found"),
    [
        (["check", "{key_pem}", "--cache", "{doc}"], "is a private key (PEM 'PRIVATE KEY'"),
        (["check", "{crl_der}", "--cache", "{doc}"], "not a certificate: the input is a CRL (DER)"),
        (["check", "{crl_pem}", "--cache", "{doc}"], "not a certificate: the input is a CRL (PEM"),
        (["check", "{truncated_cert}", "--cache", "{doc}"], "truncated DER: the data ends before"),
        (["check", "{text}", "--cache", "{doc}"], "the input is text, neither PEM nor DER"),
        (["check", "{cert_pem}", "--cache", "{crl_der}"], "it looks like a CRL: make a document"),
        (["check", "{cert_pem}", "--cache", "{doc}", "--chain", "{key_pem}"], "a private key"),
        (["inspect", "{key_pem}"], "not a CRL: the input is a private key (PEM 'PRIVATE KEY'"),
        (["inspect", "{truncated_crl}"], "truncated DER: the data ends before the structure"),
        (["inspect", "{cert_der}"], "not a CRL: the input is a certificate (DER)"),
        (["preprocess", "{crl_der}", "--issuer", "{key_pem}"], "is a private key (PEM"),
        (["preprocess", "{crl_der}", "--issuer", "{crl_der}"], "the input is a CRL (DER)"),
    ],
)
def test_bad_input_is_one_line_that_says_what_was_found_and_exits_2(
    argv: list[str],
    found: str,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = {k: str(v) for k, v in files.items()}
    rc = main([a.format(**names) for a in argv] + ["--at", NOW.isoformat()])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1, err
    assert err.startswith("crlcheck: error: ")
    assert found in err
    assert not any(leak in err for leak in LEAKS), err


@pytest.mark.parametrize(
    ("crl", "found"),
    [
        ("key_pem", "not a CRL: the input is a private key (PEM 'PRIVATE KEY'"),
        ("cert_der", "not a CRL: the input is a certificate (DER)"),
        ("truncated_crl", "truncated DER: the data ends before the structure does"),
    ],
)
def test_preprocess_says_what_it_was_given_instead_of_a_crl(
    crl: str, found: str, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # A CRL that cannot be read is a refusal (crl_malformed, exit 1), as in the preprocessor.
    argv = ["preprocess", str(files[crl]), "--issuer", str(files["ca"]), "-o", "-"]
    assert main([*argv, "--at", NOW.isoformat()]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert found in err
    assert not any(leak in err for leak in LEAKS), err
