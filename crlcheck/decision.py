"""The revocation decision for one client certificate against loaded revocation sets."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography import x509

from crlcheck._time import format_utc
from crlcheck.crl import DEFAULT_CLOCK_SKEW, load_certificate, read_certificate
from crlcheck.errors import CacheFormatError, CertificateParseError
from crlcheck.revset import RevocationSet
from crlcheck.serial import format_serial

__all__ = ["Decision", "Reason", "decide"]


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


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one certificate.

    Attributes:
        allowed: True only when a fresh CRL covering the certificate's issuer does not list it.
        reason: Machine-readable reason.
        message: One human-readable line.
        serial: The certificate's serial number, when it could be read.
        issuer: The certificate's issuer name (RFC 4514), when it could be read.
        crl_number: The CRL number of the deciding CRL, when known.
        revocation_date: When the certificate was revoked (reason ``REVOKED`` only).
        revocation_reason: The CRLReason name (reason ``REVOKED`` only), if the CRL gives one.
    """

    allowed: bool
    reason: Reason
    message: str
    serial: int | None = None
    issuer: str | None = None
    crl_number: int | None = None
    revocation_date: datetime | None = None
    revocation_reason: str | None = None

    @classmethod
    def deny(cls, reason: Reason, message: str) -> Decision:
        """A deny that carries no certificate details (bad input, store failure, ...)."""
        return cls(False, reason, message)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: serial as openssl-style hex text, dates as ISO 8601."""
        return {
            "allowed": self.allowed,
            "reason": self.reason.value,
            "message": self.message,
            "serial": format_serial(self.serial) if self.serial is not None else None,
            "issuer": self.issuer,
            "crl_number": str(self.crl_number) if self.crl_number is not None else None,
            "revocation_date": (
                format_utc(self.revocation_date) if self.revocation_date is not None else None
            ),
            "revocation_reason": self.revocation_reason,
        }


def _serial(cert: x509.Certificate) -> int:
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


def decide(
    certificate: x509.Certificate | bytes,
    sets: Iterable[RevocationSet],
    *,
    now: datetime,
    grace: timedelta = timedelta(0),
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> Decision:
    """Decide whether a client certificate may pass.

    The covering sets are those whose CRL issuer name equals the certificate's issuer name (and,
    for CRLs scoped by an issuingDistributionPoint, whose scope includes the certificate).
    Serials are only ever compared within a covering set, so two CAs may reuse a serial.

    Args:
        certificate: The client certificate, parsed or as PEM/DER bytes.
        sets: Loaded revocation sets, any number of issuers.
        now: The evaluation time (aware datetime).
        grace: How long past nextUpdate a CRL may still be used to allow.
        clock_skew: How far before thisUpdate a CRL may already be used.

    Returns:
        Allow only when the certificate is listed by no covering set and at least one covering
        set is fresh at ``now``; otherwise a deny with its reason. Bad input, and a lazily
        loaded document found out of order, are a deny, not an exception.
    """
    quick = None
    if now.tzinfo is None:
        return Decision.deny(Reason.BAD_REQUEST, "now must be a timezone-aware datetime")
    if isinstance(certificate, x509.Certificate):
        cert = certificate
    else:
        quick = read_certificate(certificate)
        if quick is not None:
            # The quick route: parsed (extensions included) by cryptography, the serial and
            # the issuer Name's DER read from the certificate's own DER. A set's issuer_der is
            # cryptography's re-encoding of its CRL's issuer, so a certificate issuer with the
            # same bytes re-encodes to them too; for one that matches no set byte for byte
            # (no covering CRL, or a Name that is not DER), the general route decides.
            sets = sets if isinstance(sets, list | tuple) else list(sets)
            cert, serial, issuer_der = quick
            if not any(s.info.issuer_der == issuer_der for s in sets):
                quick = None
        if quick is None:
            try:
                cert = load_certificate(certificate)
            except CertificateParseError as exc:
                return Decision.deny(Reason.BAD_CERTIFICATE, exc.message)
    try:
        if quick is None:
            serial = _serial(cert)
            issuer_der = cert.issuer.public_bytes()
            # Extensions are parsed on first access; the scope check below reads them.
            _ = cert.extensions
        covering = [s for s in sets if s.info.issuer_der == issuer_der and s.covers_scope(cert)]
        # The covering CRL's issuer text is the same Name (same DER); formatting it again
        # costs more than the whole lookup.
        issuer = covering[0].info.issuer if covering else cert.issuer.rfc4514_string()
    except Exception as exc:  # A certificate cryptography parsed lazily may still fail here.
        return Decision.deny(Reason.BAD_CERTIFICATE, f"unreadable certificate: {exc}")

    if not covering:
        return Decision(
            False, Reason.NO_COVERING_CRL, "no loaded CRL covers this issuer", serial, issuer
        )
    for revset in covering:
        try:
            entry = revset.lookup(serial)
        except CacheFormatError as exc:
            # A lazily loaded document turned out to be out of order (see crlcheck.revset).
            return Decision(
                False,
                Reason.DOCUMENT_INVALID,
                f"the covering revocation document is invalid: {exc.message}",
                serial,
                issuer,
                revset.info.crl_number,
            )
        if entry is not None:
            return Decision(
                False,
                Reason.REVOKED,
                "certificate is revoked",
                serial,
                issuer,
                revset.info.crl_number,
                entry.revocation_date,
                entry.reason,
            )
    fresh = [s for s in covering if s.is_fresh(now, grace=grace, clock_skew=clock_skew)]
    if fresh:
        best = fresh[0] if len(fresh) == 1 else max(fresh, key=lambda s: s.info.this_update)
        return Decision(
            True,
            Reason.NOT_REVOKED,
            "certificate is not revoked",
            serial,
            issuer,
            best.info.crl_number,
        )
    if all(now - s.info.this_update < -clock_skew for s in covering):
        return Decision(
            False, Reason.CRL_NOT_YET_VALID, "the covering CRL is not valid yet", serial, issuer
        )
    return Decision(False, Reason.CRL_STALE, "the covering CRL is stale", serial, issuer)
