"""The crlcheck exception hierarchy, and how each error becomes a deny and a log line.

Every error crlcheck raises on purpose derives from :class:`CRLCheckError` and says, in one place:

* ``reason``: a stable, machine-readable code for this kind of failure (``crl_stale``,
  ``document_missing``...), printed by the CLI and logged by the Lambda functions;
* ``deny_reason``: the :class:`Reason` a decision takes when this error stands between a
  request and an answer (a corrupt document denies with ``document_invalid``, a store fault with
  ``store_unavailable``, anything not foreseen with ``internal_error``);
* :meth:`CRLCheckError.log_fields`: its structured fields (dates as UTC text), for log lines.

A revoked certificate is not an error: it is a :class:`crlcheck.Decision`. Adapters translate
foreign exceptions at their boundary with ``raise ... from exc`` so the cause is never lost.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from crlcheck._time import format_utc

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
    "CatalogUpdateError",
    "CertificateParseError",
    "DeltaCRLError",
    "DocumentIdentityError",
    "DocumentNotFoundError",
    "DocumentTooLargeError",
    "DocumentVersionError",
    "EventError",
    "FetchesFailedError",
    "IndirectCRLError",
    "PartialCRLError",
    "PublicationError",
    "PublishedDocumentInvalidError",
    "PublishedDocumentVersionError",
    "Reason",
    "RecordsRefusedError",
    "SettingsError",
    "StorageError",
    "UnsupportedCRLError",
    "UnsupportedCRLExtensionError",
]


class Reason(StrEnum):
    """Why a decision was made. Only ``NOT_REVOKED`` allows."""

    NOT_REVOKED = "not_revoked"
    REVOKED = "revoked"
    NO_COVERING_CRL = "no_covering_crl"
    CRL_STALE = "crl_stale"
    CRL_NOT_YET_VALID = "crl_not_yet_valid"
    BAD_CERTIFICATE = "bad_certificate"
    BAD_REQUEST = "bad_request"
    DOCUMENT_INVALID = "document_invalid"
    STORE_UNAVAILABLE = "store_unavailable"
    INTERNAL_ERROR = "internal_error"


class CRLCheckError(Exception):
    """Base class of every error raised by crlcheck.

    Attributes:
        reason: A stable, machine-readable code for this kind of failure.
        deny_reason: The decision reason when this error prevents an answer.
        message: One human-readable line.
    """

    reason: ClassVar[str] = "error"
    deny_reason: ClassVar[Reason] = Reason.INTERNAL_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def log_fields(self) -> dict[str, object]:
        """The error as log fields: reason, type, message and its structured attributes.

        Datetimes become UTC text, tuples lists; attributes that are None are left out.
        """
        fields: dict[str, object] = {
            "reason": self.reason,
            "error_type": type(self).__name__,
            "detail": self.message,
        }
        for name, value in vars(self).items():
            if name == "message" or name.startswith("_") or value is None:
                continue
            if isinstance(value, datetime):
                value = format_utc(value)
            elif isinstance(value, tuple):
                value = list(value)
            fields[name] = value
        return fields


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
    deny_reason = Reason.CRL_STALE

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
    deny_reason = Reason.CRL_NOT_YET_VALID

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
    deny_reason = Reason.DOCUMENT_INVALID


class CertificateParseError(CRLCheckError):
    """A client or signer certificate could not be parsed."""

    reason = "bad_certificate"
    deny_reason = Reason.BAD_CERTIFICATE


class EventError(CRLCheckError):
    """A Lambda event does not have the shape crlcheck expects."""

    reason = "bad_request"
    deny_reason = Reason.BAD_REQUEST


class StorageError(CRLCheckError):
    """The document store could not be read or written.

    Attributes:
        retryable: True for faults that may pass (throttling, 5xx, timeouts).
    """

    reason = "store_unavailable"
    deny_reason = Reason.STORE_UNAVAILABLE

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class DocumentNotFoundError(StorageError):
    """The document does not exist, or the store refuses to say (access denied).

    Without ``s3:ListBucket`` S3 answers a GET of a missing key with 403 AccessDenied rather than
    404, so the two cannot be told apart and are treated alike: not retryable, the key unusable
    until it appears.

    Attributes:
        key: The document key.
    """

    reason = "document_missing"

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message, retryable=False)
        self.key = key


class DocumentTooLargeError(CacheFormatError):
    """The stored document is larger than the reader accepts; it was not downloaded.

    A source raises it after reading the object's size and before its body, so that one huge
    object cannot exhaust the authorizer's memory. The cache then treats the document like a
    corrupt one: the last good set keeps serving and the same object is not fetched again.

    Attributes:
        key: The document key.
        etag: The ETag of the refused object.
        size: Its size in bytes.
    """

    reason = "document_too_large"

    def __init__(self, message: str, *, key: str, etag: str, size: int) -> None:
        super().__init__(message)
        self.key = key
        self.etag = etag
        self.size = size


class SettingsError(CRLCheckError):
    """An environment variable is missing or has an invalid value.

    Attributes:
        variable: The variable's name.
    """

    reason = "misconfigured"

    def __init__(self, message: str, *, variable: str) -> None:
        super().__init__(message)
        self.variable = variable


class RecordsRefusedError(CRLCheckError):
    """One or more records of an S3 event were refused; each was logged with its reason.

    Attributes:
        refusals: ``(bucket/key, reason)`` of each refused record.
    """

    reason = "records_refused"

    def __init__(self, message: str, *, refusals: tuple[tuple[str, str], ...]) -> None:
        super().__init__(message)
        self.refusals = refusals


class FetchesFailedError(CRLCheckError):
    """One or more CRLs could not be fetched or stored; each was logged with its reason.

    The fetcher Lambda raises it after every URL was attempted, so the invocation counts as
    failed (Lambda's ``Errors`` metric) while the CRLs it did fetch stay written.

    Attributes:
        failures: ``(url, reason)`` of each URL that failed.
    """

    reason = "fetches_failed"

    def __init__(self, message: str, *, failures: tuple[tuple[str, str], ...]) -> None:
        super().__init__(message)
        self.failures = failures


class PublicationError(CRLError):
    """The verified CRL may not replace the published document; the document stays as it is.

    The way out is the operator's: delete the published document on purpose, then upload the
    CRL again (docs/SERVERLESS.md, "Publication identity").
    """

    reason = "publication_refused"


class DocumentIdentityError(PublicationError):
    """The published document belongs to another CA key or scope than the offered CRL.

    A document's identity is its CRL issuer name, the key that signed the CRL, and the CRL's
    scope (issuingDistributionPoint names, onlyContainsUserCerts). Numbers and dates of CRLs
    of different identities are not comparable, so a CRL never replaces another identity's
    document: that would let a misplaced or replayed upload erase a CA's revocations.

    Attributes:
        published: The published document's identity, as text.
        offered: The offered CRL's identity, as text.
    """

    reason = "document_identity_mismatch"

    def __init__(self, message: str, *, published: str, offered: str) -> None:
        super().__init__(message)
        self.published = published
        self.offered = offered


class PublishedDocumentInvalidError(PublicationError):
    """The published document cannot be read, so nothing says the CRL may replace it."""

    reason = "published_document_invalid"


class PublishedDocumentVersionError(PublishedDocumentInvalidError):
    """The published document has a format version this crlcheck does not read (a newer one)."""

    reason = "published_document_unsupported_version"


class DocumentVersionError(CacheFormatError):
    """A document of a format version this crlcheck does not read.

    Attributes:
        version: The document's version.
    """

    reason = "document_version_unsupported"

    def __init__(self, message: str, *, version: int) -> None:
        super().__init__(message)
        self.version = version


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


class CatalogUpdateError(StorageError):
    """The catalog of a document prefix could not be updated (see :mod:`crlcheck.catalog`)."""

    reason = "catalog_update_failed"

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)
