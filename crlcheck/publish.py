"""Publishing: may a newly verified CRL replace the published document? (pure: no boto3)

The preprocessor's side of the store. :func:`plan_publication` verifies a CRL and decides with
:func:`check_publication` whether its document may replace the published one (rollback
protection, idempotent redelivery); the adapter (:mod:`crlcheck.aws.preprocessor`, the CLI) does
the reads and the write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from cryptography import x509

from crlcheck._time import format_utc
from crlcheck.codec import (
    DEFAULT_FORMAT,
    DOCUMENT_SUFFIXES,
    DocumentFormat,
    document_suffix,
    dump_document,
    load_document,
    sniff,
)
from crlcheck.crl import DEFAULT_CLOCK_SKEW, load_crl, verify_crl
from crlcheck.errors import (
    CacheFormatError,
    CRLRollbackError,
    DocumentIdentityError,
    DocumentVersionError,
    EventError,
    PublishedDocumentInvalidError,
    PublishedDocumentVersionError,
)
from crlcheck.revset import CRLInfo, RevocationSet

__all__ = [
    "DOCUMENT_SUFFIX",
    "DocumentIdentity",
    "Publication",
    "PublicationAction",
    "check_publication",
    "document_key",
    "plan_publication",
    "read_published",
]


PublicationAction = Literal["publish", "unchanged"]


@dataclass(frozen=True, slots=True)
class DocumentIdentity:
    """What makes two documents "the same CA's CRL": only such CRLs may replace each other.

    Attributes:
        issuer_der: The CRL issuer name (DER).
        key: ``"key:<sha256 of the signer's SubjectPublicKeyInfo>"``; for documents written
            before crlcheck recorded the key, ``"cert:<signer certificate fingerprint>"``.
        distribution_points: The issuingDistributionPoint names, sorted (empty: full scope).
        only_user_certs: IDP onlyContainsUserCerts.
    """

    issuer_der: bytes
    key: str
    distribution_points: tuple[str, ...]
    only_user_certs: bool

    @classmethod
    def of(cls, info: CRLInfo) -> DocumentIdentity:
        """The identity of the CRL ``info`` describes."""
        key = (
            f"key:{info.signer_key_sha256}"
            if info.signer_key_sha256 is not None
            else f"cert:{info.signer_sha256}"
        )
        return cls(
            info.issuer_der, key, tuple(sorted(info.distribution_points)), info.only_user_certs
        )

    def describe(self, info: CRLInfo) -> str:
        """One line for people: issuer, key digest prefix, scope."""
        scope = ", ".join(self.distribution_points) or "full"
        if self.only_user_certs:
            scope += ", end-entity certificates only"
        return f"issuer {info.issuer!r}, signer {self.key[:20]}..., scope {scope}"


def _same_identity(published: CRLInfo, offered: CRLInfo) -> bool:
    old, new = DocumentIdentity.of(published), DocumentIdentity.of(offered)
    if old.key.startswith("cert:"):
        # A document from before keys were recorded: the same signer certificate proves the
        # same key; another certificate may be a renewal, but nothing here can tell.
        new = DocumentIdentity(
            new.issuer_der,
            f"cert:{offered.signer_sha256}",
            new.distribution_points,
            new.only_user_certs,
        )
    return old == new


def check_publication(published: CRLInfo | None, offered: CRLInfo) -> PublicationAction:
    """Decide whether a newly verified CRL may replace the published document.

    The rules keep a good document from being replaced by a worse one and make redelivered
    events harmless:

    * nothing published → ``"publish"``;
    * a document of another identity (:class:`DocumentIdentity`: issuer name, signing key,
      scope) is never replaced: CRL numbers are only ordered within one issuer and scope (RFC
      5280 §5.2.3), so a misplaced, replayed or mistaken upload would erase a CA's revocations;
    * both CRLs have a cRLNumber (RFC 5280 §5.2.3: monotonically increasing per issuer and
      scope): a lower number is a rollback; an equal number is the same CRL only if the source
      bytes are identical (``"unchanged"``), otherwise the CA issued two different CRLs under
      one number, or the CRL was re-encoded, and the published one is kept;
    * otherwise thisUpdate is compared the same way.

    Args:
        published: The metadata of the currently published document, or None.
        offered: The metadata of the verified CRL that would replace it.

    Returns:
        ``"publish"`` or ``"unchanged"`` (the same CRL is already published).

    Raises:
        DocumentIdentityError: The published document is of another identity.
        CRLRollbackError: The offered CRL is older than the published one, or claims its
            number/time with different content.
    """
    if published is None:
        return "publish"
    if not _same_identity(published, offered):
        old, new = DocumentIdentity.of(published), DocumentIdentity.of(offered)
        if old.issuer_der != new.issuer_der:
            what = "another CRL issuer"
        elif old.distribution_points != new.distribution_points or (
            old.only_user_certs != new.only_user_certs
        ):
            what = "another scope (issuingDistributionPoint)"
        else:
            what = "another signing key"
        raise DocumentIdentityError(
            f"the published document is of {what} ({old.describe(published)}) than this CRL "
            f"({new.describe(offered)}); keeping it. If the replacement is intended (a re-keyed "
            "CA, a moved CRL), delete the published document first",
            published=old.describe(published),
            offered=new.describe(offered),
        )
    if published.crl_number is not None and offered.crl_number is not None:
        what = "CRL number"
        order = _compare(offered.crl_number, published.crl_number)
        old_text, new_text = str(published.crl_number), str(offered.crl_number)
    else:
        what = "thisUpdate"
        order = _compare(offered.this_update.timestamp(), published.this_update.timestamp())
        old_text = format_utc(published.this_update)
        new_text = format_utc(offered.this_update)
    if order > 0:
        return "publish"
    if order == 0:
        if offered.source_sha256 == published.source_sha256:
            return "unchanged"
        raise CRLRollbackError(
            f"a different CRL with the same {what} {new_text} is already published; "
            "keeping the published one",
            published=old_text,
            offered=new_text,
        )
    raise CRLRollbackError(
        f"the CRL's {what} {new_text} is older than the published {old_text}; refusing rollback",
        published=old_text,
        offered=new_text,
    )


def _compare(a: float, b: float) -> int:
    return (a > b) - (a < b)


DOCUMENT_SUFFIX: Final = ".cache.json"


def document_key(crl_key: str, prefix: str = "", *, format: DocumentFormat = DEFAULT_FORMAT) -> str:
    """The key of the document made from the CRL at ``crl_key``.

    The CRL key's extension (``.crl``, ``.der``, ``.pem``...) is replaced by the format's suffix
    (:func:`crlcheck.codec.document_suffix`): ``crls/ca.crl`` → ``crls/ca.cache.json``, or
    ``crls/ca.cache.bin`` for ``format="binary"``. With a prefix the CRL's path is kept under
    it, so CRLs of the same name in different folders cannot collide: prefix ``docs/`` gives
    ``docs/crls/ca.cache.json``.

    Raises:
        EventError: ``crl_key`` is itself a document, of any format (processing it would write
            ``*.cache.cache.json`` and, with a careless trigger, loop forever).
    """
    if crl_key.endswith(DOCUMENT_SUFFIXES):
        raise EventError(f"refusing to process {crl_key!r}: it is a crlcheck document")
    folder, _, name = crl_key.rpartition("/")
    stem, dot, _ext = name.rpartition(".")
    if not dot or not stem:
        stem = name  # No extension (or a dotfile): append the suffix.
    return prefix + (folder + "/" if folder else "") + stem + document_suffix(format)


@dataclass(frozen=True, slots=True)
class Publication:
    """The outcome of :func:`plan_publication`.

    Attributes:
        action: ``"publish"`` (write ``document``) or ``"unchanged"`` (the same CRL is already
            published: a redelivered event; write nothing).
        revset: The verified revocation set.
        document: The document to write (empty when ``action`` is ``"unchanged"``).
        published: Metadata of the document that was published before, if any.
    """

    action: PublicationAction
    revset: RevocationSet
    document: bytes
    published: CRLInfo | None


def plan_publication(
    crl_data: bytes,
    signers: Iterable[x509.Certificate],
    *,
    now: datetime,
    published: bytes | None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    allow_sha1: bool = False,
    allow_delta: bool = False,
    format: DocumentFormat = DEFAULT_FORMAT,
) -> Publication:
    """Verify a CRL and decide whether its document replaces the published one.

    Args:
        crl_data: The CRL bytes (DER or PEM).
        signers: Candidate CRL signer certificates (the truststore).
        now: The evaluation time (aware datetime).
        published: The bytes of the currently published document, or None when there is none.
        clock_skew: How far in the future thisUpdate may be.
        allow_sha1: Accept SHA-1-based CRL signatures (see :func:`crlcheck.verify_crl`).
        allow_delta: Accept a delta CRL (see :func:`crlcheck.verify_crl`).
        format: The format of the document to write (``"json"`` or ``"binary"``). The same
            CRL published in another format is rewritten (``"publish"``), not ``"unchanged"``.

    Returns:
        The plan, with the document to write when ``action`` is ``"publish"``.

    Raises:
        CRLError: The CRL is refused (malformed, bad signature, stale, unsupported...);
            :class:`CRLRollbackError` when it is older than the published one;
            :class:`DocumentIdentityError` when the published document is of another identity;
            :class:`PublishedDocumentInvalidError` (or its ``...VersionError``) when the
            published document cannot be read.
    """
    revset = verify_crl(
        load_crl(crl_data),
        signers,
        now=now,
        clock_skew=clock_skew,
        allow_sha1=allow_sha1,
        allow_delta=allow_delta,
    )
    published_info = read_published(published) if published is not None else None
    action = check_publication(published_info, revset.info)
    if action == "unchanged" and published is not None and sniff(published) != format:
        action = "publish"  # The same CRL, to be stored in another format.
    document = (
        dump_document(revset, generated_at=now, format=format) if action == "publish" else b""
    )
    return Publication(action, revset, document, published_info)


def read_published(document: bytes) -> CRLInfo:
    """The metadata of the published document, for :func:`check_publication`.

    Raises:
        PublishedDocumentVersionError: It is of a version this crlcheck does not read.
        PublishedDocumentInvalidError: It cannot be read at all.
    """
    try:
        return load_document(document, check_order="lazy").info
    except DocumentVersionError as exc:
        raise PublishedDocumentVersionError(
            f"the published document is of a version this crlcheck does not read "
            f"({exc.message}); keeping it. Upgrade crlcheck, or delete the document first "
            "if the replacement is intended"
        ) from exc
    except CacheFormatError as exc:
        raise PublishedDocumentInvalidError(
            f"the published document cannot be read ({exc.message}), so nothing shows that "
            "this CRL may replace it; keeping it. If the replacement is intended, delete the "
            "document first"
        ) from exc
