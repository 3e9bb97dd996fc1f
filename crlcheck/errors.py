"""The crlcheck exception hierarchy.

Every error crlcheck raises on purpose derives from :class:`CRLCheckError` and carries a
machine-readable ``reason`` (a short snake_case code, used as the deny reason by the authorizer
and printed by the CLI) plus structured fields for the specifics. A revoked certificate is not an
error: it is a :class:`crlcheck.Decision`.

Adapters translate foreign exceptions at their boundary with ``raise ... from exc`` so the cause
is never lost.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "CRLCheckError",
    "CRLError",
    "CRLFieldRangeError",
    "CRLIssuerMismatchError",
    "CRLNotYetValidError",
    "CRLParseError",
    "CRLRollbackError",
    "CRLSignatureError",
    "CRLSignerError",
    "CRLSignerExpiredError",
    "CRLStaleError",
    "CRLValidityError",
    "CRLWeakSignatureError",
    "CacheFormatError",
    "CertificateParseError",
    "DeltaCRLError",
    "EventError",
    "IndirectCRLError",
    "PartialCRLError",
    "StorageError",
    "UnsupportedCRLError",
    "UnsupportedCRLExtensionError",
]


class CRLCheckError(Exception):
    """Base class of every error raised by crlcheck.

    Attributes:
        reason: A stable, machine-readable code for this kind of failure.
    """

    reason: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CRLError(CRLCheckError):
    """The CRL must not be trusted; the base of every CRL refusal."""

    reason = "crl_refused"


class CRLParseError(CRLError):
    """The input is not a well-formed DER or PEM X.509 CRL."""

    reason = "crl_malformed"


class CRLSignatureError(CRLError):
    """The CRL's signature does not verify with the signer's public key."""

    reason = "crl_signature_invalid"


class CRLSignerError(CRLError):
    """The certificate offered as CRL signer may not sign this CRL."""

    reason = "crl_signer_invalid"


class CRLIssuerMismatchError(CRLSignerError):
    """No offered signer has a subject name equal to the CRL's issuer name (RFC 5280 §6.3.3 (b)).

    Attributes:
        crl_issuer: The CRL's issuer name, RFC 4514 text.
        candidates: Subject names of the certificates that were offered.
    """

    reason = "crl_issuer_mismatch"

    def __init__(self, message: str, *, crl_issuer: str, candidates: tuple[str, ...]) -> None:
        super().__init__(message)
        self.crl_issuer = crl_issuer
        self.candidates = candidates


class CRLValidityError(CRLError):
    """The CRL's thisUpdate/nextUpdate window does not cover the evaluation time."""

    reason = "crl_validity"


class CRLStaleError(CRLValidityError):
    """The CRL's nextUpdate has passed, or it has no nextUpdate at all.

    Attributes:
        next_update: The CRL's nextUpdate, or None when the CRL has none.
        now: The evaluation time.
    """

    reason = "crl_stale"

    def __init__(self, message: str, *, next_update: datetime | None, now: datetime) -> None:
        super().__init__(message)
        self.next_update = next_update
        self.now = now


class CRLNotYetValidError(CRLValidityError):
    """The CRL's thisUpdate is in the future beyond the allowed clock skew.

    Attributes:
        this_update: The CRL's thisUpdate.
        now: The evaluation time.
    """

    reason = "crl_not_yet_valid"

    def __init__(self, message: str, *, this_update: datetime, now: datetime) -> None:
        super().__init__(message)
        self.this_update = this_update
        self.now = now


class CRLRollbackError(CRLError):
    """The CRL is older than the one already published (lower CRL number or thisUpdate).

    Attributes:
        published: The published CRL number (or thisUpdate ISO text when numbers are absent).
        offered: The offered CRL number (or thisUpdate ISO text).
    """

    reason = "crl_rollback"

    def __init__(self, message: str, *, published: str, offered: str) -> None:
        super().__init__(message)
        self.published = published
        self.offered = offered


class UnsupportedCRLError(CRLError):
    """The CRL uses a feature crlcheck does not implement, so it cannot be trusted as complete."""

    reason = "crl_unsupported"


class UnsupportedCRLExtensionError(UnsupportedCRLError):
    """A critical CRL or CRL entry extension is not recognised (RFC 5280 §5.2, §5.3).

    Attributes:
        oid: Dotted OID of the extension.
        entry: True when it was a CRL entry extension, False for a CRL extension.
    """

    reason = "crl_unknown_critical_extension"

    def __init__(self, message: str, *, oid: str, entry: bool) -> None:
        super().__init__(message)
        self.oid = oid
        self.entry = entry


class DeltaCRLError(UnsupportedCRLError):
    """A delta CRL (deltaCRLIndicator) was given where a complete CRL is required."""

    reason = "crl_is_delta"


class IndirectCRLError(UnsupportedCRLError):
    """An indirect CRL (IDP indirectCRL or certificateIssuer entries), which is not supported."""

    reason = "crl_is_indirect"


class PartialCRLError(UnsupportedCRLError):
    """The CRL's issuingDistributionPoint limits its scope in a way crlcheck cannot honour."""

    reason = "crl_partial_scope"


class CacheFormatError(CRLCheckError):
    """A preprocessed revocation document is malformed, truncated or of an unknown version."""

    reason = "document_invalid"


class CertificateParseError(CRLCheckError):
    """A client or signer certificate could not be parsed."""

    reason = "bad_certificate"


class EventError(CRLCheckError):
    """A Lambda event does not have the shape crlcheck expects."""

    reason = "bad_request"


class StorageError(CRLCheckError):
    """The document store could not be read or written.

    Attributes:
        retryable: True for faults that may pass (throttling, 5xx, timeouts).
    """

    reason = "store_unavailable"

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class CRLFieldRangeError(CRLParseError):
    """A CRL field holds a value crlcheck refuses to represent: a year outside 1-9999 (Python's
    ``datetime``) in thisUpdate, nextUpdate or a revocationDate, or a cRLNumber that is negative
    or longer than 20 octets (RFC 5280 §5.2.3).

    Attributes:
        field: The ASN.1 field name (``thisUpdate``, ``nextUpdate``, ``revocationDate`` or
            ``cRLNumber``).
    """

    reason = "crl_field_out_of_range"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class CRLWeakSignatureError(CRLSignatureError):
    """The CRL is signed with a SHA-1-based algorithm, refused unless explicitly allowed.

    Attributes:
        algorithm: The signature algorithm's name (e.g. ``sha1WithRSAEncryption``) or dotted OID.
    """

    reason = "crl_weak_signature"

    def __init__(self, message: str, *, algorithm: str) -> None:
        super().__init__(message)
        self.algorithm = algorithm


class CRLSignerExpiredError(CRLSignerError):
    """The certificate whose key signed the CRL is outside its validity period (expired, or not
    yet valid) at the evaluation time (RFC 5280 §6.3.3 (f): the CRL issuer's own path must be
    valid).

    Attributes:
        signer: The signer certificate's subject, RFC 4514 text.
        not_before: Its notBefore, or None when the certificate's validity cannot be read.
        not_after: Its notAfter, or None when the certificate's validity cannot be read.
        now: The evaluation time.
    """

    reason = "crl_signer_expired"

    def __init__(
        self,
        message: str,
        *,
        signer: str,
        not_before: datetime | None,
        not_after: datetime | None,
        now: datetime,
    ) -> None:
        super().__init__(message)
        self.signer = signer
        self.not_before = not_before
        self.not_after = not_after
        self.now = now
