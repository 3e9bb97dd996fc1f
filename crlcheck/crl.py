"""Loading and verifying X.509 CRLs (RFC 5280 §5 and §6.3.3).

Theory of operation
-------------------
:func:`load_crl` parses a CRL with ``cryptography`` (strict DER; PEM is unwrapped first) and
locates, with a tiny DER reader, the byte span of ``revokedCertificates`` without touching the
entries. It also reads thisUpdate, nextUpdate and the cRLNumber once, so that a value Python
cannot represent (GeneralizedTime year 0000, a cRLNumber of megabytes) is a
:class:`CRLFieldRangeError` here and no later read of a :class:`CRL` property can raise. Nothing
in a loaded :class:`CRL` is trusted yet.

:func:`verify_crl` then decides whether to trust it, in this order, and only then walks the
entries:

1. pick the signer among the offered certificates by issuer name (§6.3.3 (b)(1)/(f)), and
   refuse a SHA-1-based signature algorithm unless ``allow_sha1``,
2. verify the signature (§6.3.3 (g)), the signer's keyUsage cRLSign bit (§4.2.1.3) and the
   signer certificate's validity period at ``now`` (§6.3.3 (f)),
3. refuse what would make the CRL incomplete or unintelligible: a deltaCRLIndicator (§5.2.4),
   an indirect CRL (§5.2.5, §5.3.3), an IDP limited to some reasons or to CA/attribute
   certificates (§5.2.5), any critical extension we do not implement (§5.2),
4. check the validity window against an explicit ``now`` (§6.3.3 (a)(2)): nextUpdate must be
   present and in the future, thisUpdate not later than ``now`` plus a small clock skew,
5. walk the revoked entries: refuse unknown critical entry extensions and certificateIssuer,
   validate reason codes, and build the sorted key list of a :class:`RevocationSet`; refuse a
   revocationDate in year 0000.

Walking entries only after the signature verified means an attacker who cannot sign CRLs
cannot make us spend time on a million forged entries.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import operator
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import ExtensionOID

from crlcheck import _der
from crlcheck._time import format_utc
from crlcheck.errors import (
    CertificateParseError,
    CRLFieldRangeError,
    CRLIssuerMismatchError,
    CRLNotYetValidError,
    CRLParseError,
    CRLSignatureError,
    CRLSignerError,
    CRLSignerExpiredError,
    CRLStaleError,
    CRLWeakSignatureError,
    DeltaCRLError,
    IndirectCRLError,
    PartialCRLError,
    UnsupportedCRLExtensionError,
)
from crlcheck.revset import (
    DEFAULT_CLOCK_SKEW,
    DETAIL_SIZE,
    NO_REASON,
    CRLInfo,
    RevocationSet,
    general_name_text,
    keys_increasing,
)
from crlcheck.serial import decode_serial, format_serial

__all__ = [
    "CRL",
    "DEFAULT_CLOCK_SKEW",
    "MAX_CRL_NUMBER",
    "load_certificate",
    "load_certificates",
    "load_crl",
    "verify_crl",
]


# CRL extensions whose semantics crlcheck implements or may safely ignore (RFC 5280 §5.2).
_UNDERSTOOD_CRL_EXTENSIONS = frozenset(
    {
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.ISSUER_ALTERNATIVE_NAME,
        ExtensionOID.CRL_NUMBER,
        ExtensionOID.ISSUING_DISTRIBUTION_POINT,
        ExtensionOID.FRESHEST_CRL,
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    }
)

# CRL entry extension OIDs as DER content bytes (RFC 5280 §5.3).
_OID_REASON_CODE = bytes.fromhex("551d15")  # 2.5.29.21
_OID_HOLD_INSTRUCTION = bytes.fromhex("551d17")  # 2.5.29.23
_OID_INVALIDITY_DATE = bytes.fromhex("551d18")  # 2.5.29.24
_OID_CERTIFICATE_ISSUER = bytes.fromhex("551d1d")  # 2.5.29.29
_UNDERSTOOD_ENTRY_EXTENSIONS = frozenset(
    {_OID_REASON_CODE, _OID_HOLD_INSTRUCTION, _OID_INVALIDITY_DATE}
)

# The overwhelmingly common entry extension list: exactly one non-critical reasonCode.
# SEQUENCE { SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED <code> } } }
_REASON_ONLY = bytes.fromhex("300c300a0603551d1504030a01")

# Reason codes allowed in a complete CRL: 7 is unassigned, 8 (removeFromCRL) is delta-only.
_COMPLETE_CRL_REASONS = frozenset({0, 1, 2, 3, 4, 5, 6, 9, 10})

_PEM_MARKER = b"-----BEGIN"


@dataclass(frozen=True, slots=True)
class CRL:
    """A parsed CRL that has NOT been verified. Create it with :func:`load_crl`.

    Attributes:
        crl: The ``cryptography`` object.
        der: The CRL's DER encoding.
        source_sha256: SHA-256 of the bytes that were loaded (PEM or DER), lowercase hex.
    """

    crl: x509.CertificateRevocationList
    der: bytes
    source_sha256: str
    _tbs_start: int
    _tbs_end: int
    _revoked_start: int
    _revoked_end: int

    @property
    def tbs(self) -> bytes:
        """The TBSCertList bytes exactly as signed."""
        return self.der[self._tbs_start : self._tbs_end]

    @property
    def issuer(self) -> x509.Name:
        """The CRL issuer name."""
        return self.crl.issuer

    @property
    def this_update(self) -> datetime:
        """thisUpdate, aware UTC (its year is representable: checked at load)."""
        return self.crl.last_update_utc

    @property
    def next_update(self) -> datetime | None:
        """nextUpdate, aware UTC, or None when the CRL has none (checked at load)."""
        return self.crl.next_update_utc

    @property
    def crl_number(self) -> int | None:
        """The cRLNumber extension value (0 to 2**159 - 1: checked at load), or None."""
        return _crl_number(self.crl)

    @property
    def authority_key_id(self) -> bytes | None:
        """The authorityKeyIdentifier keyIdentifier, or None."""
        try:
            aki = self.crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        except x509.ExtensionNotFound:
            return None
        return aki.value.key_identifier

    @property
    def signature_algorithm(self) -> str:
        """The signature algorithm's name (e.g. ``sha256WithRSAEncryption``), or its dotted OID."""
        return _algorithm_name(self.crl)

    @property
    def entry_bytes(self) -> int:
        """Size in bytes of the revokedCertificates field (a cheap size hint for progress)."""
        return self._revoked_end - self._revoked_start


def load_crl(data: bytes) -> CRL:
    """Parse a DER or PEM (autodetected) X.509 CRL without trusting it.

    Args:
        data: The CRL bytes.

    Returns:
        The parsed, unverified CRL.

    Raises:
        CRLParseError: If ``data`` is not a well-formed CRL.
        CRLFieldRangeError: If thisUpdate or nextUpdate has a year outside 1-9999, or the
            cRLNumber is negative or longer than 20 octets (a :class:`CRLParseError` subclass).
    """
    if not data:
        raise CRLParseError("empty input: not a CRL")
    der = _pem_to_der(data) if data.lstrip()[: len(_PEM_MARKER)] == _PEM_MARKER else data
    try:
        # cryptography parses strictly and eagerly: every entry's DER is validated here.
        crl = x509.load_der_x509_crl(der)
        # Touch the lazily parsed fields now so that duplicate or malformed extensions, or an
        # issuer Name with an invalid attribute value, refuse the load instead of raising
        # ValueError later from a property.
        _ = crl.extensions
        _ = crl.issuer.rfc4514_string()
    except Exception as exc:  # cryptography raises ValueError and others; all mean "malformed".
        raise CRLParseError(f"not a valid X.509 CRL: {exc}") from exc
    _check_ranges(crl)
    try:
        tbs_start, tbs_end, start, end = _locate_fields(der)
    except _der.DERError as exc:
        raise CRLParseError(f"malformed CRL structure: {exc}") from exc
    return CRL(crl, der, hashlib.sha256(data).hexdigest(), tbs_start, tbs_end, start, end)


# The largest cRLNumber RFC 5280 §5.2.3 allows: a non-negative INTEGER of at most 20 octets.
MAX_CRL_NUMBER = (1 << 159) - 1


def _check_ranges(crl: x509.CertificateRevocationList) -> None:
    """Refuse now the CRL values Python cannot represent, so that no later read can raise.

    ``cryptography`` accepts GeneralizedTime year 0000, and ``last_update_utc`` (or
    ``next_update_utc``) then raises ValueError on every read; it accepts a cRLNumber of any
    length, which ``str()`` refuses beyond ``sys.get_int_max_str_digits()`` digits. RFC 5280
    §5.2.3 limits cRLNumber to 20 octets, far below that, and requires it to be non-negative.

    Raises:
        CRLFieldRangeError: For a value out of range.
    """
    try:
        _ = crl.last_update_utc
    except (ValueError, OverflowError) as exc:
        raise _year_out_of_range("thisUpdate", exc) from exc
    try:
        _ = crl.next_update_utc
    except (ValueError, OverflowError) as exc:
        raise _year_out_of_range("nextUpdate", exc) from exc
    number = _crl_number(crl)
    if number is not None and not 0 <= number <= MAX_CRL_NUMBER:
        # Neither the number nor its decimal text in the message: it may be megabytes long.
        what = "negative" if number < 0 else f"{number.bit_length() // 8 + 1} octets long"
        raise CRLFieldRangeError(
            f"the CRL's cRLNumber is {what}; RFC 5280 §5.2.3 allows 0 to 20 octets",
            field="cRLNumber",
        )


def _year_out_of_range(field: str, exc: Exception) -> CRLFieldRangeError:
    return CRLFieldRangeError(
        f"the CRL's {field} is outside the years 1-9999 crlcheck can represent ({exc})",
        field=field,
    )


def _crl_number(crl: x509.CertificateRevocationList) -> int | None:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None


_PEM_HEADER_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n")


def _pem_to_der(data: bytes) -> bytes:
    """Unwrap the first PEM block, which must be labelled ``X509 CRL`` (RFC 7468 §5).

    Linear time on hostile input: the first BEGIN line is found by a regex that cannot
    backtrack across lines, and its END line with ``bytes.find``. (One regex spanning
    BEGIN...END, searched from every BEGIN, is quadratic: 200 kB of BEGIN lines took 20 s.)
    """
    header = _PEM_HEADER_RE.search(data)
    end = -1
    if header is not None:
        end = data.find(b"-----END " + header.group(1) + b"-----", header.end())
    if header is None or end < 0:
        raise CRLParseError("malformed PEM: no complete BEGIN/END block")
    label = header.group(1).decode("ascii")
    if label != "X509 CRL":
        raise CRLParseError(f"PEM block is {label!r}, expected 'X509 CRL'")
    try:
        return base64.b64decode(b"".join(data[header.end() : end].split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CRLParseError(f"malformed PEM: bad base64 ({exc})") from exc


def _locate_fields(der: bytes) -> tuple[int, int, int, int]:
    """Return the spans of TBSCertList and of revokedCertificates' content; check algorithms."""
    outer = _der.read_tlv(der, 0, len(der))
    if outer.tag != _der.TAG_SEQUENCE or outer.end != len(der):
        raise _der.DERError("CertificateList is not a single SEQUENCE")
    parts = _der.read_children(der, outer)
    if len(parts) != 3:
        raise _der.DERError("CertificateList must have exactly three fields")
    tbs, outer_alg, sig = parts
    # The signature is a whole number of octets: a BIT STRING with zero unused bits. Anything
    # else would let one CRL have several encodings (and source digests) that all verify.
    if sig.tag != _der.TAG_BIT_STRING or sig.end == sig.content_start or der[sig.content_start]:
        raise _der.DERError("signatureValue is not a BIT STRING with zero unused bits")
    fields = _der.read_children(der, tbs)
    i = 0
    if fields and fields[0].tag == _der.TAG_INTEGER:
        i = 1  # version
    if len(fields) < i + 3:
        raise _der.DERError("TBSCertList is too short")
    inner_alg = fields[i]
    # RFC 5280 §5.1.1.2: signatureAlgorithm MUST be identical to TBSCertList.signature.
    if der[inner_alg.start : inner_alg.end] != der[outer_alg.start : outer_alg.end]:
        raise _der.DERError("inner and outer signature algorithms differ")
    i += 3  # signature, issuer, thisUpdate
    if i < len(fields) and fields[i].tag in (_der.TAG_UTC_TIME, _der.TAG_GENERALIZED_TIME):
        i += 1  # nextUpdate
    if i < len(fields) and fields[i].tag == _der.TAG_SEQUENCE:
        return tbs.start, tbs.end, fields[i].content_start, fields[i].end
    return tbs.start, tbs.end, 0, 0


def load_certificate(data: bytes) -> x509.Certificate:
    """Parse one certificate, PEM or DER (autodetected).

    Negative serial numbers are accepted (they are disallowed by RFC 5280 but exist).
    ``cryptography`` warns each time such a serial is *read*, so readers of ``serial_number``
    (like :func:`crlcheck.decide`) suppress that warning themselves.

    Raises:
        CertificateParseError: If ``data`` is not a certificate, or its extensions are malformed.
    """
    if not data:
        raise CertificateParseError("empty input: not a certificate")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if data.lstrip()[: len(_PEM_MARKER)] == _PEM_MARKER:
                cert = x509.load_pem_x509_certificate(data)
            else:
                cert = x509.load_der_x509_certificate(data)
        # Extensions are parsed on first access: a duplicate or malformed one must refuse the
        # load here, not raise DuplicateExtension or ValueError later from a property.
        _ = cert.extensions
    except Exception as exc:
        raise CertificateParseError(f"not a valid X.509 certificate: {exc}") from exc
    return cert


# The one PEM shape read_certificate unwraps itself: a single CERTIFICATE block of non-empty
# base64 lines ending in LF, nothing around it but whitespace. Anything else (CRLF, headers,
# other labels, several blocks) takes the general route, which accepts what cryptography does.
_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----\n"
_PEM_END = b"\n-----END CERTIFICATE-----"
# Outer signatureAlgorithm encodings (complete TLVs) for which cryptography emits no warning
# when it loads the certificate: ECDSA with SHA-2 (no parameters), RSA PKCS #1 v1.5 with SHA-2
# (NULL parameters), Ed25519 and Ed448. Anything else (e.g. ECDSA with NULL parameters, which
# cryptography warns about) takes the general route, whose warnings are suppressed.
_QUIET_SIGNATURE_ALGORITHMS = frozenset(
    bytes.fromhex(h)
    for h in (
        "300a06082a8648ce3d040302",  # ecdsa-with-SHA256
        "300a06082a8648ce3d040303",  # ecdsa-with-SHA384
        "300a06082a8648ce3d040304",  # ecdsa-with-SHA512
        "300d06092a864886f70d01010b0500",  # sha256WithRSAEncryption
        "300d06092a864886f70d01010c0500",  # sha384WithRSAEncryption
        "300d06092a864886f70d01010d0500",  # sha512WithRSAEncryption
        "300506032b6570",  # Ed25519
        "300506032b6571",  # Ed448
    )
)


def _unwrap_pem(data: bytes) -> bytes | None:
    """The DER of a plain single-certificate PEM, or None for any other input.

    None means "not this simple shape" (the caller then takes the general route), never that
    the input is bad. The base64 must be canonical (it re-encodes to the same text): the Rust
    decoder behind cryptography's PEM loader refuses non-canonical padding bits, so accepting
    them here would accept a certificate the general route refuses.
    """
    text = data.strip(b" \t\r\n")
    if not (text.startswith(_PEM_BEGIN) and text.endswith(_PEM_END)):
        return None
    body = text[len(_PEM_BEGIN) : len(text) - len(_PEM_END)]
    # No empty line and no CR: what remains is one or more non-empty lines.
    if not body or body[0] == 0x0A or body[-1] == 0x0A or b"\r" in body or b"\n\n" in body:
        return None
    encoded = body.translate(None, b"\n")
    if len(encoded) % 4:
        return None
    try:
        der = binascii.a2b_base64(encoded, strict_mode=True)  # Only the base64 alphabet.
    except binascii.Error:
        return None
    # Only the last group of four characters can carry unused bits (before its padding).
    last = 3 * (len(encoded) // 4 - 1)
    if binascii.b2a_base64(der[last:], newline=False) != encoded[-4:]:
        return None
    return der


def _serial_and_issuer(der: bytes) -> tuple[int, bytes, bytes]:
    """The serial, the issuer Name TLV and the signature AlgorithmIdentifier TLV of a certificate.

    Read from the DER (RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate,
    signatureAlgorithm, signatureValue }; TBSCertificate ::= SEQUENCE { [0] version OPTIONAL,
    serialNumber INTEGER, signature AlgorithmIdentifier, issuer Name, ... }) without building
    cryptography's objects. The serial is the exact two's-complement value, any sign. The
    algorithm is returned only when the outer signatureAlgorithm is the same bytes (RFC 5280
    §4.1.1.2 requires it), else empty.

    Raises:
        _der.DERError: If the bytes do not have that structure.
    """
    size = len(der)
    cert_start, cert_end = _der.expect(der, 0, _der.TAG_SEQUENCE, size)
    if cert_end != size:
        raise _der.DERError("trailing bytes after the certificate")
    tbs_start, tbs_end = _der.expect(der, cert_start, _der.TAG_SEQUENCE, size)
    pos = tbs_start
    if pos < tbs_end and der[pos] == _der.TAG_CONTEXT_0:
        pos = _der.expect(der, pos, _der.TAG_CONTEXT_0, tbs_end)[1]  # version
    serial_start, serial_end = _der.expect(der, pos, _der.TAG_INTEGER, tbs_end)
    if serial_end == serial_start:
        raise _der.DERError("empty serialNumber")
    serial = int.from_bytes(der[serial_start:serial_end], "big", signed=True)
    alg_end = _der.expect(der, serial_end, _der.TAG_SEQUENCE, tbs_end)[1]
    issuer_end = _der.expect(der, alg_end, _der.TAG_SEQUENCE, tbs_end)[1]
    algorithm = der[serial_end:alg_end]
    if der[tbs_end : tbs_end + len(algorithm)] != algorithm:
        algorithm = b""
    return serial, der[alg_end:issuer_end], algorithm


def read_certificate(data: bytes) -> tuple[x509.Certificate, int, bytes] | None:
    """Parse a client certificate and read its serial and issuer Name DER, on the quick route.

    For the usual input (DER, or one plain PEM block, with a positive serial and a common
    signature algorithm), this is what :func:`load_certificate` followed by ``serial_number``
    and ``issuer.public_bytes()`` returns, without the warnings machinery (~15 µs: the
    certificates cryptography warns about on load, with a negative or zero serial or an unusual
    algorithm encoding, take the general route) and without building the issuer's Python
    objects (~35 µs). The issuer is the Name exactly as encoded in the certificate;
    cryptography's ``public_bytes()`` re-encodes the parsed Name, which is the same bytes for a
    DER Name (callers comparing against a re-encoded name fall back on a mismatch).

    Returns:
        ``(certificate, serial, issuer_der)``, or None when the input needs the general route
        (:func:`load_certificate`): unusual PEM, a non-positive serial, an uncommon signature
        algorithm, or anything that does not parse. None never means "valid" or "invalid".
    """
    try:
        der = data if data[:1] == b"\x30" else _unwrap_pem(data)
        if der is None:
            return None
        serial, issuer_der, algorithm = _serial_and_issuer(der)
        if serial <= 0 or algorithm not in _QUIET_SIGNATURE_ALGORITHMS:
            return None
        cert = x509.load_der_x509_certificate(der)
        _ = cert.extensions  # See load_certificate.
    except Exception:  # The general route reports the error, with its own message.
        return None
    return cert, serial, issuer_der


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Parse a PEM bundle of one or more certificates, or one DER certificate.

    Raises:
        CertificateParseError: If ``data`` holds no certificate or a malformed one.
    """
    if data.lstrip()[: len(_PEM_MARKER)] != _PEM_MARKER:
        return [load_certificate(data)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            certs = x509.load_pem_x509_certificates(data)
        for cert in certs:
            _ = cert.extensions  # See load_certificate.
    except Exception as exc:
        raise CertificateParseError(f"not a valid PEM certificate bundle: {exc}") from exc
    return certs


def _key_usage_allows_crl_sign(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True  # RFC 5280 §4.2.1.3: the check applies only when keyUsage is present.
    except (ValueError, x509.DuplicateExtension):
        return False  # Extensions that do not parse grant nothing.
    return usage.crl_sign


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError, x509.DuplicateExtension):
        return None


def _signature_valid(crl: CRL, signer: x509.Certificate) -> bool:
    """Verify the CRL signature with ``signer``'s key; any failure is False, never an escape.

    This is the verification ``cryptography`` documents for certificates (the key's ``verify``
    with the parsed signature parameters and hash), applied to the TBSCertList bytes exactly as
    they were signed. ``CertificateRevocationList.is_signature_valid`` does the same, but first
    re-encodes the whole TBSCertList, which costs about a second for a million entries.
    """
    signature = crl.crl.signature
    tbs = crl.tbs
    try:
        # Both raise UnsupportedAlgorithm for algorithms cryptography does not know (e.g. MD2).
        params = crl.crl.signature_algorithm_parameters
        digest = crl.crl.signature_hash_algorithm
        key = signer.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            if not isinstance(params, padding.PSS | padding.PKCS1v15) or digest is None:
                return False
            key.verify(signature, tbs, params, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(params, ec.ECDSA):
                return False
            key.verify(signature, tbs, params)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            if params is not None or digest is not None:
                return False
            key.verify(signature, tbs)
        elif isinstance(key, dsa.DSAPublicKey):
            # A DSA algorithm has no parameters; RSA and ECDSA ones do (no algorithm confusion).
            if digest is None or params is not None:
                return False
            key.verify(signature, tbs, digest)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        return False
    return True


# Signature algorithms built on SHA-1, by OID: refused unless allowed (see _check_algorithm).
_SHA1_SIGNATURE_ALGORITHMS = frozenset(
    {
        "1.2.840.113549.1.1.5",  # sha1WithRSAEncryption
        "1.3.14.3.2.29",  # sha1WithRSASignature (OIW)
        "1.2.840.10040.4.3",  # dsa-with-sha1
        "1.2.840.10045.4.1",  # ecdsa-with-SHA1
    }
)


def _check_algorithm(crl: CRL, *, allow_sha1: bool) -> None:
    """Refuse a SHA-1-based signature unless ``allow_sha1``.

    SHA-1 has practical chosen-prefix collisions: a signature over SHA-1 no longer shows that
    the signer meant these bytes. The check is by OID (so that ecdsa-with-SHA1, which
    ``cryptography`` cannot verify, is reported as weak rather than as a bad signature) and by
    hash (RSASSA-PSS whose parameters name SHA-1, or omit the hash: SHA-1 is PSS's default).
    """
    if allow_sha1:
        return
    weak = crl.crl.signature_algorithm_oid.dotted_string in _SHA1_SIGNATURE_ALGORITHMS
    if not weak:
        try:
            weak = isinstance(crl.crl.signature_hash_algorithm, hashes.SHA1)
        except (UnsupportedAlgorithm, TypeError, ValueError):
            weak = False  # An algorithm cryptography does not know fails the signature check.
    if weak:
        name = crl.signature_algorithm
        raise CRLWeakSignatureError(
            f"the CRL is signed with {name} (SHA-1), which is refused; a legacy CA may be"
            " allowed explicitly (allow_sha1=True, --allow-sha1, CRLCHECK_ALLOW_SHA1=true)",
            algorithm=name,
        )


def _validity(cert: x509.Certificate) -> tuple[datetime, datetime] | None:
    """The certificate's (notBefore, notAfter), or None when a year is not representable."""
    try:
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    except (ValueError, OverflowError):
        return None


def _signer_problem(
    cert: x509.Certificate, now: datetime, clock_skew: timedelta
) -> CRLSignerError | None:
    """Why ``cert``, whose key verified the CRL, may not sign it; None when it may.

    Two rules: keyUsage must allow cRLSign (RFC 5280 §4.2.1.3), and the certificate must be
    within its validity period at ``now`` (§6.3.3 (f) validates the CRL issuer's path at the
    evaluation time). notBefore gets the same clock skew as the CRL's thisUpdate: a signer
    certificate issued moments ago on a clock slightly ahead signs CRLs that are accepted.
    """
    subject = cert.subject.rfc4514_string()
    if not _key_usage_allows_crl_sign(cert):
        return CRLSignerError(
            f"signer {subject!r} has keyUsage without cRLSign (or extensions that do not parse)"
        )
    validity = _validity(cert)
    if validity is None:
        return CRLSignerExpiredError(
            f"signer {subject!r} has a validity period crlcheck cannot represent",
            signer=subject,
            not_before=None,
            not_after=None,
            now=now,
        )
    not_before, not_after = validity
    if not_before - now > clock_skew:
        problem = f"is not valid before {format_utc(not_before)}"
    elif now > not_after:
        problem = f"expired at {format_utc(not_after)}"
    else:
        return None
    return CRLSignerExpiredError(
        f"signer {subject!r} {problem} (evaluated at {format_utc(now)})",
        signer=subject,
        not_before=not_before,
        not_after=not_after,
        now=now,
    )


def _select_signer(
    crl: CRL,
    signers: Iterable[x509.Certificate],
    *,
    now: datetime,
    clock_skew: timedelta,
    allow_sha1: bool,
) -> x509.Certificate:
    """Pick the offered certificate that signed the CRL and may sign it (RFC 5280 §6.3.3 (f)).

    Several certificates may share the CRL issuer's name and even its key (a CRL-signing
    certificate renewed with the same key: one expired, one current). The candidates are tried
    best first (allowed to sign CRLs, valid at ``now``, key identifier matching the CRL's AKI);
    the first whose key verifies the signature and that may sign CRLs is the signer. When only
    certificates that may not sign CRLs verify it, the first one's problem is the refusal.
    A SHA-1 signature is refused (unless ``allow_sha1``) once the issuer name has matched, and
    before any signature is verified.
    """
    issuer_der = crl.issuer.public_bytes()
    offered = list(signers)
    matching = [c for c in offered if c.subject.public_bytes() == issuer_der]
    if not matching:
        names = tuple(c.subject.rfc4514_string() for c in offered)
        raise CRLIssuerMismatchError(
            f"no signer certificate has the CRL issuer name {crl.issuer.rfc4514_string()!r}"
            f" (offered: {', '.join(names) or 'none'})",
            crl_issuer=crl.issuer.rfc4514_string(),
            candidates=names,
        )
    _check_algorithm(crl, allow_sha1=allow_sha1)
    aki = crl.authority_key_id

    def preference(cert: x509.Certificate) -> tuple[bool, bool]:
        # Certificates that may sign CRLs now first, then those whose key identifier matches.
        unfit = _signer_problem(cert, now, clock_skew) is not None
        return (unfit, aki is None or _subject_key_id(cert) != aki)

    refusal: CRLSignerError | None = None
    for cert in sorted(matching, key=preference):
        if _signature_valid(crl, cert):
            problem = _signer_problem(cert, now, clock_skew)
            if problem is None:
                return cert
            refusal = refusal or problem
    if refusal is not None:
        raise refusal
    raise CRLSignatureError(
        f"CRL signature does not verify with any of {len(matching)} certificate(s) named "
        f"{crl.issuer.rfc4514_string()!r}"
    )


def _check_extensions(crl: CRL) -> tuple[tuple[str, ...], bool]:
    """Apply the CRL extension rules; return the IDP distribution point names and flags."""
    points: tuple[str, ...] = ()
    only_user = False
    for ext in crl.crl.extensions:
        oid = ext.oid
        if oid == ExtensionOID.DELTA_CRL_INDICATOR:
            raise DeltaCRLError("this is a delta CRL (deltaCRLIndicator); a complete CRL is needed")
        if oid == ExtensionOID.ISSUING_DISTRIBUTION_POINT:
            idp = ext.value
            assert isinstance(idp, x509.IssuingDistributionPoint)  # noqa: S101 (type narrowing)
            if idp.indirect_crl:
                raise IndirectCRLError("indirect CRLs (IDP indirectCRL) are not supported")
            if idp.only_some_reasons:
                raise PartialCRLError("the CRL covers only some revocation reasons (IDP)")
            if idp.only_contains_ca_certs or idp.only_contains_attribute_certs:
                raise PartialCRLError("the CRL does not cover end-entity certificates (IDP)")
            if idp.relative_name is not None:
                raise PartialCRLError("IDP nameRelativeToCRLIssuer is not supported")
            points = tuple(general_name_text(n) for n in idp.full_name or ())
            only_user = idp.only_contains_user_certs
            continue
        if ext.critical and oid not in _UNDERSTOOD_CRL_EXTENSIONS:
            raise UnsupportedCRLExtensionError(
                f"unrecognised critical CRL extension {oid.dotted_string}",
                oid=oid.dotted_string,
                entry=False,
            )
    return points, only_user


def _check_times(crl: CRL, now: datetime, clock_skew: timedelta) -> datetime:
    this_update, next_update = crl.this_update, crl.next_update
    if next_update is None:
        raise CRLStaleError(
            "the CRL has no nextUpdate, so its freshness cannot be judged",
            next_update=None,
            now=now,
        )
    if next_update < this_update:
        raise CRLParseError("the CRL's nextUpdate is before its thisUpdate")
    if this_update - now > clock_skew:
        raise CRLNotYetValidError(
            f"the CRL's thisUpdate {this_update.isoformat()} is in the future",
            this_update=this_update,
            now=now,
        )
    if now >= next_update:
        raise CRLStaleError(
            f"the CRL is stale: nextUpdate {next_update.isoformat()} has passed",
            next_update=next_update,
            now=now,
        )
    return next_update


ProgressCallback = Callable[[int, int], None]


def verify_crl(
    crl: CRL,
    signers: Iterable[x509.Certificate],
    *,
    now: datetime,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    progress: ProgressCallback | None = None,
    allow_sha1: bool = False,
) -> RevocationSet:
    """Verify a loaded CRL and return its revocation set.

    Args:
        crl: The CRL from :func:`load_crl`.
        signers: Candidate signer certificates (e.g. a CA bundle). The one whose subject equals
            the CRL issuer name and whose key verifies the signature is used; it may be the CA
            itself or a separate CRL-signing certificate with the same name.
        now: The evaluation time (aware datetime).
        clock_skew: How far in the future thisUpdate may be.
        progress: Called as ``progress(done_bytes, total_bytes)`` while walking entries.
        allow_sha1: Accept SHA-1-based signatures (sha1WithRSAEncryption, dsa-with-sha1...),
            for legacy CAs only; refused by default.

    Returns:
        The verified revocation set.

    Raises:
        CRLIssuerMismatchError: No signer has the CRL issuer's name.
        CRLWeakSignatureError: The signature algorithm uses SHA-1 and ``allow_sha1`` is False.
        CRLSignatureError: The signature does not verify.
        CRLSignerError: The signer's keyUsage lacks cRLSign.
        CRLSignerExpiredError: The signer certificate is outside its validity period at
            ``now`` (notBefore with ``clock_skew``).
        DeltaCRLError, IndirectCRLError, PartialCRLError, UnsupportedCRLExtensionError: The
            CRL uses features that prevent trusting it as a complete CRL.
        CRLStaleError, CRLNotYetValidError: ``now`` is outside its validity window.
        CRLFieldRangeError: A revocationDate has year 0000 (not representable).
        CRLParseError: An entry is malformed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    signer = _select_signer(crl, signers, now=now, clock_skew=clock_skew, allow_sha1=allow_sha1)
    points, only_user = _check_extensions(crl)
    next_update = _check_times(crl, now, clock_skew)
    width, keys, details = _walk_entries(
        crl.der, crl._revoked_start, crl._revoked_end, progress, len(crl.crl)
    )
    _check_revocation_years(width, keys, details)
    info = CRLInfo(
        issuer=crl.issuer.rfc4514_string(),
        issuer_der=crl.issuer.public_bytes(),
        issuer_key_id=crl.authority_key_id,
        signer_subject=signer.subject.rfc4514_string(),
        signer_sha256=signer.fingerprint(_SHA256()).hex(),
        crl_number=crl.crl_number,
        this_update=crl.this_update,
        next_update=next_update,
        source_sha256=crl.source_sha256,
        signature_algorithm=_algorithm_name(crl.crl),
        distribution_points=points,
        only_user_certs=only_user,
    )
    return RevocationSet(info, width, keys, details, ordered=True)


# bytes.translate table: the digit "0" to 1, every other byte to 0.
_IS_ZERO_DIGIT = bytes(0x30) + b"\x01" + bytes(0xFF - 0x30)


def _check_revocation_years(width: int, keys: bytes, details: bytes) -> None:
    """Refuse a revocationDate in year 0000: GeneralizedTime allows it, ``datetime`` does not.

    Every other date the parser accepted is representable (UTCTime years are 1950-2049). The
    year is the first four bytes of each detail record: each column is cut with one strided
    slice, mapped to 1 where it is "0", and the four columns are ANDed as big integers, so a
    million entries cost a few milliseconds and no object per entry.
    """
    if not details:
        return
    columns = [details[j::DETAIL_SIZE].translate(_IS_ZERO_DIGIT) for j in range(4)]
    zero = functools.reduce(operator.and_, (int.from_bytes(c, "big") for c in columns))
    if not zero:
        return
    index = zero.to_bytes(len(columns[0]), "big").find(b"\x01")
    serial = decode_serial(keys[index * width : (index + 1) * width])
    raise CRLFieldRangeError(
        f"the revocationDate of serial {format_serial(serial)} is in year 0000, which"
        " crlcheck cannot represent",
        field="revocationDate",
    )


def _SHA256() -> hashes.SHA256:  # noqa: N802 (reads like the class it returns)
    return hashes.SHA256()


def _algorithm_name(crl: x509.CertificateRevocationList) -> str:
    oid = crl.signature_algorithm_oid
    name: str = getattr(oid, "_name", "") or oid.dotted_string
    return name


_PROGRESS_STEP = 1 << 22  # Report progress every 4 MiB of entries.


def _build_entry_pattern() -> re.Pattern[bytes]:
    """The regular expression of one revoked entry in its common shapes (the fast paths).

    An entry is ``SEQUENCE { INTEGER serial, Time revocationDate, [Extensions] }`` where the
    extensions, if present, are a non-critical reasonCode, a non-critical invalidityDate, or both.
    Groups: 1 = serial length byte + content, 2 = UTCTime text, 3 = GeneralizedTime text,
    4-6 = the reason code byte (in whichever alternative matched).
    """
    reason = rb"\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01([\x00-\x06\x09\x0a])"
    # invalidityDate is always GeneralizedTime (RFC 5280 §5.3.2).
    inv = rb"(?:\x30\x18\x06\x03\x55\x1d\x18\x04\x11\x18\x0f[0-9]{14}Z)"
    extensions = (
        rb"(?:\x30(?:\x0c"
        + reason
        + rb"|\x1a"
        + inv
        + rb"|\x26(?:"
        + reason
        + inv
        + rb"|"
        + inv
        + reason
        + rb")))?"
    )
    return re.compile(
        rb"\x30[\x00-\x7f]\x02(" + _SERIAL_PATTERN + rb")"
        rb"(?:\x17\x0d(" + _ANY + rb"{13})|\x18\x0f(" + _ANY + rb"{15}))" + extensions
    )


def _build_utc_entry_pattern() -> re.Pattern[bytes]:
    """The pattern of :func:`_walk_utc_entries`: the same entries, UTCTime revocationDate only.

    Groups: 1 = serial length byte + content, 2 = UTCTime text, 3 = the reason code byte (None
    when the entry has no reasonCode). The three extension layouts that carry a reasonCode share
    the one reason group: a lookahead admits a reasonCode-first layout only when an
    invalidityDate follows it, and a lookbehind then requires that invalidityDate.
    """
    reason_prefix = rb"\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01"
    code = rb"[\x00-\x06\x09\x0a]"
    inv = rb"(?:\x30\x18\x06\x03\x55\x1d\x18\x04\x11\x18\x0f[0-9]{14}Z)"
    extensions = (
        rb"(?:\x30\x1a" + inv  # invalidityDate only
        + rb"|\x30(?:\x0c"  # reasonCode only
        + rb"|\x26" + inv  # invalidityDate, reasonCode
        + rb"|\x26(?=" + reason_prefix + code + inv + rb"))"  # reasonCode, invalidityDate
        + reason_prefix + rb"(" + code + rb")"
        + rb"(?:(?<=\x30\x26" + reason_prefix + code + rb")" + inv + rb")?)?"
    )  # fmt: skip
    return re.compile(
        rb"\x30[\x00-\x7f]\x02(" + _SERIAL_PATTERN + rb")\x17\x0d(" + _ANY + rb"{13})" + extensions
    )


# Any one byte. A counted run of `.` under DOTALL is skipped by the regex engine in one step,
# where `[\s\S]{n}` tests a character class n times: the fast path's split is ~40 % faster.
_ANY = rb"(?s:.)"
# A serial: its DER length byte (1-127), then that many bytes. Lengths are tried most common
# first (the regex engine skips a branch whose first literal does not match in one step).
_SERIAL_PATTERN = b"|".join(
    re.escape(bytes((n,))) + _ANY + rb"{%d}" % n
    for n in [*range(16, 23), *range(8, 16), *range(1, 8), *range(23, 0x80)]
)
# Compiled on first use (~8 ms each): the authorizer imports this module but never walks entries.
_entry_re = functools.cache(_build_entry_pattern)
_utc_entry_re = functools.cache(_build_utc_entry_pattern)

# revocationDate as GeneralizedTime text: UTCTime years 50-99 are 19xx, 00-49 are 20xx
# (RFC 5280 §4.1.2.5.1), chosen by the first digit.
_CENTURY = {d: (b"19" if d >= 0x35 else b"20") for d in range(0x30, 0x3A)}
_REASON_BYTE: dict[bytes | None, bytes] = {None: bytes((NO_REASON,))} | {
    bytes((r,)): bytes((r,)) for r in range(11)
}
# The same century rule as bytes.translate tables, for a whole column of first year digits.
_CENTURY_HIGH = bytes.maketrans(b"0123456789", b"2222211111")
_CENTURY_LOW = bytes.maketrans(b"0123456789", b"0000099999")
_BUCKETS_MIN_ENTRIES = 1 << 14  # Fewer entries: bucket by length and sign only.


def _walk_utc_entries(section: bytes, expected: int | None) -> tuple[int, bytes, bytes] | None:
    """The fast path of the common case: every revocationDate a UTCTime, no serial listed twice.

    Returns (width, keys blob, details blob) like :func:`_walk_entries`, or None when the list
    is not of that kind (the caller then takes the general path).

    One ``split`` in the regex engine's C loop cuts the list into serials, dates and reason codes,
    and C-level ``map``/``join`` make one record per entry: serial length byte + content + the
    13 UTCTime bytes + the reason byte. Among DER INTEGERs of one length and sign, byte order is
    numeric order, so the records are sorted in buckets of one (length, first octet) - small
    sorts that stay in cache, ~40 % cheaper than one big sort - and each run of one length and
    sign has fixed-size records. Per run, the keys (a constant offset-binary prefix, then the
    content) and the details (the century from a ``translate`` of the year column) are assembled
    column by column, as in :func:`_columns`, with no object per entry. Runs are concatenated in
    numeric order: negative serials longest first, then the others shortest first. Sorting does
    not rule out a serial listed twice (or, if the parser ever let one through, a non-minimal
    INTEGER that equals a shorter one), so strict order is checked on the result.
    """
    parts = _utc_entry_re().split(section)
    if (expected is not None and len(parts) // 4 != expected) or any(parts[::4]):
        return None
    shift = 0 if len(parts) // 4 >= _BUCKETS_MIN_ENTRIES else 7
    buckets: list[list[bytes]] = [[] for _ in range(0x8000 >> shift)]
    reasons = map(_REASON_BYTE.__getitem__, parts[3::4])
    records = map(b"".join, zip(parts[1::4], parts[2::4], reasons, strict=True))
    for record in records:
        buckets[(record[0] << 8 | record[1]) >> shift].append(record)
    del parts, reasons, records
    runs: dict[tuple[int, int], list[bytes]] = {}
    for index, bucket in enumerate(buckets):
        if bucket:
            bucket.sort()
            length, negative = index << shift >> 8, index << shift & 0x80
            runs.setdefault((0, -length) if negative else (1, length), []).extend(bucket)
    del buckets
    width = max(abs(length) for _, length in runs) + 1  # room for the sign
    keys: list[bytes] = []
    details: list[bytes] = []
    for (sign, length), run in sorted(runs.items()):
        length = abs(length)
        blob = b"".join(run)
        run.clear()
        stride = length + 15  # length byte, content, 13 UTCTime bytes, reason byte
        count = len(blob) // stride
        prefix = b"\x80" + b"\x00" * (width - 1) if sign else b"\x7f" + b"\xff" * (width - 1)
        run_keys = bytearray(prefix) * count
        for j in range(length):
            run_keys[width - length + j :: width] = blob[1 + j :: stride]
        run_details = bytearray(DETAIL_SIZE * count)
        year = blob[1 + length :: stride]
        run_details[0::DETAIL_SIZE] = year.translate(_CENTURY_HIGH)
        run_details[1::DETAIL_SIZE] = year.translate(_CENTURY_LOW)
        for j in range(DETAIL_SIZE - 2):
            run_details[2 + j :: DETAIL_SIZE] = blob[1 + length + j :: stride]
        keys.append(bytes(run_keys))
        details.append(bytes(run_details))
    keys_blob = b"".join(keys)
    if not keys_increasing(keys_blob, width):
        return None  # A serial is listed twice: the general path keeps its first listing.
    return width, keys_blob, b"".join(details)


def _walk_entries(
    der: bytes,
    start: int,
    end: int,
    progress: ProgressCallback | None,
    expected: int | None = None,
) -> tuple[int, bytes, bytes]:
    """Walk revokedCertificates; return (width, sorted unique keys blob, details blob).

    ``cryptography`` has already validated every entry's DER (it parses eagerly) when this runs
    on a loaded CRL. The fast paths extract all entries with one ``split`` in the regex engine's
    C loop, then prove they read every byte, in order: the pieces between matches must all be
    empty and the matches as many as the entries. The first, :func:`_walk_utc_entries`, takes
    the common case (UTCTime dates, no serial listed twice) with no Python code per entry but a
    list append; the second reads GeneralizedTime dates and duplicates with one Python
    expression per entry (at 1M entries: ~1.5 s and ~2.5 s on the benchmark machine). An entry
    of any other shape (critical or unusual extensions, bad reason codes) sends the whole list
    down the slow path, which parses each entry in Python and reports precisely what is wrong.
    """
    if start == end:
        if expected:
            raise CRLParseError(f"the CRL lists {expected} entries but none were found")
        return 2, b"", b""
    section = der[start:end]
    fast = _walk_utc_entries(section, expected)
    if fast is not None:
        if progress is not None:
            progress(end - start, end - start)
        return fast
    # split() returns [gap, serial, utc, gen, r1, r2, r3, gap, serial, ...]: every gap must be
    # empty, i.e. the matches tile the list exactly.
    pattern = _entry_re()
    parts = pattern.split(section)
    del section
    groups = pattern.groups + 1
    if (expected is None or len(parts) // groups == expected) and not any(parts[::groups]):
        if progress is not None:
            progress(end - start, end - start)
        serials = parts[1::groups]
        width = max(map(len, serials))  # The length byte stands in for the sign byte.
        unique = len(set(serials)) == len(serials)
        pos = [b"\x80" + b"\x00" * (width - n - 1) for n in range(width)]
        neg = [b"\x7f" + b"\xff" * (width - n - 1) for n in range(width)]
        century = _CENTURY
        reasons = _REASON_BYTE
        # One record per entry: key + detail, so that one sort orders both.
        records = [
            (neg if s[1] & 0x80 else pos)[s[0]]
            + s[1:]
            + (gen or century[utc[0]] + utc)
            + reasons[r1 or r2 or r3]
            for s, utc, gen, r1, r2, r3 in zip(
                serials,
                parts[2::groups],
                parts[3::groups],
                parts[4::groups],
                parts[5::groups],
                parts[6::groups],
                strict=True,
            )
        ]
        del parts, serials
        return _sort_unique(records, width, unique=unique)
    serials, details = _walk_entries_slowly(der, start, end, progress)
    # (A negative ``expected`` only forces this path, for tests comparing the walkers.)
    if expected is not None and expected >= 0 and len(serials) != expected:
        raise CRLParseError(f"found {len(serials)} revoked entries, the CRL lists {expected}")
    width = max(map(len, serials)) + 1
    pos = [b"\x80" + b"\x00" * (width - n - 1) for n in range(width)]
    neg = [b"\x7f" + b"\xff" * (width - n - 1) for n in range(width)]
    records = [
        (neg if s[0] & 0x80 else pos)[len(s)] + s + d for s, d in zip(serials, details, strict=True)
    ]
    return _sort_unique(records, width, unique=len(set(serials)) == len(serials))


def _sort_unique(records: list[bytes], width: int, *, unique: bool) -> tuple[int, bytes, bytes]:
    """Sort ``key + detail`` records and split them into a keys blob and a details blob.

    Keys are offset-binary (see :mod:`crlcheck.serial`), so sorting whole records sorts by
    serial. When a serial is listed more than once (``unique`` is False) only its first listing
    in sorted order is kept.
    """
    records.sort()
    if not unique:
        kept: list[bytes] = []
        previous = b""
        for record in records:
            if record[:width] != previous:
                kept.append(record)
                previous = record[:width]
        records = kept
    return width, *_columns(b"".join(records), width, width + DETAIL_SIZE)


def _columns(blob: bytes, width: int, stride: int) -> tuple[bytes, bytes]:
    """Split fixed-size records into their first ``width`` bytes and the rest, column by column.

    Each column is one strided slice copy in C, so this costs ``stride`` passes over the data and
    no object per record.
    """
    count = len(blob) // stride
    keys = bytearray(count * width)
    rest = bytearray(count * (stride - width))
    for j in range(width):
        keys[j::width] = blob[j::stride]
    for j in range(stride - width):
        rest[j :: stride - width] = blob[width + j :: stride]
    return bytes(keys), bytes(rest)


def _walk_entries_slowly(
    der: bytes, start: int, end: int, progress: ProgressCallback | None
) -> tuple[list[bytes], list[bytes]]:
    """Parse each entry in Python; return (serial contents, detail records) in CRL order."""
    serials: list[bytes] = []
    details: list[bytes] = []
    add_serial = serials.append
    add_detail = details.append
    no_reason = bytes((NO_REASON,))
    reason_bytes = [bytes((r,)) for r in range(256)]
    next_report = start + _PROGRESS_STEP
    pos = start
    try:
        while pos < end:
            if der[pos] != 0x30:
                raise _der.DERError(f"revoked entry at offset {pos} is not a SEQUENCE")
            n = der[pos + 1]
            if n < 0x80:
                cs = pos + 2
                ce = cs + n
            else:
                tlv = _der.read_tlv(der, pos, end)
                cs, ce = tlv.content_start, tlv.end
            if ce > end:
                raise _der.DERError(f"revoked entry at offset {pos} overruns the list")
            # userCertificate CertificateSerialNumber (INTEGER)
            if der[cs] != 0x02:
                raise _der.DERError(f"revoked entry at offset {pos} has no serial INTEGER")
            sl = der[cs + 1]
            if sl == 0 or sl >= 0x80:
                tlv = _der.read_tlv(der, cs, ce)
                if tlv.tag != 0x02 or tlv.end == tlv.content_start:
                    raise _der.DERError(f"bad serial INTEGER at offset {cs}")
                s = der[tlv.content_start : tlv.end]
                j = tlv.end
            else:
                j = cs + 2 + sl
                s = der[cs + 2 : j]
            if len(s) > 1 and ((s[0] == 0 and s[1] < 0x80) or (s[0] == 0xFF and s[1] >= 0x80)):
                raise _der.DERError(f"non-minimal serial INTEGER at offset {cs}")
            # revocationDate Time
            t = der[j]
            if t == 0x17 and der[j + 1] == 13:
                date = (b"19" if der[j + 2] >= 0x35 else b"20") + der[j + 2 : j + 15]
                j += 15
            elif t == 0x18 and der[j + 1] == 15:
                date = der[j + 2 : j + 17]
                j += 17
            else:
                raise _der.DERError(f"bad revocationDate at offset {j}")
            if j == ce:
                reason = no_reason
            elif ce - j == 14 and der[j : j + 13] == _REASON_ONLY:
                code = der[j + 13]
                if code not in _COMPLETE_CRL_REASONS:
                    raise _bad_reason(code, j)
                reason = reason_bytes[code]
            elif j > ce:
                raise _der.DERError(f"revoked entry at offset {pos} overruns itself")
            else:
                reason = reason_bytes[_entry_extensions(der, j, ce)]
            add_serial(s)
            add_detail(date + reason)
            pos = ce
            if pos >= next_report and progress is not None:
                progress(pos - start, end - start)
                next_report = pos + _PROGRESS_STEP
    except IndexError as exc:
        raise CRLParseError(f"truncated revoked entry at offset {pos}") from exc
    except _der.DERError as exc:
        raise CRLParseError(f"malformed revoked entry: {exc}") from exc
    if progress is not None and end > start:
        progress(end - start, end - start)

    return serials, details


def _bad_reason(code: int, offset: int) -> CRLParseError:
    if code == 8:
        return CRLParseError(f"removeFromCRL entry at offset {offset} in a complete CRL")
    return CRLParseError(f"invalid CRLReason code {code} at offset {offset}")


def _entry_extensions(der: bytes, pos: int, end: int) -> int:
    """Parse a crlEntryExtensions field; return the reason code (NO_REASON when absent)."""
    seq = _der.read_tlv(der, pos, end)
    if seq.tag != _der.TAG_SEQUENCE or seq.end != end:
        raise _der.DERError(f"bad crlEntryExtensions at offset {pos}")
    reason = NO_REASON
    seen: set[bytes] = set()
    for ext in _der.read_children(der, seq):
        if ext.tag != _der.TAG_SEQUENCE:
            raise _der.DERError(f"bad entry extension at offset {ext.start}")
        fields = _der.read_children(der, ext)
        if not 2 <= len(fields) <= 3 or fields[0].tag != _der.TAG_OID:
            raise _der.DERError(f"bad entry extension at offset {ext.start}")
        oid = der[fields[0].content_start : fields[0].end]
        critical = False
        if len(fields) == 3:
            flag = fields[1]
            if flag.tag != _der.TAG_BOOLEAN or flag.end - flag.content_start != 1:
                raise _der.DERError(f"bad critical flag at offset {flag.start}")
            # DER: TRUE is 0xFF and a FALSE default is omitted, never encoded.
            if der[flag.content_start] != 0xFF:
                raise _der.DERError(f"non-DER critical flag at offset {flag.start}")
            critical = True
        value = fields[-1]
        if value.tag != _der.TAG_OCTET_STRING:
            raise _der.DERError(f"bad entry extension value at offset {value.start}")
        if oid in seen:
            raise _der.DERError(f"duplicate entry extension at offset {ext.start}")
        seen.add(oid)
        if oid == _OID_CERTIFICATE_ISSUER:
            raise IndirectCRLError("certificateIssuer entry extension: indirect CRLs unsupported")
        if oid == _OID_REASON_CODE:
            inner = _der.read_tlv(der, value.content_start, value.end)
            if (
                inner.tag != _der.TAG_ENUMERATED
                or inner.end != value.end
                or inner.end - inner.content_start != 1
            ):
                raise _der.DERError(f"bad reasonCode at offset {value.start}")
            reason = der[inner.content_start]
            if reason not in _COMPLETE_CRL_REASONS:
                raise _bad_reason(reason, value.start)
        elif critical and oid not in _UNDERSTOOD_ENTRY_EXTENSIONS:
            dotted = _oid_text(oid)
            raise UnsupportedCRLExtensionError(
                f"unrecognised critical CRL entry extension {dotted}", oid=dotted, entry=True
            )
    return reason


def _oid_text(content: bytes) -> str:
    """Dotted text of OID content bytes (for messages only)."""
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return "?"
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])
