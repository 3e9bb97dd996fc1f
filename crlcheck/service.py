"""The authorize workflow every front door calls: refresh the documents, decide, explain.

A front door (the API Gateway authorizer, a middleware, an HTTP decision endpoint, the CLI)
translates its request into ``(certificate, now)`` and the :class:`Verdict` into its response
and log line, and does nothing else: how documents are revalidated, how a decision is made,
and how a decision is explained when documents could not be loaded live here, once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509

from crlcheck.cache import (
    CatalogCache,
    CertificateBundle,
    RefreshFailure,
    RefreshReport,
    RevocationCache,
)
from crlcheck.certificate import load_certificate
from crlcheck.chain import build_path, decide_chain
from crlcheck.decision import Decision, decide
from crlcheck.errors import CertificateParseError, Reason
from crlcheck.revset import DEFAULT_CLOCK_SKEW, RevocationSet

__all__ = ["Authorizer", "Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one :meth:`Authorizer.check`.

    Attributes:
        decision: The decision.
        report: What the document refresh before it did.
        sets: The revocation sets the decision was made against.
        chain_failure: What went wrong revalidating the chain bundle, if anything.
    """

    decision: Decision
    report: RefreshReport
    sets: tuple[RevocationSet, ...]
    chain_failure: RefreshFailure | None = None


class Authorizer:
    """Decides client certificates against the documents of a :class:`RevocationCache`.

    Args:
        cache: The documents (revalidated before every decision, subject to its interval): a
            fixed list (:class:`RevocationCache`), or a catalog that selects them per request
            (:class:`CatalogCache`).
        grace: How long past nextUpdate a CRL may still allow.
        clock_skew: How far before thisUpdate a CRL may already be used.
        chain: Intermediates to check above each leaf (:mod:`crlcheck.chain`); None checks
            the leaf only.
        monotonic: The monotonic clock the cache's revalidation interval is measured on
            (``time.monotonic`` by default).
    """

    def __init__(
        self,
        cache: RevocationCache | CatalogCache,
        *,
        grace: timedelta = timedelta(0),
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
        chain: CertificateBundle | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.cache = cache
        self.chain = chain
        self.grace = grace
        self.clock_skew = clock_skew
        self._monotonic = monotonic

    def refresh(self) -> RefreshReport:
        """Revalidate (on a first call: load) the documents and the chain bundle now.

        What :meth:`check` does before deciding; called on its own to load everything ahead of
        the first request (a Lambda's init, before a SnapStart snapshot).
        """
        clock = self._monotonic() if self._monotonic is not None else time.monotonic()
        report = self.cache.refresh(clock)
        if self.chain is not None:
            failure = self.chain.refresh(clock)
            if failure is not None:
                report = report.merged(RefreshReport(failures=(failure,)))
        return report

    def make_due(self) -> None:
        """Revalidate everything on the next :meth:`check`, whatever the interval (after a
        SnapStart restore: the loaded documents may be hours old)."""
        self.cache.make_due()
        if self.chain is not None:
            self.chain.make_due()

    def check(self, certificate: x509.Certificate | bytes | str, now: datetime) -> Verdict:
        """Refresh the documents, then decide ``certificate`` at ``now``.

        Store and document failures never raise: a key that fails keeps its last good set, and
        a certificate whose issuer has no usable set is denied. When the reason may be a
        document that failed to load, the deny says ``store_unavailable`` and names the
        unusable documents, not "unknown issuer".

        Returns:
            The decision, with the refresh report and the sets it was made against.
        """
        clock = self._monotonic() if self._monotonic is not None else time.monotonic()
        report = self.cache.refresh(clock)
        chain_failure = self.chain.refresh(clock) if self.chain is not None else None
        chain = self.chain.certificates() if self.chain is not None else None
        if self.chain is not None and chain is None:
            # Intermediates must be checked but are unknown: fail closed.
            decision = Decision.deny(
                Reason.STORE_UNAVAILABLE,
                f"the chain bundle {self.chain.key!r} has not loaded: "
                + (chain_failure.message if chain_failure is not None else "no attempt yet"),
            )
            return Verdict(decision, report, (), chain_failure)
        if isinstance(self.cache, CatalogCache):
            # The catalog chooses the documents from the certificates on the path.
            try:
                if not isinstance(certificate, x509.Certificate):
                    certificate = load_certificate(certificate)
            except CertificateParseError as exc:
                return Verdict(Decision.deny(exc.deny_reason, exc.message), report, ())
            path = [certificate, *build_path(certificate, chain)] if chain else [certificate]
            sets, loads = self.cache.select(path, clock)
            report = report.merged(loads)
        else:
            sets = self.cache.sets()
        if chain is None:
            decision = decide(
                certificate, sets, now=now, grace=self.grace, clock_skew=self.clock_skew
            )
        else:
            decision = decide_chain(
                certificate, chain, sets, now=now, grace=self.grace, clock_skew=self.clock_skew
            )
        if decision.reason is Reason.NO_COVERING_CRL and report.unusable:
            # The covering document may be one that failed to load: say so, not "unknown issuer".
            decision = dataclasses.replace(
                decision,
                reason=Reason.STORE_UNAVAILABLE,
                message=f"{decision.message}; unusable documents: " + ", ".join(report.unusable),
            )
        return Verdict(decision, report, sets, chain_failure)
