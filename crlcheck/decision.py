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
from crlcheck.certificate import (
    as_bytes,
    parse_certificate,
    read_certificate,
    read_identity,
)
from crlcheck.errors import CertificateParseError, CRLCheckError, Reason
from crlcheck.revset import (
    DEFAULT_CLOCK_SKEW,
    RevocationSet,
    RevokedEntry,
    Validity,
    validity_at,
)
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
        delta_crl_number: The CRL number of the delta CRL that decided (a revocation it lists)
            or took part (it completes the allowing CRL, or released a hold), if any.
        certificate: With a chain (:func:`crlcheck.chain.decide_chain`), which certificate a
            deny is about: ``"leaf"`` or ``"intermediate N (subject)"``.
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
    delta_crl_number: int | None = None
    certificate: str | None = None

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
            "delta_crl_number": (
                str(self.delta_crl_number) if self.delta_crl_number is not None else None
            ),
            "certificate": self.certificate,
        }


def _utc(value: datetime | None) -> str | None:
    return format_utc(value) if value is not None else None


_Subject = tuple[x509.Certificate, int, bytes]
"""What a decision reads from the certificate: ``(certificate, serial, issuer_der)``."""


def _read(certificate: x509.Certificate | bytes | str, sets: Sequence[RevocationSet]) -> _Subject:
    """Read serial and issuer from the certificate's DER; its extensions only when needed.

    The issuer is compared as DER. A set's ``issuer_der`` is cryptography's re-encoding of its
    CRL's issuer Name, the same bytes as the Name in the certificate when both are DER; a
    certificate whose issuer matches no set byte for byte (no covering CRL, or a Name that is
    not DER) is read again through cryptography's Name objects, which re-encode it the same way.

    Extensions are parsed (cryptography does it on first access) only when a set of the
    certificate's issuer is scoped (issuingDistributionPoint names, or onlyContainsUserCerts):
    reading the scope needs them, and a malformed extension then makes the certificate
    unreadable (``bad_certificate``). Otherwise they play no part in the decision and are not
    parsed, so a certificate with a malformed extension is decided on its serial and issuer
    (bytes and certificate objects alike; :func:`load_certificate` still refuses it). Serials
    are read from the DER too, so a negative or zero one is read without cryptography's warning.

    Raises:
        CertificateParseError: The certificate cannot be read.
        TypeError: ``certificate`` is of none of the accepted types.
    """
    if isinstance(certificate, x509.Certificate):
        cert = certificate
        serial, issuer_der = read_identity(cert)
    else:
        data = as_bytes(certificate, "a certificate")
        quick = read_certificate(data)
        if quick is not None:
            cert, serial, issuer_der = quick
        else:
            cert = parse_certificate(data, extensions=False)
            serial, issuer_der = read_identity(cert)
    if not any(s.info.issuer_der == issuer_der for s in sets):
        issuer_der = _reencoded_issuer(cert)
    for revset in sets:
        info = revset.info
        if (info.distribution_points or info.only_user_certs) and info.issuer_der == issuer_der:
            try:
                _ = cert.extensions
            except Exception as exc:  # Duplicate or malformed: see load_certificate.
                raise CertificateParseError(f"unreadable certificate: {exc}") from exc
            break
    return cert, serial, issuer_der


def _reencoded_issuer(cert: x509.Certificate) -> bytes:
    try:
        return cert.issuer.public_bytes()
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
            serial=subject[1],
        )


def _lookup(revset: RevocationSet, serial: int) -> RevokedEntry | None:
    """``revset.lookup``; a lazily loaded document found corrupt raises an error that says so."""
    try:
        return revset.lookup(serial)
    except CRLCheckError as exc:  # See crlcheck.revset: lazy order checks.
        raise _UnusableDocumentError(revset, exc) from exc


class _UnusableDocumentError(Exception):
    def __init__(self, revset: RevocationSet, error: CRLCheckError) -> None:
        super().__init__(error.message)
        self.revset = revset
        self.error = error


def _applies(delta: RevocationSet, base: RevocationSet) -> bool:
    """RFC 5280 §5.2.4: a delta completes a base whose number is at least its BaseCRLNumber."""
    number, base_number = base.info.crl_number, delta.info.delta_base
    assert base_number is not None  # noqa: S101 (only deltas are passed)
    return number is not None and base_number <= number < (delta.info.crl_number or 0)


def _decide(
    subject: _Subject,
    sets: Sequence[RevocationSet],
    now: datetime,
    grace: timedelta,
    clock_skew: timedelta,
) -> Decision:
    cert, serial, issuer_der = subject
    covering = [s for s in sets if s.info.issuer_der == issuer_der and s.covers_scope(cert)]
    if len(covering) == 1:  # The usual case, without building a list.
        completes = [] if covering[0].info.is_delta else covering
    else:
        completes = [s for s in covering if not s.info.is_delta]
    if not completes:
        # A delta CRL never decides alone (RFC 5280 §5.2.4: it only lists changes to a base).
        return Decision(
            allowed=False,
            reason=Reason.NO_COVERING_CRL,
            message="no loaded complete CRL covers this issuer"
            + (" (a delta CRL never decides alone)" if covering else ""),
            serial=serial,
            issuer=cert.issuer.rfc4514_string(),
        )
    # The covering CRL's issuer text is the same Name (same DER); formatting it again costs more
    # than the whole lookup.
    issuer = completes[0].info.issuer
    try:
        return _decide_covered(serial, issuer, covering, completes, now, grace, clock_skew)
    except _UnusableDocumentError as exc:
        return Decision(
            allowed=False,
            reason=exc.error.deny_reason,
            message=f"the covering revocation document is invalid: {exc.error.message}",
            serial=serial,
            issuer=issuer,
            crl_number=exc.revset.info.crl_number,
        )


def _decide_covered(
    serial: int,
    issuer: str,
    covering: list[RevocationSet],
    completes: list[RevocationSet],
    now: datetime,
    grace: timedelta,
    clock_skew: timedelta,
) -> Decision:
    """RFC 5280 §6.3.3 steps (i)-(k) for one certificate and its issuer's covering CRLs."""

    def fresh(revset: RevocationSet) -> bool:
        state = revset.info.validity(now, grace=grace, clock_skew=clock_skew)
        return state is Validity.FRESH

    def revoked(
        revset: RevocationSet, entry: RevokedEntry, delta: RevocationSet | None
    ) -> Decision:
        return Decision(
            allowed=False,
            reason=Reason.REVOKED,
            message="certificate is revoked" + (" (delta CRL)" if revset.info.is_delta else ""),
            serial=serial,
            issuer=issuer,
            crl_number=revset.info.crl_number if delta is None else None,
            revocation_date=entry.revocation_date,
            revocation_reason=entry.reason,
            this_update=revset.info.this_update,
            next_update=revset.info.next_update,
            delta_crl_number=delta.info.crl_number if delta is not None else None,
        )

    if len(covering) == 1:
        # The usual case, one complete CRL and no delta: (j) and (k) without the bookkeeping.
        base = covering[0]
        info = base.info
        entry = _lookup(base, serial)
        if entry is not None:
            return revoked(base, entry, None)
        if (
            validity_at(info.this_update, info.next_update, now, grace=grace, clock_skew=clock_skew)
            is Validity.FRESH
        ):
            return Decision(
                allowed=True,
                reason=Reason.NOT_REVOKED,
                message="certificate is not revoked",
                serial=serial,
                issuer=issuer,
                crl_number=info.crl_number,
                this_update=info.this_update,
                next_update=info.next_update,
            )

    # Deltas newer than every complete CRL: an older one's changes are in the complete CRLs.
    newest = max(
        (s.info.crl_number for s in completes if s.info.crl_number is not None), default=-1
    )
    deltas = [s for s in covering if s.info.is_delta and (s.info.crl_number or 0) > newest]
    # (i) A certificate a delta lists (other than removeFromCRL) is revoked, fresh delta or not:
    # a signed revocation does not expire.
    released: list[RevocationSet] = []
    for delta in deltas:
        entry = _lookup(delta, serial)
        if entry is not None:
            if entry.reason != "removeFromCRL":
                return revoked(delta, entry, delta)
            if fresh(delta):
                released.append(delta)
    # (j) The complete CRLs. A removeFromCRL in a fresh delta that completes this base releases
    # a certificateHold (RFC 5280 §5.3.1); it never releases any other reason, and a stale
    # delta releases nothing (it cannot allow what the fresh base alone would deny).
    for base in completes:
        entry = _lookup(base, serial)
        if entry is None:
            continue
        if entry.reason == "certificateHold" and any(_applies(d, base) for d in released):
            continue
        return revoked(base, entry, None)
    usable = [s for s in completes if fresh(s)]
    if usable:
        best = usable[0] if len(usable) == 1 else max(usable, key=lambda s: s.info.this_update)
        used = [d for d in deltas if _applies(d, best) and fresh(d)]
        return Decision(
            allowed=True,
            reason=Reason.NOT_REVOKED,
            message="certificate is not revoked",
            serial=serial,
            issuer=issuer,
            crl_number=best.info.crl_number,
            this_update=best.info.this_update,
            next_update=best.info.next_update,
            delta_crl_number=max((d.info.crl_number or 0 for d in used), default=None),
        )
    latest = max(completes, key=lambda s: s.info.this_update).info
    if all(
        s.info.validity(now, grace=grace, clock_skew=clock_skew) is Validity.NOT_YET_VALID
        for s in completes
    ):
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
