"""Checking the certificates above the leaf: revoked intermediate CAs (RFC 5280 §6.1.3 (a)(3)).

A TLS terminator such as API Gateway verifies the client's chain up to its truststore but
hands the authorizer only the leaf; the intermediates are in the truststore. Given them,
:func:`build_path` finds the path above the leaf, by issuer name and signature, and
:func:`decide_chain` requires every certificate on it that is not self-signed (the leaf and each
intermediate) to be covered by a fresh CRL of its own issuer and not revoked: the first deny on
the path, leaf first, is the answer. A self-signed certificate (a trust anchor) is not checked:
no CRL can revoke a root, which is removed from the truststore instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from cryptography import x509

from crlcheck.certificate import as_bytes, load_certificate
from crlcheck.decision import Decision, decide
from crlcheck.errors import CertificateParseError
from crlcheck.revset import DEFAULT_CLOCK_SKEW, RevocationSet

__all__ = ["MAX_PATH_LENGTH", "build_path", "decide_chain", "is_self_signed"]

MAX_PATH_LENGTH = 8
"""The most certificates above the leaf that :func:`build_path` follows (loops, hostile bundles)."""


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer``'s subject is ``cert``'s issuer name and its key signed ``cert``."""
    if cert.issuer.public_bytes() != issuer.subject.public_bytes():
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, an unsupported key or algorithm: not its issuer.
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    """True for a certificate whose own key signed it under its own name (a trust anchor)."""
    return _issued_by(cert, cert)


def build_path(
    leaf: x509.Certificate, candidates: Iterable[x509.Certificate]
) -> list[x509.Certificate]:
    """The certificates above ``leaf``, nearest first, found among ``candidates``.

    Each step takes the candidate whose subject is the current certificate's issuer name and
    whose key verifies its signature. The path ends at a self-signed certificate (included),
    at a certificate whose issuer is not among the candidates, or after
    :data:`MAX_PATH_LENGTH` steps; a certificate is never used twice.
    """
    pool = list(candidates)
    path: list[x509.Certificate] = []
    current = leaf
    while len(path) < MAX_PATH_LENGTH and not is_self_signed(current):
        issuer = next((c for c in pool if c not in path and _issued_by(current, c)), None)
        if issuer is None:
            break
        path.append(issuer)
        current = issuer
    return path


def _name(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string()
    except ValueError:
        return "(unreadable subject)"


def decide_chain(
    certificate: x509.Certificate | bytes | str,
    chain: Sequence[x509.Certificate],
    sets: Iterable[RevocationSet],
    *,
    now: datetime,
    grace: timedelta = timedelta(0),
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> Decision:
    """Decide the leaf and every intermediate above it (see the module notes).

    Args:
        certificate: The leaf, parsed, or as PEM/DER bytes or PEM text.
        chain: Certificates that may be on the path above the leaf (intermediates, roots).
        sets: Loaded revocation sets of all issuers on the path.
        now: The evaluation time (aware datetime).
        grace: How long past nextUpdate a CRL may still be used to allow.
        clock_skew: How far before thisUpdate a CRL may already be used.

    Returns:
        The leaf's decision when every certificate on the path is allowed; else the first
        deny, leaf first, whose ``certificate`` names the certificate it is about.
    """
    sets = sets if isinstance(sets, list | tuple) else list(sets)
    if not isinstance(certificate, x509.Certificate):
        try:
            certificate = load_certificate(as_bytes(certificate, "a certificate"))
        except CertificateParseError as exc:
            return Decision.deny(exc.deny_reason, exc.message)
    leaf = decide(certificate, sets, now=now, grace=grace, clock_skew=clock_skew)
    if not leaf.allowed:
        return dataclasses.replace(leaf, certificate="leaf")
    for depth, cert in enumerate(build_path(certificate, chain), start=1):
        if is_self_signed(cert):
            break
        decision = decide(cert, sets, now=now, grace=grace, clock_skew=clock_skew)
        if not decision.allowed:
            which = f"intermediate {depth} ({_name(cert)})"
            return dataclasses.replace(
                decision, message=f"{which}: {decision.message}", certificate=which
            )
    return leaf
