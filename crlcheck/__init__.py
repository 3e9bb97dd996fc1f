"""crlcheck: fast, fail-closed X.509 CRL revocation checks for mTLS client certificates.

The core is pure: it takes bytes and an explicit ``now`` and returns values or raises
:class:`CRLCheckError` subclasses. I/O lives in adapters: the CLI (:mod:`crlcheck.cli`) and the
AWS package (:mod:`crlcheck.aws`), which ``import crlcheck`` does not load. docs/ARCHITECTURE.md
has the map.

Typical use::

    revset = verify_crl(load_crl(crl_bytes), load_certificates(ca_pem), now=now)
    document = dump_document(revset)
    ...
    decision = decide(client_cert_pem, [load_document(document)], now=now)
"""

from __future__ import annotations

__version__ = "0.1.0"

from crlcheck.cache import DocumentSource, Fetched, NotModified, RevocationCache
from crlcheck.certificate import load_certificate, load_certificates
from crlcheck.codec import FORMAT_VERSION, dump_document, load_document
from crlcheck.crl import CRL, load_crl, verify_crl
from crlcheck.decision import Decision, decide
from crlcheck.errors import (
    CacheFormatError,
    CertificateParseError,
    CRLCheckError,
    CRLError,
    CRLFieldRangeError,
    CRLIssuerMismatchError,
    CRLNotYetValidError,
    CRLParseError,
    CRLRollbackError,
    CRLSignatureError,
    CRLSignerError,
    CRLSignerExpiredError,
    CRLStaleError,
    CRLValidityError,
    CRLWeakSignatureError,
    DeltaCRLError,
    DocumentNotFoundError,
    IndirectCRLError,
    PartialCRLError,
    Reason,
    StorageError,
    UnsupportedCRLError,
    UnsupportedCRLExtensionError,
)
from crlcheck.revset import DEFAULT_CLOCK_SKEW, CRLInfo, RevocationSet, RevokedEntry
from crlcheck.service import Authorizer, Verdict

__all__ = [
    "CRL",
    "DEFAULT_CLOCK_SKEW",
    "FORMAT_VERSION",
    "Authorizer",
    "CRLCheckError",
    "CRLError",
    "CRLFieldRangeError",
    "CRLInfo",
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
    "Decision",
    "DeltaCRLError",
    "DocumentNotFoundError",
    "DocumentSource",
    "Fetched",
    "IndirectCRLError",
    "NotModified",
    "PartialCRLError",
    "Reason",
    "RevocationCache",
    "RevocationSet",
    "RevokedEntry",
    "StorageError",
    "UnsupportedCRLError",
    "UnsupportedCRLExtensionError",
    "Verdict",
    "__version__",
    "decide",
    "dump_document",
    "load_certificate",
    "load_certificates",
    "load_crl",
    "load_document",
    "verify_crl",
]
