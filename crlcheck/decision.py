"""The revocation decision for one client certificate against loaded revocation sets.

Theory of operation
-------------------
:func:`decide` reads the certificate (:mod:`crlcheck.certificate`), selects the *covering* sets
(RFC 5280 §6.3.3 (b): the CRL issuer name equals the certificate's issuer name, and an
issuingDistributionPoint scope, if any, includes the certificate), and then answers in this
order:

1. no covering set: deny ``no_covering_crl`` (serials are only compared within their issuer's
   sets, so two CAs may reuse a serial);
2. any covering set lists the serial: deny ``revoked`` (a stale CRL still proves a revocation);
3. a covering set is fresh (:meth:`crlcheck.CRLInfo.validity`): allow ``not_revoked``;
4. otherwise deny ``crl_not_yet_valid`` or ``crl_stale``.

Input that cannot be read is a deny (``bad_certificate``, ``bad_request``), a document found
corrupt by a lazy check is a deny with that error's reason, and anything unforeseen is a deny
with ``internal_error``: :func:`decide` never raises for the certificate's content.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from crlcheck._time import format_utc
from crlcheck.certificate import as_bytes, load_certificate, read_certificate, read_serial
from crlcheck.errors import CertificateParseError, CRLCheckError, Reason
from crlcheck.revset import DEFAULT_CLOCK_SKEW, RevocationSet, Validity
from crlcheck.serial import format_serial

__all__ = ["Decision", "Reason", "decide"]


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
        next_update: The deciding CRL's nextUpdate, when a CRL decided.
        this_update: The deciding CRL's thisUpdate, when a CRL decided.
    """

    allowed: bool
    reason: Reason
    message: str
    serial: int | None = None
    issuer: str | None = None
    crl_number: int | None = None
    revocation_date: datetime | None = None
    revocation_reason: str | None = None
    next_update: datetime | None = None
    this_update: datetime | None = None

    @classmethod
    def deny(cls, reason: Reason, message: str) -> Decision:
        """A deny that carries no certificate details (bad input, store failure, ...)."""
        return cls(allowed=False, reason=reason, message=message)

    def to_dict(self) -> dict[str, Any]:
        """The one output view of a decision (CLI ``--json``, logs, response contexts).

        Serials are openssl-style hex text and CRL numbers decimal text (both can exceed what
        a JSON number holds exactly); dates are ``YYYY-MM-DDTHH:MM:SSZ``.
        """
        return {
            "allowed": self.allowed,
            "reason": self.reason.value,
            "message": self.message,
            "serial": format_serial(self.serial) if self.serial is not None else None,
            "issuer": self.issuer,
            "crl_number": str(self.crl_number) if self.crl_number is not None else None,
            "revocation_date": _utc(self.revocation_date),
            "revocation_reason": self.revocation_reason,
            "this_update": _utc(self.this_update),
            "next_update": _utc(self.next_update),
        }


def _utc(value: datetime | None) -> str | None:
    return format_utc(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class _Subject:
    """What a decision reads from the certificate."""

    cert: x509.Certificate
    serial: int
    issuer_der: bytes


def _read(certificate: x509.Certificate | bytes | str, sets: Sequence[RevocationSet]) -> _Subject:
    """Read serial and issuer: from the DER on the quick route, else through cryptography.

    Raises:
        CertificateParseError: The certificate cannot be read.
        TypeError: ``certificate`` is of none of the accepted types.
    """
    if not isinstance(certificate, x509.Certificate):
        data = as_bytes(certificate, "a certificate")
        quick = read_certificate(data)
        # The quick route reads the issuer Name's DER from the certificate; a set's issuer_der
        # is cryptography's re-encoding of its CRL's issuer, the same bytes for a DER Name. A
        # certificate whose issuer matches no set byte for byte (no covering CRL, or a Name
        # that is not DER) takes the general route, which re-encodes it the same way.
        if quick is not None and any(s.info.issuer_der == quick[2] for s in sets):
            return _Subject(*quick)
        certificate = load_certificate(data)
    try:
        # Extensions are parsed on first access; the scope check reads them, so a malformed
        # one must refuse the certificate here (as load_certificate does for bytes).
        _ = certificate.extensions
        return _Subject(certificate, read_serial(certificate), certificate.issuer.public_bytes())
    except Exception as exc:  # cryptography parses lazily: a bad field fails on first access.
        raise CertificateParseError(f"unreadable certificate: {exc}") from exc


def decide(
    certificate: x509.Certificate | bytes | str,
    sets: Iterable[RevocationSet],
    *,
    now: datetime,
    grace: timedelta = timedelta(0),
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> Decision:
    """Decide whether a client certificate may pass (see the module notes).

    Args:
        certificate: The client certificate, parsed, or as PEM/DER bytes or PEM text.
        sets: Loaded revocation sets, any number of issuers.
        now: The evaluation time (aware datetime).
        grace: How long past nextUpdate a CRL may still be used to allow.
        clock_skew: How far before thisUpdate a CRL may already be used.

    Returns:
        Allow only when the certificate is listed by no covering set and at least one covering
        set is fresh at ``now``; otherwise a deny with its reason.

    Raises:
        TypeError: ``certificate`` is neither a certificate, bytes nor str.
    """
    if now.tzinfo is None:
        return Decision.deny(Reason.BAD_REQUEST, "now must be a timezone-aware datetime")
    sets = sets if isinstance(sets, list | tuple) else list(sets)
    try:
        subject = _read(certificate, sets)
    except CertificateParseError as exc:
        return Decision.deny(exc.deny_reason, exc.message)
    try:
        return _decide(subject, sets, now, grace, clock_skew)
    except Exception as exc:  # A bug must still deny, and show as one.
        return Decision(
            allowed=False,
            reason=Reason.INTERNAL_ERROR,
            message=f"internal error: {type(exc).__name__}: {exc}",
            serial=subject.serial,
        )


def _decide(
    subject: _Subject,
    sets: Sequence[RevocationSet],
    now: datetime,
    grace: timedelta,
    clock_skew: timedelta,
) -> Decision:
    serial, cert = subject.serial, subject.cert
    covering = [s for s in sets if s.info.issuer_der == subject.issuer_der and s.covers_scope(cert)]
    if not covering:
        return Decision(
            allowed=False,
            reason=Reason.NO_COVERING_CRL,
            message="no loaded CRL covers this issuer",
            serial=serial,
            issuer=cert.issuer.rfc4514_string(),
        )
    # The covering CRL's issuer text is the same Name (same DER); formatting it again costs more
    # than the whole lookup.
    issuer = covering[0].info.issuer
    for revset in covering:
        try:
            entry = revset.lookup(serial)
        except CRLCheckError as exc:  # A lazily loaded document found corrupt (crlcheck.revset).
            return Decision(
                allowed=False,
                reason=exc.deny_reason,
                message=f"the covering revocation document is invalid: {exc.message}",
                serial=serial,
                issuer=issuer,
                crl_number=revset.info.crl_number,
            )
        if entry is not None:
            return Decision(
                allowed=False,
                reason=Reason.REVOKED,
                message="certificate is revoked",
                serial=serial,
                issuer=issuer,
                crl_number=revset.info.crl_number,
                revocation_date=entry.revocation_date,
                revocation_reason=entry.reason,
                this_update=revset.info.this_update,
                next_update=revset.info.next_update,
            )
    states = [s.info.validity(now, grace=grace, clock_skew=clock_skew) for s in covering]
    fresh = [s for s, state in zip(covering, states, strict=True) if state is Validity.FRESH]
    if fresh:
        best = fresh[0] if len(fresh) == 1 else max(fresh, key=lambda s: s.info.this_update)
        return Decision(
            allowed=True,
            reason=Reason.NOT_REVOKED,
            message="certificate is not revoked",
            serial=serial,
            issuer=issuer,
            crl_number=best.info.crl_number,
            this_update=best.info.this_update,
            next_update=best.info.next_update,
        )
    latest = max(covering, key=lambda s: s.info.this_update).info
    if all(state is Validity.NOT_YET_VALID for state in states):
        reason = Reason.CRL_NOT_YET_VALID
        message = f"the covering CRL is not valid until {format_utc(latest.this_update)}"
    else:
        reason = Reason.CRL_STALE
        message = f"the covering CRL is stale since {format_utc(latest.next_update)}"
    return Decision(
        allowed=False,
        reason=reason,
        message=message,
        serial=serial,
        issuer=issuer,
        crl_number=latest.crl_number,
        this_update=latest.this_update,
        next_update=latest.next_update,
    )
