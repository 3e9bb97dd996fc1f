"""crlcheck: fast, fail-closed X.509 CRL revocation checks for mTLS client certificates.

The core is pure: it takes bytes and an explicit ``now`` and returns values or raises
:class:`CRLCheckError` subclasses. I/O lives in adapters (the CLI, the S3 store, the Lambda
handlers).

Typical use::

    crl = load_crl(crl_bytes)
    revset = verify_crl(crl, load_certificates(ca_pem), now=now)
    document = dump_document(revset)
    ...
    decision = decide(client_cert_pem, [load_document(document)], now=now)
"""

from __future__ import annotations

__version__ = "0.1.0"

from crlcheck.crl import (
    CRL,
    DEFAULT_CLOCK_SKEW,
    load_certificate,
    load_certificates,
    load_crl,
    verify_crl,
)
from crlcheck.decision import Decision, Reason, decide
from crlcheck.document import FORMAT_VERSION, dump_document, load_document
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
    EventError,
    IndirectCRLError,
    PartialCRLError,
    StorageError,
    UnsupportedCRLError,
    UnsupportedCRLExtensionError,
)
from crlcheck.events import parse_authorizer_event, parse_s3_event
from crlcheck.responses import policy_response, simple_response
from crlcheck.revset import CRLInfo, RevocationSet, RevokedEntry
from crlcheck.serial import decode_serial, encode_serial, format_serial
from crlcheck.settings import SettingsError
from crlcheck.store import DocumentNotFoundError, DocumentSource, RevocationCache, plan_publication

__all__ = [
    "CRL",
    "DEFAULT_CLOCK_SKEW",
    "FORMAT_VERSION",
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
    "EventError",
    "IndirectCRLError",
    "PartialCRLError",
    "Reason",
    "RevocationCache",
    "RevocationSet",
    "RevokedEntry",
    "SettingsError",
    "StorageError",
    "UnsupportedCRLError",
    "UnsupportedCRLExtensionError",
    "__version__",
    "decide",
    "decode_serial",
    "dump_document",
    "encode_serial",
    "format_serial",
    "load_certificate",
    "load_certificates",
    "load_crl",
    "load_document",
    "parse_authorizer_event",
    "parse_s3_event",
    "plan_publication",
    "policy_response",
    "simple_response",
    "verify_crl",
]
