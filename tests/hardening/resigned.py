"""Genuinely signed CRLs whose *values* the core must refuse (issue 9, items 4-6).

Each maker takes a CA and returns a CRL that CA really signed (TBSCertList edits are signed
again, as in :mod:`tests.pki`), so only the parser and the rules can refuse it: years that
``datetime`` cannot hold, cRLNumbers over 20 octets, SHA-1 signatures, signer certificates
outside their validity. Shared by the library, CLI and Lambda tests and by the mutation suite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa

from tests.pki import (
    CA,
    NOW,
    T0,
    Leaf,
    der_integer,
    der_oid,
    read_tlv,
    resign_crl,
    split_crl,
    tlv,
)

# TBSCertList field positions of a v2 CRL made by tests.pki (version present).
VERSION, SIGNATURE, ISSUER, THIS_UPDATE, NEXT_UPDATE, ENTRIES = range(6)

YEAR_ZERO = tlv(0x18, b"00000101000000Z")  # GeneralizedTime: valid DER, not a datetime

# AlgorithmIdentifier TLVs.
SHA1_RSA = tlv(0x30, der_oid("1.2.840.113549.1.1.5") + b"\x05\x00")
ECDSA_SHA1 = tlv(0x30, der_oid("1.2.840.10045.4.1"))
DSA_SHA1 = tlv(0x30, der_oid("1.2.840.10040.4.3"))
# RSASSA-PSS with every parameter at its default: SHA-1, MGF1-SHA-1, salt 20 (RFC 4055 §3.1).
PSS_DEFAULTS = tlv(0x30, der_oid("1.2.840.113549.1.1.10") + tlv(0x30, b""))
# The weak hash under test (the builders refuse it; hazmat signing does not).
SHA1 = hashes.SHA1()  # noqa: S303


def set_field(index: int, value: bytes) -> Callable[[list[bytes]], list[bytes]]:
    def edit(fields: list[bytes]) -> list[bytes]:
        fields[index] = value
        return fields

    return edit


def edited(ca: CA, edit: Callable[[list[bytes]], list[bytes]], **kwargs: object) -> bytes:
    """``ca.make_crl(**kwargs)`` with its TBSCertList fields passed through ``edit``, re-signed."""
    return resign_crl(ca.make_crl(**kwargs), ca.key, edit)  # type: ignore[arg-type]


def year_zero_this_update(ca: CA) -> bytes:
    return edited(ca, set_field(THIS_UPDATE, YEAR_ZERO), revoked=[5])


def year_zero_next_update(ca: CA) -> bytes:
    return edited(ca, set_field(NEXT_UPDATE, YEAR_ZERO), revoked=[5])


def entry(serial: int, date: bytes) -> bytes:
    """A revokedCertificates entry with a raw Time TLV as its revocationDate."""
    return tlv(0x30, der_integer(serial) + date)


def with_entries(ca: CA, *entries: bytes, **kwargs: object) -> bytes:
    """A CRL of ``ca`` (``make_crl(**kwargs)``) whose revokedCertificates are ``entries``."""

    def edit(fields: list[bytes]) -> list[bytes]:
        fields[ENTRIES] = tlv(0x30, b"".join(entries))
        return fields

    return edited(ca, edit, revoked=[1], **kwargs)


def generalized(when: dt.datetime) -> bytes:
    return tlv(0x18, when.strftime("%Y%m%d%H%M%SZ").encode())


def year_zero_revocation_date(ca: CA, *, others: int = 0, **kwargs: object) -> bytes:
    """Serial 0x0BAD revoked in year 0000, among ``others`` ordinary GeneralizedTime entries."""
    date = generalized(dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    entries = [entry(1000 + i, date) for i in range(others)]
    entries.insert(len(entries) // 2, entry(0x0BAD, YEAR_ZERO))
    return with_entries(ca, *entries, **kwargs)


def crl_number_content(ca: CA, content: bytes, **kwargs: object) -> bytes:
    """A CRL of ``ca`` whose cRLNumber INTEGER has exactly these content octets."""
    extension = x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.20"), tlv(0x02, content))
    return ca.make_crl([5], number=None, extensions=[(extension, False)], **kwargs)  # type: ignore[arg-type]


def crl_number(ca: CA, value: int, **kwargs: object) -> bytes:
    """A CRL of ``ca`` with this cRLNumber (any size or sign, in minimal DER)."""
    _, start, end = read_tlv(der_integer(value), 0)
    return crl_number_content(ca, der_integer(value)[start:end], **kwargs)


def signed_with(der: bytes, algorithm: bytes, sign: Callable[[bytes], bytes]) -> bytes:
    """``der`` with ``algorithm`` as inner and outer signature algorithm, signed by ``sign``."""
    fields, _, _ = split_crl(der)
    fields[SIGNATURE] = algorithm
    tbs = tlv(0x30, b"".join(fields))
    return tlv(0x30, tbs + algorithm + tlv(0x03, b"\x00" + sign(tbs)))


def sha1_rsa_crl(rsa_ca: CA, revoked: tuple[int, ...] = (5,), **kwargs: object) -> bytes:
    key = rsa_ca.key
    assert isinstance(key, rsa.RSAPrivateKey)
    crl = rsa_ca.make_crl(revoked, **kwargs)  # type: ignore[arg-type]
    return signed_with(crl, SHA1_RSA, lambda tbs: key.sign(tbs, padding.PKCS1v15(), SHA1))


def pss_sha1_crl(rsa_ca: CA) -> bytes:
    key = rsa_ca.key
    assert isinstance(key, rsa.RSAPrivateKey)
    pss = padding.PSS(padding.MGF1(SHA1), 20)
    return signed_with(rsa_ca.make_crl([5]), PSS_DEFAULTS, lambda tbs: key.sign(tbs, pss, SHA1))


def ecdsa_sha1_crl(ec_ca: CA) -> bytes:
    key = ec_ca.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return signed_with(ec_ca.make_crl([5]), ECDSA_SHA1, lambda tbs: key.sign(tbs, ec.ECDSA(SHA1)))


def dsa_sha1_crl(ca: CA) -> tuple[bytes, list[x509.Certificate]]:
    """A CRL signed with dsa-with-sha1 by a DSA CRL-signing certificate of ``ca``."""
    key = dsa.generate_private_key(2048)
    signer = ca.crl_signer(key=key)  # type: ignore[arg-type]
    crl = signed_with(ca.make_crl([5]), DSA_SHA1, lambda tbs: key.sign(tbs, SHA1))
    return crl, [signer.cert]


def signer_valid(ca: CA, start: dt.datetime, end: dt.datetime) -> Leaf:
    """A CRL-signing certificate of ``ca`` valid from ``start`` to ``end``."""
    return ca.crl_signer(validity=(start, end))


def expired_signer_crl(ca: CA) -> tuple[bytes, list[x509.Certificate]]:
    """A fresh CRL signed by a CRL-signing certificate that expired before ``NOW``."""
    signer = signer_valid(ca, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), T0 - dt.timedelta(days=1))
    return ca.make_crl([5], signer=signer), [signer.cert]


def future_signer_crl(ca: CA) -> tuple[bytes, list[x509.Certificate]]:
    """A fresh CRL signed by a CRL-signing certificate valid only from a day after ``NOW``."""
    signer = signer_valid(ca, NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=400))
    return ca.make_crl([5], signer=signer), [signer.cert]


def year_zero_signer_crl(ca: CA) -> tuple[bytes, list[x509.Certificate]]:
    """A CRL whose signer certificate's notBefore is year 0000 (it loads; it cannot be read)."""
    signer = ca.crl_signer()
    der = signer.cert.public_bytes(serialization.Encoding.DER)
    validity = tlv(0x30, YEAR_ZERO + tlv(0x18, b"20350101000000Z"))
    # Certificate fields: [0] version, serial, signature, issuer, validity, ...
    cert = x509.load_der_x509_certificate(resign_crl(der, ca.key, set_field(4, validity)))
    return ca.make_crl([5], signer=signer), [cert]
