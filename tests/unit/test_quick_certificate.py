"""decide()'s quick route for certificate bytes gives exactly what the general route gives.

``crlcheck.crl.read_certificate`` unwraps a plain PEM itself and reads the serial and the issuer
Name's DER from the certificate's DER; the general route is ``load_certificate`` followed by
``serial_number`` and ``issuer.public_bytes()``. Every test compares the two on the same input:
the reference decision is the one made on the parsed certificate object (which always takes the
general route), or a bad_certificate deny when ``load_certificate`` refuses the bytes.
"""

from __future__ import annotations

import base64
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from crlcheck import Decision, Reason, RevocationSet, decide, load_crl, verify_crl
from crlcheck.certificate import (
    _serial_and_issuer,
    _unwrap_pem,
    load_certificate,
    parse_certificate,
    read_certificate,
)
from crlcheck.errors import CertificateParseError
from tests.pki import (
    CA,
    NOW,
    cert_with_duplicate_extension,
    cert_with_serial,
    crl_with_entries,
    name,
    raw_entry,
)

SERIALS = [1, 0x77, 0x80, 0xFF, 2**63, 2**159 - 1, 2**199 + 5, 0, -1, -0x80, -0x81, -(2**159)]


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem_of(der_bytes: bytes) -> bytes:
    body = base64.encodebytes(der_bytes).decode("ascii")
    return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode()


def reference(data: bytes, sets: list[RevocationSet]) -> Decision:
    """The decision of the general route: parse, then decide on the object.

    The extensions are left to decide(), which parses them only for a scoped covering CRL
    (crlcheck.decision._read): a certificate that load_certificate refuses for its extensions
    alone is decided on its serial and issuer.
    """
    try:
        cert = parse_certificate(data, extensions=False)
    except CertificateParseError as exc:
        return Decision.deny(Reason.BAD_CERTIFICATE, exc.message)
    return decide(cert, sets, now=NOW)


def assert_same(data: bytes, sets: list[RevocationSet]) -> Decision:
    decision = decide(data, sets, now=NOW)
    assert decision == reference(data, sets)
    return decision


@pytest.fixture(scope="module")
def sets(ca: CA, other_ca: CA) -> list[RevocationSet]:
    """Both test CAs' CRLs; each revokes half of SERIALS, the negative ones included."""
    out = []
    for issuer in (ca, other_ca):
        crl = crl_with_entries(issuer, [raw_entry(s) for s in SERIALS[::2]], number=5)
        out.append(verify_crl(load_crl(crl), [issuer.cert], now=NOW))
    return out


@pytest.fixture(scope="module")
def certificates(ca: CA, other_ca: CA) -> list[bytes]:
    """DER certificates from both CAs (EC and RSA signatures), every serial in SERIALS."""
    out = []
    for issuer in (ca, other_ca):
        leaf = issuer.issue_cert("quick").cert
        out.extend(cert_with_serial(issuer, leaf, s) for s in SERIALS)
    return out


# =============================================================================================
# The DER walk against cryptography
# =============================================================================================


def test_der_walk_matches_cryptography(certificates: list[bytes], ca: CA, other_ca: CA) -> None:
    more = [der(ca.cert), der(other_ca.cert), der(ca.issue_cert("x" * 64).cert)]
    for data in certificates + more:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Negative and zero serials warn.
            cert = x509.load_der_x509_certificate(data)
            expected_serial = cert.serial_number
        serial, issuer_der, algorithm = _serial_and_issuer(data)
        assert serial == expected_serial
        assert issuer_der == cert.issuer.public_bytes()
        assert algorithm  # Inner and outer signature algorithms are the same bytes.


def test_der_walk_refuses_garbage(certificates: list[bytes]) -> None:
    data = certificates[0]
    for end in range(len(data)):
        with pytest.raises(ValueError, match=r"."):
            _serial_and_issuer(data[:end])
    with pytest.raises(ValueError, match="trailing"):
        _serial_and_issuer(data + b"\x00")
    for blob in (b"", b"\x30", b"\x30\x80", b"\x30\x84\xff\xff\xff\xff", b"\x02\x01\x01"):
        with pytest.raises(ValueError, match=r"."):
            _serial_and_issuer(blob)


def test_quick_route_is_taken_for_usual_certificates(
    certificates: list[bytes], ca: CA, other_ca: CA
) -> None:
    # Positive serials, ECDSA and RSA signatures, PEM with LF (as API Gateway sends it) or DER.
    for data in certificates:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(data)
            positive = cert.serial_number > 0
        for form in (data, pem_of(data), pem_of(data).rstrip(b"\n")):
            quick = read_certificate(form)
            if not positive:
                assert quick is None  # cryptography warns on load: the general route.
                continue
            assert quick is not None
            assert der(quick[0]) == data
            assert quick[1] == cert.serial_number
            assert quick[2] == cert.issuer.public_bytes()


# =============================================================================================
# decide(): quick route == general route
# =============================================================================================


def test_decisions_match_on_every_serial(
    certificates: list[bytes], sets: list[RevocationSet]
) -> None:
    reasons = set()
    for data in certificates:
        for form in (data, pem_of(data)):
            for chosen in (sets, sets[:1], sets[1:], []):
                reasons.add(assert_same(form, chosen).reason)
    assert reasons == {Reason.REVOKED, Reason.NOT_REVOKED, Reason.NO_COVERING_CRL}


def test_warnings_match(certificates: list[bytes], sets: list[RevocationSet]) -> None:
    # pytest runs with -W error (a warning on the quick route sends it to the general route).
    # Under other filters the quick route must warn exactly as the general route does: not at
    # all for a positive serial; for a negative or zero one, as decide() always has (it reads
    # serial_number, see crlcheck.decision._serial).
    for data in certificates:
        messages = []
        for quick in (True, False):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if quick:
                    decide(pem_of(data), sets, now=NOW)
                else:
                    reference(pem_of(data), sets)
            messages.append([str(w.message) for w in caught])
        assert messages[0] == messages[1]
        cert = load_certificate(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if cert.serial_number > 0:
                assert messages[0] == []


def _pem_variants(data: bytes) -> list[bytes]:
    pem = pem_of(data)
    body = base64.b64encode(data)
    begin, end = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    variants = [
        pem,
        pem.rstrip(b"\n"),
        b"  \n" + pem + b"\n \t",
        pem.replace(b"\n", b"\r\n"),
        pem.replace(b"\n", b"\r"),
        pem.replace(b"-----\n", b"-----\n\n", 1),  # blank line after BEGIN
        pem.replace(b"\n-----END", b"\n\n-----END"),  # blank line before END
        pem.replace(b"\n", b"\n\n").replace(b"-----\n\n", b"-----\n"),  # blank lines inside
        pem.replace(b"\n", b" \n"),
        pem.replace(b"\nM", b"\n M", 1),
        pem.replace(b"CERTIFICATE", b"X509 CERTIFICATE"),
        pem.replace(b"END CERTIFICATE", b"END CERTIFICATF"),
        pem.replace(b"-----\n", b"-----\nProc-Type: 4,ENCRYPTED\n\n", 1),
        pem + pem,
        pem + b"junk",
        b"junk\n" + pem,
        begin + b"\n" + body + b"\n" + end,  # one long line
        begin + b"\n" + b"\n".join(body[i : i + 7] for i in range(0, len(body), 7)) + b"\n" + end,
        begin + body + b"\n" + end,
        begin + b"\n" + body + end,
        begin + b"\n" + body.rstrip(b"=") + b"\n" + end,  # padding missing
        begin + b"\nAA==\n" + body + b"\n" + end,  # padding inside
        begin + b"\n" + body + b"!\n" + end,
        begin + b"\n" + base64.b64encode(data + b"\x00") + b"\n" + end,  # trailing DER byte
        begin + b"\n" + base64.b64encode(data[:-1]) + b"\n" + end,  # truncated DER
    ]
    if body.endswith(b"="):
        # Non-canonical: unused bits before the padding set (the Rust decoder refuses it).
        i = len(body.rstrip(b"=")) - 1
        odd = alphabet[alphabet.index(body[i]) | 1]
        if odd != body[i]:
            variants.append(begin + b"\n" + body[:i] + bytes([odd]) + body[i + 1 :] + b"\n" + end)
    return variants


def test_pem_variants_match(certificates: list[bytes], sets: list[RevocationSet]) -> None:
    seen = set()
    for data in certificates[:3] + certificates[-3:]:
        for variant in _pem_variants(data):
            seen.add(assert_same(variant, sets).reason)
    assert Reason.BAD_CERTIFICATE in seen
    assert Reason.NOT_REVOKED in seen


def test_non_canonical_base64_is_refused_as_before(ca: CA, sets: list[RevocationSet]) -> None:
    # Find a certificate whose base64 ends in padding, then set an unused bit.
    for i in range(20):
        data = der(ca.issue_cert(f"pad{i}").cert)
        body = base64.b64encode(data)
        if body.endswith(b"=") and body.rstrip(b"=")[-1:] in b"AEIMQUYcgkosw048":
            break
    else:
        pytest.skip("no certificate with padding bits came up")
    i = len(body.rstrip(b"=")) - 1
    bad = body[:i] + bytes([body[i] + 1]) + body[i + 1 :]
    pem = b"-----BEGIN CERTIFICATE-----\n" + bad + b"\n-----END CERTIFICATE-----\n"
    assert _unwrap_pem(pem) is None
    assert assert_same(pem, sets).reason is Reason.BAD_CERTIFICATE


def test_garbage_matches(certificates: list[bytes], ca: CA, sets: list[RevocationSet]) -> None:
    data = certificates[1]
    pem = pem_of(data)
    for end in range(0, len(data), 7):
        assert assert_same(data[:end], sets).reason is Reason.BAD_CERTIFICATE
    for pos in range(0, len(data), 5):
        flipped = data[:pos] + bytes([data[pos] ^ 0x41]) + data[pos + 1 :]
        assert_same(flipped, sets)
        assert_same(pem_of(flipped), sets)
    for end in range(0, len(pem), 11):
        assert_same(pem[:end], sets)
    # A malformed extension: load_certificate (the reference) refuses it; decide() parses
    # extensions only for a scoped covering CRL (none here), so it decides on serial and issuer
    # (crlcheck.decision._read), as it does on the lazily parsed object.
    duplicate = cert_with_duplicate_extension(ca, ca.issue_cert().cert)
    for form in (duplicate, pem_of(duplicate)):
        assert assert_same(form, sets).reason is Reason.NOT_REVOKED


def test_issuer_not_byte_identical_takes_the_general_route(
    ca: CA, sets: list[RevocationSet]
) -> None:
    # The same issuer name as another CA's but different bytes: no covering set either way.
    stranger = CA(subject=name("crlcheck Test CA", org="another org"))
    data = der(stranger.issue_cert().cert)
    decision = assert_same(pem_of(data), sets)
    assert decision.reason is Reason.NO_COVERING_CRL
    assert decision.issuer == stranger.name.rfc4514_string()
