"""Saying what an input is when it is not what a loader expected.

The loaders (:func:`crlcheck.load_certificate`, :func:`crlcheck.load_certificates`,
:func:`crlcheck.load_crl`) let ``cryptography`` parse, and call :func:`refusal` only once it has
refused the bytes. ``cryptography``'s own messages describe its internals (a FAQ URL and
``MalformedFraming`` for a PEM file without the expected block, Rust debug text such as
``ParseError { kind: ShortData { needed: 240 } }`` for DER); :func:`refusal` looks at the input
instead and says what was found and what was expected: a PEM block's label, the shape of a DER
structure (RFC 5280 §4.1 certificate, §5.1 CRL, PKCS #8 and SEC 1 keys, SubjectPublicKeyInfo,
PKCS #10, PKCS #7/CMS, PKCS #12), or a structure the data ends before.

The text is for people: it never decides anything, and every branch is bounded by the input's
length (the PEM scan is linear, as in :func:`crlcheck.crl._pem_to_der`).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final, Literal

from crlcheck import _der
from crlcheck._text import sanitize

__all__ = ["Expected", "pem_label_refusal", "refusal"]

Expected = Literal["certificate", "CRL"]

_PEM_LABELS: Final[dict[Expected, str]] = {"certificate": "CERTIFICATE", "CRL": "X509 CRL"}

# What a PEM label (RFC 7468 and common OpenSSL ones) holds, for the message.
_PEM_NOUNS: Final = {
    "CERTIFICATE": "a certificate",
    "TRUSTED CERTIFICATE": "an OpenSSL trusted certificate",
    "X509 CRL": "a CRL",
    "PRIVATE KEY": "a private key",
    "RSA PRIVATE KEY": "a private key",
    "EC PRIVATE KEY": "a private key",
    "DSA PRIVATE KEY": "a private key",
    "OPENSSH PRIVATE KEY": "a private key",
    "ENCRYPTED PRIVATE KEY": "an encrypted private key",
    "PUBLIC KEY": "a public key",
    "RSA PUBLIC KEY": "a public key",
    "CERTIFICATE REQUEST": "a certificate request",
    "NEW CERTIFICATE REQUEST": "a certificate request",
    "PKCS7": "a PKCS #7 structure",
    "CMS": "a CMS structure",
    "EC PARAMETERS": "EC parameters",
    "DH PARAMETERS": "DH parameters",
}

# What each DER shape recognised by _der_kind is, for the message.
_DER_NOUNS: Final = {
    "certificate": "a certificate",
    "CRL": "a CRL",
    "request": "a certificate request",
    "pkcs8": "a PKCS #8 private key",
    "sec1": "an EC private key",
    "pkcs1": "an RSA private key",
    "spki": "a public key",
    "cms": "a PKCS #7/CMS structure",
    "pkcs12": "a PKCS #12 file",
}

_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n")
_PEM_MARKER = b"-----BEGIN"
_TIMES = (_der.TAG_UTC_TIME, _der.TAG_GENERALIZED_TIME)

# rust-asn1's ParseErrorKind names, as cryptography prints them, in words.
_ASN1_KINDS: Final = {
    "InvalidValue": "an invalid value",
    "InvalidTag": "an invalid tag",
    "InvalidLength": "an invalid length",
    "UnexpectedTag": "an unexpected element",
    "ShortData": "an element that ends past its data",
    "IntegerOverflow": "an integer too large",
    "ExtraData": "trailing data after the structure",
    "InvalidSetOrdering": "a SET not in DER order",
    "EncodedDefault": "a DEFAULT value encoded (not DER)",
    "OidTooLong": "an object identifier too long",
    "UnknownDefinedBy": "an unknown algorithm or type identifier",
}
_PARSE_ERROR = re.compile(r"ParseError \{ kind: (\w+)")
_LOCATION = re.compile(r"location: \[([^\]]*)\]")


def refusal(data: bytes, expected: Expected, error: BaseException | None = None) -> str:
    """One line saying why ``data`` is not the ``expected`` structure.

    Args:
        data: The refused input (PEM or DER).
        expected: What the caller wanted.
        error: What the parser raised, if anything; used only when the input has the expected
            shape (its words say where the structure is malformed).

    Returns:
        E.g. ``"not a certificate: the input is a private key (PEM 'PRIVATE KEY' block,
        expected 'CERTIFICATE')"``, ``"not a certificate: the input is a CRL (DER)"``, or
        ``"truncated DER: the data ends before the structure does (200 of 268 bytes)"``.
    """
    if not data.strip():
        return f"empty input: not a {expected}"
    if data.lstrip()[: len(_PEM_MARKER)] == _PEM_MARKER:
        return _pem_refusal(data, expected, error)
    return _der_refusal(data, expected) or _malformed(expected, error)


def pem_label_refusal(label: str, expected: Expected) -> str:
    """The refusal of a PEM block labelled ``label`` where ``expected`` is wanted."""
    want = _PEM_LABELS[expected]
    label = sanitize(label, 64)
    noun = _PEM_NOUNS.get(label)
    if noun is None:
        return f"not a {expected}: the input is a PEM '{label}' block, expected '{want}'"
    return f"not a {expected}: the input is {noun} (PEM '{label}' block, expected '{want}')"


def _pem_refusal(data: bytes, expected: Expected, error: BaseException | None) -> str:
    want = _PEM_LABELS[expected]
    first: str | None = None
    seen = False
    pos = 0
    # Each block is found by a regex anchored to one line and its END with bytes.find, so the
    # scan is linear however many BEGIN lines the input holds.
    while (header := _PEM_BEGIN.search(data, pos)) is not None:
        label = header.group(1)
        end = data.find(b"-----END " + label + b"-----", header.end())
        if end < 0:
            break
        pos = end
        text = label.decode("ascii")
        first = first or text
        if text != want:
            continue
        seen = True
        try:
            der = base64.b64decode(b"".join(data[header.end() : end].split()), validate=True)
        except (binascii.Error, ValueError):
            return f"malformed PEM: bad base64 in a '{want}' block"
        problem = _der_refusal(der, expected, pem=True)
        if problem is not None:
            return f"PEM '{want}' block: {problem}"
    if first is None:
        return "malformed PEM: no complete BEGIN/END block"
    if not seen:
        return pem_label_refusal(first, expected)
    return _malformed(expected, error)


def _der_refusal(der: bytes, expected: Expected, *, pem: bool = False) -> str | None:
    """Why ``der`` is not DER of the ``expected`` kind, or None when its shape matches (or is
    unknown: the parser's words are better then)."""
    if not der:
        return f"empty DER: not a {expected}"
    if der[0] != _der.TAG_SEQUENCE:
        sample = der[:256]
        if sample.isascii() and all(c >= 0x20 or c in b"\t\r\n" for c in sample):
            return f"not a {expected}: the input is text, neither PEM nor DER"
        what = "not a DER SEQUENCE" if pem else "neither PEM nor a DER SEQUENCE"
        return f"not a {expected}: {what} (first byte {der[0]:#04x})"
    size = len(der)
    end = _declared_end(der)
    if end is None:
        return f"not a {expected}: the outer DER length is malformed or not in DER form"
    if end > size:
        return f"truncated DER: the data ends before the structure does ({size} of {end} bytes)"
    kind = _der_kind(der[:end])
    if kind is not None and kind != expected:
        return f"not a {expected}: the input is {_DER_NOUNS[kind]} (DER)"
    if end < size and kind == expected:
        return f"malformed {expected}: {size - end} bytes of trailing data after the DER structure"
    return None


def _declared_end(der: bytes) -> int | None:
    """Where the outer element's header says it ends (which may be past the data), or None."""
    if len(der) < 2:
        return len(der) + 1  # Not even a length: truncated.
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4:
        return None  # Indefinite (BER) or beyond what any input here can be.
    if 2 + count > len(der):
        return len(der) + 1
    length = int.from_bytes(der[2 : 2 + count], "big")
    if length < 0x80 or der[2] == 0:
        return None  # Non-minimal: BER, not DER (X.690 §10.1).
    return 2 + count + length


def _der_kind(der: bytes) -> str | None:
    """Recognise the kind of a complete DER SEQUENCE by its top-level shape, or None."""
    try:
        outer = _der.read_tlv(der, 0, len(der))
        parts = _first_children(der, outer)
        tags = [p.tag for p in parts]
        if tags[:3] == [_der.TAG_SEQUENCE, _der.TAG_SEQUENCE, _der.TAG_BIT_STRING]:
            # SIGNED { tbs, algorithm, signature }: the tbs fields tell which.
            fields = [f.tag for f in _first_children(der, parts[0])]
            return _signed_kind(fields)
    except (_der.DERError, IndexError):
        return None
    if tags[:2] == [_der.TAG_SEQUENCE, _der.TAG_BIT_STRING] and len(tags) == 2:
        return "spki"
    if tags[:2] == [_der.TAG_OID, _der.TAG_CONTEXT_0]:
        return "cms"
    if tags[:1] != [_der.TAG_INTEGER]:
        return None
    if tags[1:3] == [_der.TAG_SEQUENCE, _der.TAG_OCTET_STRING]:
        return "pkcs8"
    if tags[1:3] == [_der.TAG_SEQUENCE, _der.TAG_SEQUENCE]:
        return "pkcs12"
    if tags[1:2] == [_der.TAG_OCTET_STRING]:
        return "sec1"
    if len(tags) >= 9 and all(t == _der.TAG_INTEGER for t in tags[:9]):
        return "pkcs1"
    return None


def _first_children(der: bytes, parent: _der.TLV, limit: int = 12) -> list[_der.TLV]:
    """The first ``limit`` elements inside ``parent``: a shape needs no more, and a hostile
    SEQUENCE of millions of empty elements must not become millions of objects."""
    children: list[_der.TLV] = []
    pos = parent.content_start
    while pos < parent.end and len(children) < limit:
        child = _der.read_tlv(der, pos, parent.end)
        children.append(child)
        pos = child.end
    return children


def _signed_kind(fields: list[int]) -> str | None:
    """Certificate (RFC 5280 §4.1), CRL (§5.1) or certificate request (RFC 2986 §4) by tbs."""
    if fields[:1] == [_der.TAG_CONTEXT_0]:
        return "certificate"  # [0] version: only a certificate's tbs starts with it.
    i = 1 if fields[:1] == [_der.TAG_INTEGER] else 0
    rest = fields[i:]
    if rest[:2] == [_der.TAG_SEQUENCE, _der.TAG_SEQUENCE] and rest[2:3] and rest[2] in _TIMES:
        return "CRL"  # signature, issuer, thisUpdate
    if i and rest[:4] == [_der.TAG_SEQUENCE] * 4:
        return "certificate"  # v1: serial, signature, issuer, validity, subject...
    if i and rest[:3] == [_der.TAG_SEQUENCE, _der.TAG_SEQUENCE, _der.TAG_CONTEXT_0]:
        return "request"  # version, subject, subjectPKInfo, [0] attributes
    return None


def _malformed(expected: Expected, error: BaseException | None) -> str:
    return f"malformed {expected}: {_words(error)}"


def _words(error: BaseException | None) -> str:
    """The parser's error in words, without Rust debug text or FAQ links."""
    if error is None:
        return "not well-formed"
    text = str(error)
    match = _PARSE_ERROR.search(text)
    if match is not None:
        words = _ASN1_KINDS.get(match.group(1), "malformed DER")
        location = _LOCATION.search(text)
        fields = re.findall(r"::(\w+)", location.group(1)) if location else []
        return f"{words} at {'.'.join(fields)}" if fields else words
    if "cryptography.io" in text or "MalformedFraming" in text:
        return "malformed PEM"
    return sanitize(text)
