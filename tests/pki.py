"""A tiny test PKI: CAs, client certificates and CRLs made with ``cryptography``'s builders.

Modelled on trustme: ``CA().issue_cert()``, ``CA().make_crl()``. For CRLs the builders refuse to
make (negative or non-minimal serials, arbitrary raw entries), :func:`resign_crl` rewrites a
builder-made CRL's TBSCertList and signs it again with the CA key, so every CRL here is still a
genuinely signed CRL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)  # thisUpdate of CRLs made here by default
NOW = dt.datetime(2026, 1, 15, tzinfo=UTC)  # the pinned "now" of tests
NEXT = dt.datetime(2026, 2, 1, tzinfo=UTC)  # nextUpdate of CRLs made here by default

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def make_key(kind: str = "ec") -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def name(cn: str, org: str = "crlcheck tests") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class Leaf:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> bytes:
        return pem(self.cert)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def serial(self) -> int:
        return self.cert.serial_number


@dataclass
class Revoked:
    """One CRL entry to make."""

    serial: int
    date: dt.datetime = dt.datetime(2025, 12, 1, tzinfo=UTC)
    reason: x509.ReasonFlags | None = None
    extensions: Sequence[x509.ExtensionType | tuple[x509.ExtensionType, bool]] = ()


@dataclass
class CA:
    """A certificate authority. ``CA()`` is a self-signed root; ``parent.child()`` issues one."""

    cn: str = "crlcheck Test CA"
    kind: str = "ec"
    key_usage: x509.KeyUsage | bool | None = True
    subject: x509.Name | None = None
    # Validity of every certificate this CA makes (itself, its leaves and CRL signers).
    not_before: dt.datetime = dt.datetime(2025, 1, 1, tzinfo=UTC)
    not_after: dt.datetime = dt.datetime(2035, 1, 1, tzinfo=UTC)
    key: PrivateKey = field(init=False)
    cert: x509.Certificate = field(init=False)
    _next_serial: int = field(init=False, default=0x1000)

    def __post_init__(self) -> None:
        self.key = make_key(self.kind)
        subject = self.subject or name(self.cn)
        self.cert = self._build(
            subject, subject, self.key, self.key.public_key(), ca=True, key_usage=self.key_usage
        )

    def _build(
        self,
        subject: x509.Name,
        issuer: x509.Name,
        signing_key: PrivateKey,
        public_key: object,
        *,
        ca: bool,
        serial: int | None = None,
        key_usage: x509.KeyUsage | bool | None = True,
        extra: Iterable[tuple[x509.ExtensionType, bool]] = (),
        validity: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> x509.Certificate:
        not_before, not_after = validity or (self.not_before, self.not_after)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(serial if serial is not None else x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(public_key),  # type: ignore[arg-type]
                critical=False,
            )
        )
        if key_usage is True:
            key_usage = x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            )
        if isinstance(key_usage, x509.KeyUsage):
            builder = builder.add_extension(key_usage, critical=True)
        for ext, critical in extra:
            builder = builder.add_extension(ext, critical=critical)
        return builder.sign(signing_key, _hash_for(signing_key))  # type: ignore[arg-type]

    @property
    def name(self) -> x509.Name:
        return self.cert.subject

    @property
    def pem(self) -> bytes:
        return pem(self.cert)

    def issue_cert(
        self,
        cn: str = "client",
        *,
        serial: int | None = None,
        crl_distribution_points: Sequence[str] = (),
        ca: bool = False,
    ) -> Leaf:
        """Issue a client (end-entity) certificate; ``serial`` defaults to a fresh small one."""
        if serial is None:
            self._next_serial += 1
            serial = self._next_serial
        key = make_key("ec")
        extra: list[tuple[x509.ExtensionType, bool]] = [
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
            (
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.key.public_key()  # type: ignore[arg-type]
                ),
                False,
            ),
        ]
        if crl_distribution_points:
            extra.append(
                (
                    x509.CRLDistributionPoints(
                        [
                            x509.DistributionPoint(
                                [x509.UniformResourceIdentifier(u)], None, None, None
                            )
                            for u in crl_distribution_points
                        ]
                    ),
                    False,
                )
            )
        cert = self._build(
            name(cn), self.name, self.key, key.public_key(), ca=ca, serial=serial, extra=extra
        )
        return Leaf(cert, key)

    def crl_signer(
        self,
        *,
        key_usage: x509.KeyUsage | bool | None = True,
        kind: str = "ec",
        key: PrivateKey | None = None,
        validity: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> Leaf:
        """A separate CRL-signing certificate with this CA's subject name and a new key (or
        ``key``, for a renewed signer), valid over ``validity`` (default: the CA's)."""
        key = key or make_key(kind)
        if key_usage is True:
            key_usage = x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            )
        cert = self._build(
            self.name,
            self.name,
            self.key,
            key.public_key(),
            ca=False,
            key_usage=key_usage,
            validity=validity,
        )
        return Leaf(cert, key)

    def make_crl(
        self,
        revoked: Iterable[int | Revoked] = (),
        *,
        this_update: dt.datetime = T0,
        next_update: dt.datetime | None = NEXT,
        number: int | None = 1,
        extensions: Iterable[tuple[x509.ExtensionType, bool]] = (),
        signer: Leaf | None = None,
        issuer: x509.Name | None = None,
        algorithm: hashes.HashAlgorithm | None = None,
        pem_output: bool = False,
    ) -> bytes:
        """Make and sign a CRL; DER unless ``pem_output``.

        ``next_update=None`` makes a CRL without nextUpdate (the builder requires one, so the
        field is removed and the CRL signed again).
        """
        entries = []
        for item in revoked:
            r = item if isinstance(item, Revoked) else Revoked(item)
            b = x509.RevokedCertificateBuilder().serial_number(r.serial).revocation_date(r.date)
            if r.reason is not None:
                b = b.add_extension(x509.CRLReason(r.reason), critical=False)
            for ext in r.extensions:
                ext_value, critical = ext if isinstance(ext, tuple) else (ext, False)
                b = b.add_extension(ext_value, critical=critical)
            entries.append(b.build())
        builder = x509.CertificateRevocationListBuilder(
            issuer_name=issuer or self.name,
            last_update=this_update,
            next_update=next_update or this_update + dt.timedelta(days=1),
            revoked_certificates=entries,
        )
        if number is not None:
            builder = builder.add_extension(x509.CRLNumber(number), critical=False)
        signing_key = signer.key if signer else self.key
        for ext, critical in extensions:
            builder = builder.add_extension(ext, critical=critical)
        crl = builder.sign(signing_key, algorithm or _hash_for(signing_key))  # type: ignore[arg-type]
        der = crl.public_bytes(serialization.Encoding.DER)
        if next_update is None:
            der = resign_crl(der, signing_key, drop_next_update)
        if pem_output:
            return to_pem(der)
        return der


def to_pem(der: bytes, label: str = "X509 CRL") -> bytes:
    import base64

    body = base64.encodebytes(der).decode("ascii")
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n".encode()


# --- raw DER, for CRLs the builders refuse to make -------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def der_integer(value: int) -> bytes:
    """A minimal two's-complement DER INTEGER, any sign."""
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def der_utctime(value: dt.datetime) -> bytes:
    return tlv(0x17, value.strftime("%y%m%d%H%M%SZ").encode())


def read_tlv(buf: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content_start, end) of the element at ``pos``."""
    tag = buf[pos]
    first = buf[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    count = first & 0x7F
    length = int.from_bytes(buf[pos + 2 : pos + 2 + count], "big")
    start = pos + 2 + count
    return tag, start, start + length


def children(buf: bytes, start: int, end: int) -> list[bytes]:
    out = []
    pos = start
    while pos < end:
        _, _, e = read_tlv(buf, pos)
        out.append(buf[pos:e])
        pos = e
    return out


def split_crl(der: bytes) -> tuple[list[bytes], bytes, bytes]:
    """(TBSCertList fields, signatureAlgorithm TLV, signature BIT STRING TLV)."""
    _, cs, ce = read_tlv(der, 0)
    tbs, alg, sig = children(der, cs, ce)
    _, ts, te = read_tlv(tbs, 0)
    return children(tbs, ts, te), alg, sig


def resign_crl(
    der: bytes,
    key: PrivateKey,
    edit: Callable[[list[bytes]], list[bytes]],
    *,
    outer_alg: bytes | None = None,
) -> bytes:
    """Rewrite a CRL's TBSCertList fields with ``edit`` and sign the result with ``key``."""
    fields, alg, _ = split_crl(der)
    tbs = tlv(0x30, b"".join(edit(list(fields))))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(tbs)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    else:
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return tlv(0x30, tbs + (outer_alg or alg) + tlv(0x03, b"\x00" + signature))


def _field_index(fields: list[bytes], tags: tuple[int, ...], after: int) -> int:
    for i in range(after, len(fields)):
        if fields[i][0] in tags:
            return i
    return -1


def drop_next_update(fields: list[bytes]) -> list[bytes]:
    """Edit for :func:`resign_crl`: remove nextUpdate."""
    first = 1 if fields[0][0] == 0x02 else 0
    this_update = first + 2
    if fields[this_update + 1][0] in (0x17, 0x18):
        del fields[this_update + 1]
    return fields


def replace_entries(entries: Sequence[bytes]) -> Callable[[list[bytes]], list[bytes]]:
    """Edit for :func:`resign_crl`: set revokedCertificates to these raw entry TLVs."""

    def edit(fields: list[bytes]) -> list[bytes]:
        first = 1 if fields[0][0] == 0x02 else 0
        pos = first + 3  # after signature, issuer, thisUpdate
        if pos < len(fields) and fields[pos][0] in (0x17, 0x18):
            pos += 1
        if pos < len(fields) and fields[pos][0] == 0x30:
            del fields[pos]
        if entries:
            fields.insert(pos, tlv(0x30, b"".join(entries)))
        return fields

    return edit


def raw_entry(
    serial: int | bytes,
    date: dt.datetime = dt.datetime(2025, 12, 1, tzinfo=UTC),
    extensions: bytes = b"",
) -> bytes:
    """One revokedCertificates entry; ``serial`` as an int or as raw INTEGER content bytes."""
    integer = der_integer(serial) if isinstance(serial, int) else tlv(0x02, serial)
    return tlv(0x30, integer + der_utctime(date) + extensions)


def crl_with_entries(ca: CA, entries: Sequence[bytes], **kwargs: object) -> bytes:
    """A CRL by ``ca`` whose revokedCertificates are exactly these raw entries."""
    return resign_crl(ca.make_crl(**kwargs), ca.key, replace_entries(entries))  # type: ignore[arg-type]


def der_oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER TLV from its dotted text."""
    arcs = [int(a) for a in dotted.split(".")]
    content = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        content += bytes(reversed(chunk))
    return tlv(0x06, bytes(content))


def der_generalizedtime(value: dt.datetime) -> bytes:
    return tlv(0x18, value.strftime("%Y%m%d%H%M%SZ").encode())


def entry_extension(oid: str, value: bytes, *, critical: bool = False) -> bytes:
    """One Extension TLV; ``value`` is the DER inside the extnValue OCTET STRING."""
    flag = tlv(0x01, b"\xff") if critical else b""
    return tlv(0x30, der_oid(oid) + flag + tlv(0x04, value))


def entry_extensions(*extensions: bytes) -> bytes:
    """The crlEntryExtensions field (a SEQUENCE of Extension) for :func:`raw_entry`."""
    return tlv(0x30, b"".join(extensions))


def reason_code(code: int, *, critical: bool = False) -> bytes:
    """A reasonCode entry extension with any code, including ones the builders refuse."""
    return entry_extension("2.5.29.21", tlv(0x0A, bytes([code])), critical=critical)


def cert_with_serial(ca: CA, cert: x509.Certificate, serial: int) -> bytes:
    """``cert`` (DER) with its serial replaced by any integer, re-signed by ``ca``.

    The builders refuse negative, zero and over-long serials; certificates with them exist.
    """

    def edit(fields: list[bytes]) -> list[bytes]:
        fields[1] = der_integer(serial)  # after the [0] version
        return fields

    return resign_crl(cert.public_bytes(serialization.Encoding.DER), ca.key, edit)


def cert_with_duplicate_extension(ca: CA, cert: x509.Certificate) -> bytes:
    """``cert`` (DER) with its first extension listed twice, re-signed by ``ca``.

    ``cryptography`` loads it and raises only when the extensions are first read.
    """

    def edit(fields: list[bytes]) -> list[bytes]:
        _, start, _ = read_tlv(fields[-1], 0)  # [3] EXPLICIT
        _, seq_start, seq_end = read_tlv(fields[-1], start)
        extensions = children(fields[-1], seq_start, seq_end)
        fields[-1] = tlv(0xA3, tlv(0x30, b"".join([*extensions, extensions[0]])))
        return fields

    return resign_crl(cert.public_bytes(serialization.Encoding.DER), ca.key, edit)


def idp(**flags: object) -> x509.IssuingDistributionPoint:
    """An IssuingDistributionPoint with every field at its default unless given."""
    args: dict[str, object] = {
        "full_name": None,
        "relative_name": None,
        "only_contains_user_certs": False,
        "only_contains_ca_certs": False,
        "only_some_reasons": None,
        "indirect_crl": False,
        "only_contains_attribute_certs": False,
    }
    args.update(flags)
    return x509.IssuingDistributionPoint(**args)  # type: ignore[arg-type]


def unknown_extension(oid: str) -> x509.UnrecognizedExtension:
    """An extension no one understands (value: DER NULL)."""
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), b"\x05\x00")
