"""A catalogue of hostile CRLs: each one is refused with one specific CRLCheckError subclass.

Every CRL that could pass the signature check is genuinely signed by the test CA (raw edits
are signed again with :func:`tests.pki.resign_crl`), so it is refused for the reason under test
and not merely for a broken signature. The catalogue is shared by the library test and the CLI
test in ``test_hostile_crls.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from crlcheck import (
    CRLCheckError,
    CRLIssuerMismatchError,
    CRLNotYetValidError,
    CRLParseError,
    CRLSignatureError,
    CRLSignerError,
    CRLStaleError,
    DeltaCRLError,
    IndirectCRLError,
    PartialCRLError,
    UnsupportedCRLExtensionError,
)
from tests.pki import (
    CA,
    NOW,
    Revoked,
    children,
    crl_with_entries,
    der_integer,
    der_oid,
    entry_extension,
    entry_extensions,
    idp,
    name,
    raw_entry,
    read_tlv,
    reason_code,
    resign_crl,
    tlv,
    to_pem,
    unknown_extension,
)

# An OID under IANA's documentation enterprise number (RFC 5612): never a real extension.
PRIVATE_OID = "1.3.6.1.4.1.32473.77"

# AlgorithmIdentifier TLVs.
ECDSA_SHA256 = tlv(0x30, der_oid("1.2.840.10045.4.3.2"))
ECDSA_SHA384 = tlv(0x30, der_oid("1.2.840.10045.4.3.3"))
MD2_RSA = tlv(0x30, der_oid("1.2.840.113549.1.1.2") + b"\x05\x00")
UNKNOWN_ALG = tlv(0x30, der_oid("1.3.6.1.4.1.32473.9"))

MEGABYTES = 4  # Size of the "multi-megabyte garbage PEM" inputs.

# TBSCertList field positions of a v2 CRL made by tests.pki (version present).
VERSION, SIGNATURE, ISSUER, THIS_UPDATE, NEXT_UPDATE = range(5)

Made = bytes | tuple[bytes, list[x509.Certificate]]


@dataclass(frozen=True)
class Hostile:
    """One hostile CRL: how to make it (from the CA that offers itself as signer) and the
    exact error class (not a parent) that load_crl/verify_crl must raise."""

    name: str
    error: type[CRLCheckError]
    make: Callable[[CA], Made] = field(repr=False)
    # The refusal through `crlcheck preprocess`, where it differs (the CLI accepts delta CRLs).
    cli_error: type[CRLCheckError] | None = None


def _relative_name() -> x509.RelativeDistinguishedName:
    return x509.RelativeDistinguishedName(name("dp").rdns[1])


def _unknown(oid: str = PRIVATE_OID) -> x509.UnrecognizedExtension:
    return unknown_extension(oid)


def _set_field(index: int, value: bytes) -> Callable[[list[bytes]], list[bytes]]:
    def edit(fields: list[bytes]) -> list[bytes]:
        fields[index] = value
        return fields

    return edit


def _edited(ca: CA, edit: Callable[[list[bytes]], list[bytes]], **kwargs: object) -> bytes:
    """A CRL of ``ca`` (``make_crl(**kwargs)``) whose TBSCertList fields went through ``edit``,
    signed again with the CA key."""
    return resign_crl(ca.make_crl(**kwargs), ca.key, edit)  # type: ignore[arg-type]


def _duplicate_first_crl_extension(fields: list[bytes]) -> list[bytes]:
    """Edit: list the first CRL extension twice in crlExtensions ([0] EXPLICIT Extensions)."""
    wrapper = fields[-1]
    assert wrapper[0] == 0xA0
    _, cs, _ = read_tlv(wrapper, 0)
    _, ss, se = read_tlv(wrapper, cs)
    extensions = children(wrapper, ss, se)
    fields[-1] = tlv(0xA0, tlv(0x30, b"".join([extensions[0], *extensions])))
    return fields


def _invalid_utf8_name() -> bytes:
    """A Name whose commonName is a UTF8String holding invalid UTF-8 (0xFF 0xFE)."""
    attribute = tlv(0x30, der_oid("2.5.4.3") + tlv(0x0C, b"\xff\xfe"))
    return tlv(0x30, tlv(0x31, attribute))


def _flip_last_byte(der: bytes) -> bytes:
    return der[:-1] + bytes([der[-1] ^ 0x01])


def _pem_body(der: bytes) -> bytes:
    return base64.encodebytes(der)


def noise(seed: int, size: int) -> bytes:
    """``size`` deterministic pseudo-random bytes."""
    return hashlib.shake_256(b"crlcheck hardening %d" % seed).digest(size)


def _garbage_pem(seed: int, *, end: bool) -> bytes:
    """MEGABYTES of random base64 text in 64-column lines, framed as an X509 CRL PEM block."""
    raw = noise(seed, MEGABYTES * 3 << 18)
    body = base64.encodebytes(raw)
    return b"-----BEGIN X509 CRL-----\n" + body + (b"-----END X509 CRL-----\n" if end else b"")


def _crl_signer_without_crl_sign(ca: CA) -> Made:
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    signer = ca.crl_signer(key_usage=usage)
    return ca.make_crl([5], signer=signer), [ca.cert, signer.cert]


def _certificate_issuer_entry(ca: CA) -> bytes:
    issuer = x509.CertificateIssuer([x509.DirectoryName(name("someone else"))])
    return ca.make_crl([Revoked(5, extensions=[(issuer, False)])])


def _entries(*entries: bytes) -> Callable[[CA], bytes]:
    return lambda ca: crl_with_entries(ca, list(entries))


CATALOGUE: tuple[Hostile, ...] = (
    # --- not a CRL at all ---------------------------------------------------------------------
    Hostile("empty", CRLParseError, lambda ca: b""),
    Hostile("whitespace", CRLParseError, lambda ca: b" \r\n\t "),
    Hostile("random-bytes", CRLParseError, lambda ca: noise(1, 4096)),
    Hostile(
        "random-bytes-in-a-sequence",
        CRLParseError,
        lambda ca: b"\x30\x82\x10\x00" + noise(2, 0x1000),
    ),
    Hostile("nul-bytes-1mb", CRLParseError, lambda ca: bytes(1 << 20)),
    Hostile(
        "der-certificate",
        CRLParseError,
        lambda ca: ca.cert.public_bytes(serialization.Encoding.DER),
    ),
    Hostile("pem-certificate", CRLParseError, lambda ca: ca.pem),
    # --- broken DER ---------------------------------------------------------------------------
    Hostile("der-trailing-byte", CRLParseError, lambda ca: ca.make_crl([5]) + b"\x00"),
    Hostile(
        "der-length-4gib",
        CRLParseError,
        lambda ca: b"\x30\x84\xff\xff\xff\xff" + ca.make_crl([5])[4:],
    ),
    Hostile(
        "ber-indefinite-nesting",
        CRLParseError,
        lambda ca: b"\x30\x80" * 50_000 + b"\x00\x00" * 50_000,
    ),
    Hostile(
        "der-nesting-10k",
        CRLParseError,
        # 10 000 nested SEQUENCEs with definite lengths: a recursion-depth attack.
        lambda ca: _nested(10_000),
    ),
    # --- broken PEM ---------------------------------------------------------------------------
    Hostile(
        "pem-bad-base64",
        CRLParseError,
        lambda ca: ca.make_crl([5], pem_output=True).replace(b"\n", b"!\n", 3),
    ),
    Hostile(
        "pem-bad-padding",
        CRLParseError,
        lambda ca: (
            b"-----BEGIN X509 CRL-----\n"
            + _pem_body(ca.make_crl([5])).rstrip(b"=\n")[:-1]
            + b"\n-----END X509 CRL-----\n"
        ),
    ),
    Hostile("pem-wrong-label", CRLParseError, lambda ca: to_pem(ca.make_crl([5]), "CERTIFICATE")),
    Hostile("pem-lowercase-label", CRLParseError, lambda ca: to_pem(ca.make_crl([5]), "x509 crl")),
    Hostile(
        "pem-no-end-line",
        CRLParseError,
        lambda ca: ca.make_crl([5], pem_output=True).split(b"-----END")[0],
    ),
    Hostile(
        "pem-end-label-differs",
        CRLParseError,
        lambda ca: ca.make_crl([5], pem_output=True).replace(b"END X509 CRL", b"END PKCS7"),
    ),
    Hostile(
        "pem-empty-body",
        CRLParseError,
        lambda ca: b"-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n",
    ),
    Hostile("pem-garbage-4mb", CRLParseError, lambda ca: _garbage_pem(3, end=True)),
    Hostile("pem-garbage-4mb-no-end", CRLParseError, lambda ca: _garbage_pem(4, end=False)),
    Hostile(
        # Regression: one BEGIN...END regex searched from every BEGIN line was quadratic.
        "pem-begin-lines-4mb",
        CRLParseError,
        lambda ca: b"-----BEGIN X509 CRL-----\n" * ((MEGABYTES << 20) // 25),
    ),
    # --- well-formed DER, but not a valid X.509 CRL --------------------------------------------
    Hostile(
        "version-v3",
        CRLParseError,
        lambda ca: _edited(ca, _set_field(VERSION, der_integer(2)), revoked=[5]),
    ),
    Hostile(
        "version-negative",
        CRLParseError,
        lambda ca: _edited(ca, _set_field(VERSION, der_integer(-1)), revoked=[5]),
    ),
    Hostile(
        "duplicate-crl-extension",
        CRLParseError,
        lambda ca: _edited(ca, _duplicate_first_crl_extension, revoked=[5]),
    ),
    Hostile(
        "inner-outer-algorithm-mismatch",
        CRLParseError,
        lambda ca: resign_crl(
            ca.make_crl([5]),
            ca.key,
            lambda fields: fields,
            outer_alg=ECDSA_SHA384,
        ),
    ),
    Hostile(
        "this-update-month-13",
        CRLParseError,
        lambda ca: _edited(ca, _set_field(THIS_UPDATE, tlv(0x17, b"261301000000Z")), revoked=[5]),
    ),
    Hostile(
        "this-update-fractional-seconds",
        CRLParseError,
        lambda ca: _edited(
            ca, _set_field(THIS_UPDATE, tlv(0x18, b"20260101000000.5Z")), revoked=[5]
        ),
    ),
    Hostile(
        "next-update-without-zone",
        CRLParseError,
        lambda ca: _edited(ca, _set_field(NEXT_UPDATE, tlv(0x17, b"2602010000")), revoked=[5]),
    ),
    Hostile(
        "next-update-before-this-update",
        CRLParseError,
        lambda ca: ca.make_crl(
            [5], this_update=dt.datetime(2026, 1, 10, tzinfo=dt.UTC), next_update=NOW.replace(day=9)
        ),
    ),
    Hostile(
        # Regression: cryptography parses the issuer Name lazily; an invalid attribute value
        # used to escape as ValueError from verify_crl.
        "issuer-invalid-utf8",
        CRLParseError,
        lambda ca: _edited(ca, _set_field(ISSUER, _invalid_utf8_name()), revoked=[5]),
    ),
    Hostile(
        "issuer-not-a-name",
        CRLParseError,
        lambda ca: _edited(ca, _set_field(ISSUER, der_integer(7)), revoked=[5]),
    ),
    # --- entries --------------------------------------------------------------------------------
    Hostile(
        "duplicate-entry-extension",
        CRLParseError,
        _entries(raw_entry(5, extensions=entry_extensions(reason_code(1), reason_code(1)))),
    ),
    *(
        Hostile(
            f"reason-code-{code}",
            CRLParseError,
            _entries(raw_entry(1), raw_entry(5, extensions=entry_extensions(reason_code(code)))),
        )
        for code in (7, 8, 11, 255)
    ),
    Hostile(
        "reason-code-two-octets",
        CRLParseError,
        _entries(
            raw_entry(
                5, extensions=entry_extensions(entry_extension("2.5.29.21", tlv(0x0A, b"\x00\x01")))
            )
        ),
    ),
    Hostile(
        "entry-serial-empty",
        CRLParseError,
        _entries(raw_entry(1), tlv(0x30, tlv(0x02, b"") + tlv(0x17, b"251201000000Z"))),
    ),
    Hostile(
        "entry-date-garbage",
        CRLParseError,
        _entries(raw_entry(1), tlv(0x30, der_integer(5) + tlv(0x17, b"ZZZZZZZZZZZZZ"))),
    ),
    Hostile(
        "critical-unknown-entry-extension",
        UnsupportedCRLExtensionError,
        lambda ca: ca.make_crl([Revoked(5, extensions=[(_unknown(), True)])]),
    ),
    Hostile("indirect-crl-certificate-issuer", IndirectCRLError, _certificate_issuer_entry),
    # --- validity window ------------------------------------------------------------------------
    Hostile("no-next-update", CRLStaleError, lambda ca: ca.make_crl([5], next_update=None)),
    Hostile(
        "stale",
        CRLStaleError,
        lambda ca: ca.make_crl(
            [5],
            this_update=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
            next_update=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        ),
    ),
    Hostile(
        "not-yet-valid",
        CRLNotYetValidError,
        lambda ca: ca.make_crl(
            [5], this_update=NOW + dt.timedelta(hours=1), next_update=NOW + dt.timedelta(days=9)
        ),
    ),
    # --- CRL extensions -------------------------------------------------------------------------
    Hostile(
        "critical-unknown-extension",
        UnsupportedCRLExtensionError,
        lambda ca: ca.make_crl([5], extensions=[(_unknown(), True)]),
    ),
    Hostile(
        "delta-crl",
        DeltaCRLError,
        # BaseCRLNumber 1 is not below its own cRLNumber 1: a malformed delta for the CLI.
        lambda ca: ca.make_crl([5], extensions=[(x509.DeltaCRLIndicator(1), True)]),
        cli_error=CRLParseError,
    ),
    Hostile(
        "indirect-crl-idp",
        IndirectCRLError,
        lambda ca: ca.make_crl([5], extensions=[(idp(indirect_crl=True), True)]),
    ),
    Hostile(
        "idp-only-some-reasons",
        PartialCRLError,
        lambda ca: ca.make_crl(
            [5],
            extensions=[
                (idp(only_some_reasons=frozenset({x509.ReasonFlags.key_compromise})), True)
            ],
        ),
    ),
    Hostile(
        "idp-only-ca-certs",
        PartialCRLError,
        lambda ca: ca.make_crl([5], extensions=[(idp(only_contains_ca_certs=True), True)]),
    ),
    Hostile(
        "idp-only-attribute-certs",
        PartialCRLError,
        lambda ca: ca.make_crl([5], extensions=[(idp(only_contains_attribute_certs=True), True)]),
    ),
    Hostile(
        "idp-relative-name",
        PartialCRLError,
        lambda ca: ca.make_crl(
            [5],
            extensions=[(idp(relative_name=_relative_name()), True)],
        ),
    ),
    # --- signature and signer -------------------------------------------------------------------
    Hostile("signature-tampered", CRLSignatureError, lambda ca: _flip_last_byte(ca.make_crl([5]))),
    Hostile(
        "signed-by-impostor-with-the-ca-name",
        CRLSignatureError,
        lambda ca: CA(subject=ca.name).make_crl([5]),
    ),
    Hostile(
        # Regression: an algorithm cryptography does not know made verify_crl raise
        # UnsupportedAlgorithm (reading signature_hash_algorithm) instead of refusing.
        "signature-algorithm-md2",
        CRLSignatureError,
        lambda ca: _edited_alg(ca, MD2_RSA),
    ),
    Hostile(
        "signature-algorithm-unknown-oid",
        CRLSignatureError,
        lambda ca: _edited_alg(ca, UNKNOWN_ALG),
    ),
    Hostile("other-issuer", CRLIssuerMismatchError, lambda ca: CA("crlcheck Stranger").make_crl()),
    Hostile("signer-without-crl-sign", CRLSignerError, _crl_signer_without_crl_sign),
)


def _nested(depth: int) -> bytes:
    out = b"\x05\x00"
    for _ in range(depth):
        out = tlv(0x30, out)
    return out


def _edited_alg(ca: CA, alg: bytes) -> bytes:
    """A CRL whose inner and outer signature algorithm is ``alg`` (the signature is ECDSA)."""
    return resign_crl(
        ca.make_crl([5]),
        ca.key,
        _set_field(SIGNATURE, alg),
        outer_alg=alg,
    )


def make(case: Hostile, ca: CA) -> tuple[bytes, list[x509.Certificate]]:
    """The hostile CRL bytes and the signer certificates to offer with it."""
    made = case.make(ca)
    if isinstance(made, tuple):
        return made
    return made, [ca.cert]
