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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import ExtensionOID

from crlcheck import _der
from crlcheck._describe import pem_label_refusal, refusal
from crlcheck._entries import ProgressCallback, walk_entries
from crlcheck._time import format_utc
from crlcheck.certificate import PEM_MARKER, as_bytes, load_certificate, load_certificates
from crlcheck.errors import (
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
    CRLInfo,
    RevocationSet,
    RevokedEntry,
    general_name_text,
    iter_entries,
)
from crlcheck.serial import decode_serial, format_serial

__all__ = [
    "CRL",
    "DEFAULT_CLOCK_SKEW",
    "MAX_CRL_NUMBER",
    "ProgressCallback",
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

    def entries(self) -> Iterator[RevokedEntry]:
        """Yield the revoked entries, in ascending serial order, WITHOUT verifying the CRL.

        For display (``crlcheck inspect --entries``): nothing here is trusted. The entries are
        read as :func:`verify_crl` reads them (a serial listed twice appears once, and
        removeFromCRL is accepted, as in a delta CRL) into compact blobs first, then yielded one
        object at a time.

        Raises:
            CRLParseError, UnsupportedCRLExtensionError, IndirectCRLError: An entry that
                :func:`verify_crl` would refuse as well.
        """
        width, keys, details = walk_entries(
            self.der, self._revoked_start, self._revoked_end, None, len(self.crl), delta=True
        )
        return iter_entries(width, keys, details)


def load_crl(data: bytes | str) -> CRL:
    """Parse a DER or PEM (autodetected) X.509 CRL without trusting it.

    Args:
        data: The CRL bytes (or PEM text).

    Returns:
        The parsed, unverified CRL.

    Raises:
        CRLParseError: If ``data`` is not a well-formed CRL.
        TypeError: If ``data`` is neither bytes nor str.
        CRLFieldRangeError: If thisUpdate or nextUpdate has a year outside 1-9999, or the
            cRLNumber is negative or longer than 20 octets (a :class:`CRLParseError` subclass).
    """
    data = as_bytes(data, "a CRL")
    if not data:
        raise CRLParseError("empty input: not a CRL")
    der = _pem_to_der(data) if data.lstrip()[: len(PEM_MARKER)] == PEM_MARKER else data
    try:
        # cryptography parses strictly and eagerly: every entry's DER is validated here.
        crl = x509.load_der_x509_crl(der)
        # Touch the lazily parsed fields now so that duplicate or malformed extensions, or an
        # issuer Name with an invalid attribute value, refuse the load instead of raising
        # ValueError later from a property.
        _ = crl.extensions
        _ = crl.issuer.rfc4514_string()
    except Exception as exc:  # cryptography raises ValueError and others; all mean "malformed".
        raise CRLParseError(refusal(data, "CRL", exc)) from exc
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
        raise CRLParseError(pem_label_refusal(label, "CRL"))
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
    for cert in offered:
        if not isinstance(cert, x509.Certificate):
            raise TypeError(
                f"signers must be certificates (or their PEM/DER bytes), got {type(cert).__name__}"
            )
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


def _check_extensions(crl: CRL, *, allow_delta: bool) -> tuple[tuple[str, ...], bool, int | None]:
    """Apply the CRL extension rules; return the IDP names and flag, and the BaseCRLNumber."""
    points: tuple[str, ...] = ()
    only_user = False
    delta_base: int | None = None
    for ext in crl.crl.extensions:
        oid = ext.oid
        if oid == ExtensionOID.DELTA_CRL_INDICATOR:
            if not allow_delta:
                raise DeltaCRLError(
                    "this is a delta CRL (deltaCRLIndicator); a complete CRL is needed"
                )
            indicator = ext.value
            assert isinstance(indicator, x509.DeltaCRLIndicator)  # noqa: S101 (type narrowing)
            delta_base = indicator.crl_number
            # RFC 5280 §5.2.4: a delta CRL MUST carry cRLNumber (to order it after its base).
            if crl.crl_number is None:
                raise CRLParseError("a delta CRL must have a cRLNumber (RFC 5280 §5.2.4)")
            if delta_base >= crl.crl_number:
                raise CRLParseError(
                    f"the delta CRL's BaseCRLNumber {delta_base} is not below its own "
                    f"cRLNumber {crl.crl_number}"
                )
            continue
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
    return points, only_user, delta_base


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
            f"the CRL's thisUpdate {format_utc(this_update)} is in the future",
            this_update=this_update,
            now=now,
        )
    if now >= next_update:
        raise CRLStaleError(
            f"the CRL is stale: nextUpdate {format_utc(next_update)} has passed",
            next_update=next_update,
            now=now,
        )
    return next_update


def verify_crl(
    crl: CRL | bytes | str,
    signers: Iterable[x509.Certificate] | bytes | str,
    *,
    now: datetime,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    progress: ProgressCallback | None = None,
    allow_delta: bool = False,
    allow_sha1: bool = False,
) -> RevocationSet:
    """Verify a loaded CRL and return its revocation set.

    Args:
        crl: The CRL from :func:`load_crl` (or its bytes, which are loaded first).
        signers: Candidate signer certificates (e.g. a CA bundle, or its PEM/DER bytes, which are
            loaded with :func:`load_certificates`). The one whose subject equals
            the CRL issuer name and whose key verifies the signature is used; it may be the CA
            itself or a separate CRL-signing certificate with the same name.
        now: The evaluation time (aware datetime).
        clock_skew: How far in the future thisUpdate may be.
        progress: Called as ``progress(done_bytes, total_bytes)`` while walking entries.
        allow_delta: Accept a delta CRL (RFC 5280 §5.2.4); its set has ``info.delta_base`` set,
            and :func:`crlcheck.decide` only ever uses it together with a complete CRL.
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
        DeltaCRLError: A delta CRL, unless ``allow_delta``.
        IndirectCRLError, PartialCRLError, UnsupportedCRLExtensionError: The CRL uses
            features that prevent trusting it as a complete CRL.
        CRLStaleError, CRLNotYetValidError: ``now`` is outside its validity window.
        CRLFieldRangeError: A revocationDate has year 0000 (not representable).
        CRLParseError: An entry is malformed.
        CertificateParseError: ``signers`` are bytes that are not certificates.
        TypeError: An argument is of none of the accepted types.
    """
    if not isinstance(crl, CRL):
        crl = load_crl(crl)
    if isinstance(signers, bytes | str):
        signers = load_certificates(signers)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    signer = _select_signer(crl, signers, now=now, clock_skew=clock_skew, allow_sha1=allow_sha1)
    points, only_user, delta_base = _check_extensions(crl, allow_delta=allow_delta)
    next_update = _check_times(crl, now, clock_skew)
    width, keys, details = walk_entries(
        crl.der,
        crl._revoked_start,
        crl._revoked_end,
        progress,
        len(crl.crl),
        delta=delta_base is not None,
    )
    _check_revocation_years(width, keys, details)
    info = CRLInfo(
        issuer=crl.issuer.rfc4514_string(),
        issuer_der=crl.issuer.public_bytes(),
        issuer_key_id=crl.authority_key_id,
        signer_subject=signer.subject.rfc4514_string(),
        signer_sha256=signer.fingerprint(_SHA256()).hex(),
        signer_key_sha256=hashlib.sha256(
            signer.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).hexdigest(),
        crl_number=crl.crl_number,
        this_update=crl.this_update,
        next_update=next_update,
        source_sha256=crl.source_sha256,
        signature_algorithm=_algorithm_name(crl.crl),
        distribution_points=points,
        only_user_certs=only_user,
        delta_base=delta_base,
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
