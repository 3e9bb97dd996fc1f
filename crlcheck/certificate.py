"""Reading certificates: signer bundles, and client certificates on the request path.

:func:`load_certificate` and :func:`load_certificates` accept what ``cryptography`` accepts (PEM
or DER, autodetected) and translate its errors into :class:`CertificateParseError`, whose message
says what the input is instead (a private key, a CRL, truncated DER: :mod:`crlcheck._describe`).
:func:`read_certificate` is the request path's quick route: for the usual client certificate it
reads the serial and the issuer Name's DER straight from the certificate's own DER (RFC 5280
§4.1), without the warnings machinery and without building ``cryptography``'s Name objects.

Every function here takes ``bytes`` or ``str`` (API Gateway delivers the PEM as text); any other
type is a :class:`TypeError` that says what is expected.
"""

from __future__ import annotations

import binascii
import warnings

from cryptography import x509

from crlcheck import _der
from crlcheck._describe import refusal
from crlcheck.errors import CertificateParseError

__all__ = [
    "as_bytes",
    "load_certificate",
    "load_certificates",
    "parse_certificate",
    "read_certificate",
    "read_identity",
    "read_serial",
]

PEM_MARKER = b"-----BEGIN"


def as_bytes(data: bytes | str, what: str) -> bytes:
    """``data`` as bytes: PEM text is encoded as ASCII, bytes pass through.

    Args:
        data: PEM or DER input.
        what: What the input is, for the error message (e.g. ``"a certificate"``).

    Raises:
        TypeError: ``data`` is neither bytes nor str (a path, for instance).
    """
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        # Non-ASCII text cannot be PEM; replacing it keeps the error a parse error, not a
        # UnicodeEncodeError.
        return data.encode("ascii", "replace")
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    hint = (
        "; read the file first, e.g. Path(...).read_bytes()" if hasattr(data, "__fspath__") else ""
    )
    raise TypeError(
        f"expected {what} as bytes or str (PEM or DER), got {type(data).__name__}{hint}"
    )


def read_serial(cert: x509.Certificate) -> int:
    """The certificate's serial number, negative and zero ones included.

    cryptography warns when it reads a negative or zero serial (RFC 5280 forbids them; CAs
    issue them); such a certificate must still be looked up, not refused. Suppressing the
    warning costs ~10 µs per call, so it is done only when the warning was turned into an
    error (as under ``-W error``); otherwise Python's default filter shows it once.
    """
    try:
        return cert.serial_number
    except Warning:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cert.serial_number


def load_certificate(data: bytes | str) -> x509.Certificate:
    """Parse one certificate, PEM or DER (autodetected).

    Negative serial numbers are accepted (they are disallowed by RFC 5280 but exist).
    ``cryptography`` warns each time such a serial is *read*, so readers of ``serial_number``
    (like :func:`crlcheck.decide`) suppress that warning themselves.

    Raises:
        CertificateParseError: If ``data`` is not a certificate, or its extensions are malformed.
        TypeError: If ``data`` is neither bytes nor str.
    """
    return parse_certificate(data, extensions=True)


def parse_certificate(data: bytes | str, *, extensions: bool) -> x509.Certificate:
    """:func:`load_certificate`, with the extensions parsed now or left to their first use.

    Args:
        data: PEM or DER.
        extensions: True to parse the extensions now, so that a duplicate or malformed one
            refuses the certificate here; False leaves them to cryptography's first access
            (which then raises), for callers that read them only when they need them.

    Raises:
        CertificateParseError: If ``data`` is not a certificate (or, with ``extensions``, its
            extensions are malformed).
        TypeError: If ``data`` is neither bytes nor str.
    """
    data = as_bytes(data, "a certificate")
    if not data:
        raise CertificateParseError("empty input: not a certificate")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if data.lstrip()[: len(PEM_MARKER)] == PEM_MARKER:
                cert = x509.load_pem_x509_certificate(data)
            else:
                cert = x509.load_der_x509_certificate(data)
        if extensions:
            # Extensions are parsed on first access: a duplicate or malformed one must refuse
            # the load here, not raise DuplicateExtension or ValueError later from a property.
            _ = cert.extensions
    except Exception as exc:
        raise CertificateParseError(refusal(data, "certificate", exc)) from exc
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
    the input is bad. The shape: lines of one width (the last one may be shorter, none empty),
    LF only. The base64 must be canonical (it re-encodes to the same text): the Rust decoder
    behind cryptography's PEM loader refuses non-canonical padding bits, so accepting them here
    would accept a certificate the general route refuses.
    """
    text = data.strip(b" \t\r\n")
    if not (text.startswith(_PEM_BEGIN) and text.endswith(_PEM_END)):
        return None
    body = text[len(_PEM_BEGIN) : len(text) - len(_PEM_END)]
    # Every line but the last is `width` long: the newlines are exactly at width, 2*width+1,
    # ... (so no line is empty and none is longer), and the body does not end in one. A CR,
    # a space or any other character outside the alphabet fails the strict decoding below.
    width = body.find(b"\n")
    if width == 0 or not body or body[-1] == 0x0A:
        return None
    if width > 0:
        newlines = body.count(b"\n")
        if body[width :: width + 1] != b"\n" * newlines:
            return None
        body = body.translate(None, b"\n")
    if len(body) % 4:
        return None
    try:
        der = binascii.a2b_base64(body, strict_mode=True)  # Only the base64 alphabet.
    except binascii.Error:
        return None
    # Only the last group of four characters can carry unused bits (before its padding).
    last = 3 * (len(body) // 4 - 1)
    if binascii.b2a_base64(der[last:], newline=False) != body[-4:]:
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
    serial, serial_end, alg_end, issuer_end = _walk_tbs(der, tbs_start, tbs_end)
    algorithm = der[serial_end:alg_end]
    if der[tbs_end : tbs_end + len(algorithm)] != algorithm:
        algorithm = b""
    return serial, der[alg_end:issuer_end], algorithm


def _walk_tbs(buf: bytes, pos: int, tbs_end: int) -> tuple[int, int, int, int]:
    """Read a TBSCertificate's content from ``pos``: its version (skipped), serial, signature
    AlgorithmIdentifier and issuer Name.

    Returns:
        ``(serial, serial_end, algorithm_end, issuer_end)``: the serial and the offsets where
        the serial's, the algorithm's and the issuer's TLVs end.

    Raises:
        _der.DERError: If the bytes do not have that structure.
    """
    if pos < tbs_end and buf[pos] == _der.TAG_CONTEXT_0:
        pos = _der.expect(buf, pos, _der.TAG_CONTEXT_0, tbs_end)[1]  # version
    serial_start, serial_end = _der.expect(buf, pos, _der.TAG_INTEGER, tbs_end)
    if serial_end == serial_start:
        raise _der.DERError("empty serialNumber")
    alg_end = _der.expect(buf, serial_end, _der.TAG_SEQUENCE, tbs_end)[1]
    issuer_end = _der.expect(buf, alg_end, _der.TAG_SEQUENCE, tbs_end)[1]
    serial = int.from_bytes(buf[serial_start:serial_end], "big", signed=True)
    return serial, serial_end, alg_end, issuer_end


def _tbs_serial_and_issuer(tbs: bytes) -> tuple[int, bytes]:
    """The serial and the issuer Name TLV of a TBSCertificate (see :func:`_serial_and_issuer`).

    Raises:
        _der.DERError: If the bytes do not have that structure.
    """
    size = len(tbs)
    pos, tbs_end = _der.expect(tbs, 0, _der.TAG_SEQUENCE, size)
    if tbs_end != size:
        raise _der.DERError("trailing bytes after the TBSCertificate")
    serial, _serial_end, alg_end, issuer_end = _walk_tbs(tbs, pos, tbs_end)
    return serial, tbs[alg_end:issuer_end]


def read_identity(cert: x509.Certificate) -> tuple[int, bytes]:
    """The serial and the issuer Name's DER of a parsed certificate, without Name objects.

    Read from ``tbs_certificate_bytes`` (the signed bytes, as encoded in the certificate):
    ~7 µs on a freshly parsed certificate against ~12 µs for ``serial_number`` and
    ``issuer.public_bytes()`` (which builds the Name's Python objects and re-encodes them), and
    without the warning cryptography gives for a negative or zero serial. The issuer is the
    Name as encoded, which is what ``public_bytes()`` gives for a DER Name; a caller comparing
    it against a re-encoded name falls back to ``public_bytes()`` on a mismatch.

    Raises:
        CertificateParseError: If cryptography cannot give the TBSCertificate, or its start
            does not have the structure of RFC 5280 §4.1.
    """
    try:
        return _tbs_serial_and_issuer(cert.tbs_certificate_bytes)
    except Exception as exc:  # cryptography parses lazily: a bad field fails on access.
        raise CertificateParseError(f"unreadable certificate: {exc}") from exc


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

    Unlike :func:`load_certificate`, this does NOT parse the extensions (cryptography parses
    them on first access, ~3 µs): a caller that reads them must expect a malformed one to raise
    there (:func:`crlcheck.decide` reads them only when a covering CRL is scoped).

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
    except Exception:  # The general route reports the error, with its own message.
        return None
    return cert, serial, issuer_der


def load_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Parse a PEM bundle of one or more certificates, or one DER certificate.

    Raises:
        CertificateParseError: If ``data`` holds no certificate or a malformed one.
        TypeError: If ``data`` is neither bytes nor str.
    """
    data = as_bytes(data, "certificates")
    if data.lstrip()[: len(PEM_MARKER)] != PEM_MARKER:
        return [load_certificate(data)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            certs = x509.load_pem_x509_certificates(data)
        for cert in certs:
            _ = cert.extensions  # See load_certificate.
    except Exception as exc:
        raise CertificateParseError(refusal(data, "certificate", exc)) from exc
    return certs
