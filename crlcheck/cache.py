"""The document source interface and the ETag-revalidated cache of revocation sets (pure).

Theory of operation
-------------------
The authorizer keeps, per document key, the last good :class:`~crlcheck.RevocationSet` it loaded
together with the ETag of the body it came from. :meth:`RevocationCache.refresh` revalidates each
key with ONE conditional read (``If-None-Match: <etag>``, see :class:`DocumentSource`): an
unchanged document costs a request and no download; a changed one is downloaded, parsed with
``check_order="lazy"`` (so a large document does not delay the request that loads it), and
replaces the old set.

Failures never make things worse than they were:

* a fetch that fails (throttling, 5xx, timeout, access denied, deleted document) keeps the last
  good set for that key;
* a new body that does not parse keeps the last good set, and its ETag is remembered so that the
  same bad body is not downloaded again on every request (the next read is conditional on the
  bad ETag and costs nothing until the document changes). The memory lasts
  :data:`BAD_BODY_RETRY_SECONDS`: a body can also have been damaged on its way (an object
  without a stored checksum), and the document in the store may be fine;
* a key that has never loaded is reported unusable and contributes no set, so certificates of
  that issuer are denied (``no_covering_crl``).

Whether a kept set may still *allow* is not decided here: a set carries its CRL's nextUpdate and
:func:`crlcheck.decide` refuses stale sets (past nextUpdate plus the configured grace). So "keep
the last good set" can never extend trust beyond what the CRL itself grants.

The snapshot of sets is replaced with one assignment after a refresh has built the new one, so a
reader (another thread, or a re-entrant call) sees either the old or the new sets of every key,
never a half-updated mixture.

The minimum revalidation interval trades S3 requests for bounded staleness: with interval ``N``
a warm container revalidates a key at most once every ``N`` seconds (measured on a monotonic
clock from the last attempt, successful or not), so a revocation published to S3 is seen at most
``N`` seconds late. The default ``0`` revalidates on every request. A key with no usable set is
retried on every refresh regardless of the interval: until it loads, its certificates are denied.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, Protocol

from cryptography import x509

from crlcheck.catalog import Catalog, CatalogEntry, load_catalog
from crlcheck.certificate import load_certificates
from crlcheck.codec import load_document
from crlcheck.errors import CRLCheckError, DocumentTooLargeError, StorageError
from crlcheck.revset import RevocationSet, distribution_point_names, is_ca

__all__ = [
    "BAD_BODY_RETRY_SECONDS",
    "NOT_MODIFIED",
    "CachedDocument",
    "CatalogCache",
    "CertificateBundle",
    "DocumentSource",
    "Fetched",
    "NotModified",
    "RefreshFailure",
    "RefreshReport",
    "RevocationCache",
]


@dataclass(frozen=True, slots=True)
class NotModified:
    """The stored document still has the ETag the caller holds (HTTP 304)."""


NOT_MODIFIED: Final = NotModified()

# How long a body that failed to load is not downloaded again (see the module notes).
BAD_BODY_RETRY_SECONDS: Final = 300.0


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document body and the ETag that identifies it."""

    body: bytes
    etag: str


class DocumentSource(Protocol):
    """Where documents come from (S3 in production: :class:`crlcheck.s3.S3DocumentSource`)."""

    def fetch(self, key: str, etag: str | None) -> NotModified | Fetched:
        """Read ``key`` unless it still has ``etag``.

        Args:
            key: The document key.
            etag: The ETag the caller holds, or None to read unconditionally.

        Returns:
            :data:`NOT_MODIFIED` when the document still has ``etag``; else its body and ETag.

        Raises:
            DocumentNotFoundError: The document is missing or not readable.
            DocumentTooLargeError: The document is over the size the source accepts.
            StorageError: Any other failure; ``retryable`` says whether it may pass.
        """
        ...


@dataclass(frozen=True, slots=True)
class CachedDocument:
    """The last good revocation set of one document key.

    Attributes:
        key: The document key.
        revset: The revocation set loaded from it.
        etag: The ETag of the body ``revset`` was loaded from.
        loaded_at: Monotonic time at which it was loaded.
    """

    key: str
    revset: RevocationSet
    etag: str
    loaded_at: float


@dataclass(frozen=True, slots=True)
class RefreshFailure:
    """A key whose revalidation failed during a refresh.

    Attributes:
        key: The document key.
        reason: The error's reason code (e.g. ``store_unavailable``, ``document_missing``,
            ``document_invalid``).
        message: One line for the logs.
        retryable: Whether the store said the fault may pass.
        kept: True when the key's last good set keeps serving; False when the key has none.
        stage: ``"fetch"`` when reading from the store failed, ``"load"`` when the body it
            returned is not a valid document.
    """

    key: str
    reason: str
    message: str
    retryable: bool
    kept: bool
    stage: Literal["fetch", "load"] = "fetch"


@dataclass(frozen=True, slots=True)
class RefreshReport:
    """What one :meth:`RevocationCache.refresh` did.

    Attributes:
        checked: Keys that were revalidated (a fetch was attempted).
        reloaded: Keys whose set was replaced by a new one.
        failures: Keys whose revalidation failed.
        unusable: Keys that have no set after this refresh.
    """

    checked: tuple[str, ...] = ()
    reloaded: tuple[str, ...] = ()
    failures: tuple[RefreshFailure, ...] = ()
    unusable: tuple[str, ...] = ()

    def merged(self, other: RefreshReport) -> RefreshReport:
        """This report followed by ``other`` (a catalog refresh, then a request's loads)."""
        return RefreshReport(
            checked=self.checked + other.checked,
            reloaded=self.reloaded + other.reloaded,
            failures=self.failures + other.failures,
            unusable=tuple(dict.fromkeys(self.unusable + other.unusable)),
        )


_NOTHING_DUE: Final = RefreshReport()
"""The report of a refresh with nothing due (immutable, so shared)."""


@dataclass(frozen=True, slots=True)
class _Snapshot:
    documents: Mapping[str, CachedDocument]
    sets: tuple[RevocationSet, ...]


@dataclass(frozen=True, slots=True)
class _BadBody:
    """A body that failed to load, remembered so it is not downloaded again (for a while)."""

    etag: str
    reason: str
    message: str
    at: float = 0.0  # The refresh time at which it failed.


class RevocationCache:
    """Revocation sets of several documents, revalidated by ETag (see the module notes).

    Args:
        source: Where the documents are read from.
        keys: The document keys, one per CRL issuer (at least one, no duplicates).
        revalidate_seconds: Minimum seconds between two revalidations of a loaded key; 0 (the
            default) revalidates on every :meth:`refresh`.

    Raises:
        ValueError: If ``keys`` is empty or has duplicates, or ``revalidate_seconds`` is
            negative or not finite.
    """

    def __init__(
        self,
        source: DocumentSource,
        keys: Iterable[str],
        *,
        revalidate_seconds: float = 0.0,
    ) -> None:
        self._keys = tuple(keys)
        if not self._keys:
            raise ValueError("at least one document key is required")
        if len(set(self._keys)) != len(self._keys):
            raise ValueError("document keys must be unique")
        if not math.isfinite(revalidate_seconds) or revalidate_seconds < 0:
            raise ValueError("revalidate_seconds must be a finite number >= 0")
        self._source = source
        self._interval = revalidate_seconds
        self._snapshot = _Snapshot(MappingProxyType({}), ())
        self._attempted: dict[str, float] = {}
        self._bad: dict[str, _BadBody] = {}
        self._discover: Callable[[], Iterable[str]] | None = None
        self._discovered_at: float | None = None

    @classmethod
    def discovering(
        cls,
        source: DocumentSource,
        discover: Callable[[], Iterable[str]],
        *,
        revalidate_seconds: float = 0.0,
    ) -> RevocationCache:
        """A cache whose keys are listed again by ``discover()`` at each due refresh.

        For sources that can list cheaply (a directory): a document added later is loaded by
        a later refresh, and one removed stops serving, with no restart. ``discover`` must
        return at least one key at construction.
        """
        cache = cls(source, discover(), revalidate_seconds=revalidate_seconds)
        cache._discover = discover
        return cache

    def _rediscover(self, now: float) -> None:
        assert self._discover is not None  # noqa: S101 (only called when set)
        if self._discovered_at is not None and now - self._discovered_at < self._interval:
            return
        self._discovered_at = now
        keys = tuple(dict.fromkeys(self._discover()))
        if keys == self._keys:
            return
        self._keys = keys
        documents = {k: d for k, d in self._snapshot.documents.items() if k in keys}
        self._snapshot = _Snapshot(
            MappingProxyType(documents),
            tuple(documents[k].revset for k in keys if k in documents),
        )

    @property
    def keys(self) -> tuple[str, ...]:
        """The document keys, in configuration order."""
        return self._keys

    def sets(self) -> tuple[RevocationSet, ...]:
        """The current revocation sets (one per usable key), for :func:`crlcheck.decide`."""
        return self._snapshot.sets

    def documents(self) -> Mapping[str, CachedDocument]:
        """The current cached documents by key (read-only)."""
        return self._snapshot.documents

    def unusable(self) -> tuple[str, ...]:
        """Keys that have no set."""
        documents = self._snapshot.documents
        return tuple(k for k in self._keys if k not in documents)

    def make_due(self) -> None:
        """Make every key due: the next :meth:`refresh` revalidates them all, interval or not.

        For a process resumed from a snapshot (Lambda SnapStart): its sets may be hours old,
        and its monotonic clock says nothing about the time that passed.
        """
        self._attempted.clear()

    def refresh(self, now: float) -> RefreshReport:
        """Revalidate every key that is due, with one conditional fetch each.

        Args:
            now: The current monotonic time in seconds (e.g. ``time.monotonic()``); used only
                for the revalidation interval.

        Returns:
            What was checked, reloaded, and what failed. Store and document failures
            (:class:`CRLCheckError`) are reported, never raised: the previous set of a failing
            key keeps serving. Any other exception (a bug in a source) propagates, and the
            sets stay as they were before the call.
        """
        if self._discover is not None:
            self._rediscover(now)
        current = self._snapshot.documents
        attempted, interval = self._attempted, self._interval
        for key in self._keys:
            last = attempted.get(key)
            if last is None or now - last >= interval or key not in current:
                break
        else:
            return _NOTHING_DUE  # Every key has a set and was revalidated within the interval.
        documents = dict(current)
        checked: list[str] = []
        reloaded: list[str] = []
        failures: list[RefreshFailure] = []
        store_down = False
        for key in self._keys:
            cached = documents.get(key)
            last = self._attempted.get(key)
            if cached is not None and last is not None and now - last < self._interval:
                continue
            if store_down:
                # One fetch already failed with a fault that may pass (throttling, 5xx, a
                # timeout): asking again for every other key would stack their timeouts past
                # the function's own (about 4 s per key). They keep their last good sets and
                # are checked on the next refresh.
                failures.append(
                    RefreshFailure(
                        key,
                        StorageError.reason,
                        "not checked: the store failed earlier in this refresh",
                        retryable=True,
                        kept=cached is not None,
                    )
                )
                continue
            checked.append(key)
            self._attempted[key] = now
            bad = self._bad.get(key)
            if bad is not None and now - bad.at >= BAD_BODY_RETRY_SECONDS:
                del self._bad[key]  # Time to download it again: it may load now.
                bad = None
            held = bad.etag if bad is not None else cached.etag if cached is not None else None
            try:
                result = self._source.fetch(key, held)
            except DocumentTooLargeError as exc:
                self._bad[key] = _BadBody(exc.etag, exc.reason, exc.message, now)
                failures.append(_failure(key, exc, kept=cached is not None, stage="load"))
                continue
            except CRLCheckError as exc:
                failures.append(_failure(key, exc, kept=cached is not None))
                store_down = isinstance(exc, StorageError) and exc.retryable
                continue
            if isinstance(result, NotModified):
                if held is None:
                    failures.append(
                        RefreshFailure(
                            key,
                            StorageError.reason,
                            "the store answered 'not modified' to an unconditional read",
                            retryable=True,
                            kept=cached is not None,
                        )
                    )
                elif bad is not None:
                    # Still the body that failed to load: keep reporting it, download nothing.
                    failures.append(
                        RefreshFailure(
                            key,
                            bad.reason,
                            bad.message,
                            retryable=False,
                            kept=cached is not None,
                            stage="load",
                        )
                    )
                continue
            if cached is not None and bad is None and result.etag == cached.etag:
                continue  # A source that ignores If-None-Match: same body, nothing to parse.
            try:
                revset = load_document(result.body, check_order="lazy")
            except CRLCheckError as exc:
                self._bad[key] = _BadBody(result.etag, exc.reason, exc.message, now)
                failures.append(_failure(key, exc, kept=cached is not None, stage="load"))
                continue
            self._bad.pop(key, None)
            documents[key] = CachedDocument(key, revset, result.etag, now)
            reloaded.append(key)
        if reloaded:
            # One assignment publishes the new snapshot: readers see all old or all new sets.
            self._snapshot = _Snapshot(
                MappingProxyType(documents),
                tuple(documents[k].revset for k in self._keys if k in documents),
            )
        return RefreshReport(
            checked=tuple(checked),
            reloaded=tuple(reloaded),
            failures=tuple(failures),
            unusable=self.unusable(),
        )


def _failure(
    key: str, exc: CRLCheckError, *, kept: bool, stage: Literal["fetch", "load"] = "fetch"
) -> RefreshFailure:
    retryable = exc.retryable if isinstance(exc, StorageError) else False
    return RefreshFailure(key, exc.reason, exc.message, retryable=retryable, kept=kept, stage=stage)


class CertificateBundle:
    """A PEM bundle of certificates from a :class:`DocumentSource`, revalidated by ETag.

    The authorizer's intermediates (see :mod:`crlcheck.chain`): read like a document, with one
    conditional fetch per revalidation. A fetch or a body that fails keeps the last good
    certificates; until one load succeeds, :meth:`certificates` is None (callers deny).

    Args:
        source: Where the bundle is read from.
        key: The bundle's key.
        revalidate_seconds: Minimum seconds between two revalidations once loaded.
    """

    def __init__(
        self, source: DocumentSource, key: str, *, revalidate_seconds: float = 0.0
    ) -> None:
        if not math.isfinite(revalidate_seconds) or revalidate_seconds < 0:
            raise ValueError("revalidate_seconds must be a finite number >= 0")
        self.key = key
        self._source = source
        self._interval = revalidate_seconds
        self._certificates: tuple[x509.Certificate, ...] | None = None
        self._etag: str | None = None
        self._attempted: float | None = None

    def certificates(self) -> tuple[x509.Certificate, ...] | None:
        """The last good certificates, or None when the bundle never loaded."""
        return self._certificates

    def make_due(self) -> None:
        """Make the bundle due: the next :meth:`refresh` revalidates it (see
        :meth:`RevocationCache.make_due`)."""
        self._attempted = None

    def refresh(self, now: float) -> RefreshFailure | None:
        """Revalidate the bundle if due; return the failure, if any (never raises for a fault).

        Args:
            now: The current monotonic time in seconds.
        """
        loaded = self._certificates is not None
        if loaded and self._attempted is not None and now - self._attempted < self._interval:
            return None
        self._attempted = now
        try:
            result = self._source.fetch(self.key, self._etag if loaded else None)
        except CRLCheckError as exc:
            return _failure(self.key, exc, kept=loaded)
        if isinstance(result, NotModified):
            return None
        try:
            certificates = tuple(load_certificates(result.body))
        except CRLCheckError as exc:
            return _failure(self.key, exc, kept=loaded, stage="load")
        self._certificates, self._etag = certificates, result.etag
        return None


@dataclass(slots=True)
class _Held:
    revset: RevocationSet
    etag: str
    size: int


class CatalogCache:
    """Documents chosen per request through a catalog (:mod:`crlcheck.catalog`), loaded lazily.

    :meth:`refresh` revalidates the catalog alone, with one conditional fetch (subject to the
    revalidation interval); :meth:`select` loads what a request's certificates need: the
    documents the catalog lists for their issuers and distribution points, fetched on first use
    and again only when the catalog shows another ETag (conditionally on the held one), and
    evicted least-recently-used above ``max_bytes``. A request's store traffic is thus one
    catalog read plus the documents that changed among those it needs, whatever the number of
    documents.

    Faults keep what was good: a catalog read that fails keeps the last good catalog; a
    document read that fails keeps its last good set. A cold start without a catalog has no
    sets, so every certificate is denied (``store_unavailable``).

    Args:
        source: Where the catalog and the documents are read from.
        catalog_key: The catalog's key.
        revalidate_seconds: Minimum seconds between two revalidations of the catalog.
        max_bytes: Memory budget of the loaded sets (``RevocationSet.size_bytes``).
    """

    def __init__(
        self,
        source: DocumentSource,
        catalog_key: str,
        *,
        revalidate_seconds: float = 0.0,
        max_bytes: int = 256 << 20,
    ) -> None:
        if not math.isfinite(revalidate_seconds) or revalidate_seconds < 0:
            raise ValueError("revalidate_seconds must be a finite number >= 0")
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.catalog_key = catalog_key
        self._source = source
        self._interval = revalidate_seconds
        self.max_bytes = max_bytes
        self._catalog: Catalog | None = None
        self._catalog_etag: str | None = None
        self._attempted: float | None = None
        self._held: OrderedDict[str, _Held] = OrderedDict()
        self._held_bytes = 0  # The sum of the held sizes, kept so a request need not add them.
        # key -> (ETag, time) of a body that did not load: not downloaded again for
        # BAD_BODY_RETRY_SECONDS, as in RevocationCache.
        self._bad: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @property
    def catalog(self) -> Catalog | None:
        """The last good catalog, or None before one loaded."""
        return self._catalog

    def held_bytes(self) -> int:
        """The memory the loaded sets hold (estimated)."""
        return self._held_bytes

    def sets(self) -> tuple[RevocationSet, ...]:
        """Every loaded set (most recently used last)."""
        return tuple(h.revset for h in self._held.values())

    def make_due(self) -> None:
        """Make the catalog due: the next :meth:`refresh` revalidates it, and through it the
        documents a request selects (see :meth:`RevocationCache.make_due`)."""
        self._attempted = None

    def refresh(self, now: float) -> RefreshReport:
        """Revalidate the catalog if due (one conditional fetch); never raises for a fault."""
        loaded = self._catalog is not None
        if loaded and self._attempted is not None and now - self._attempted < self._interval:
            return RefreshReport()
        self._attempted = now
        key = self.catalog_key
        try:
            result = self._source.fetch(key, self._catalog_etag if loaded else None)
        except CRLCheckError as exc:
            return self._report_catalog_failure(_failure(key, exc, kept=loaded))
        if isinstance(result, NotModified):
            return RefreshReport(checked=(key,))
        try:
            catalog = load_catalog(result.body)
        except CRLCheckError as exc:
            failure = _failure(key, exc, kept=loaded, stage="load")
            return self._report_catalog_failure(failure, checked=True)
        self._catalog, self._catalog_etag = catalog, result.etag
        return RefreshReport(checked=(key,), reloaded=(key,))

    def _report_catalog_failure(
        self, failure: RefreshFailure, *, checked: bool = True
    ) -> RefreshReport:
        unusable = () if self._catalog is not None else (self.catalog_key,)
        return RefreshReport(
            checked=(self.catalog_key,) if checked else (),
            failures=(failure,),
            unusable=unusable,
        )

    def select(
        self, certificates: Sequence[x509.Certificate], now: float
    ) -> tuple[tuple[RevocationSet, ...], RefreshReport]:
        """The sets that may cover ``certificates``, loading what is missing or changed.

        Args:
            certificates: The certificates to be decided (a leaf, and intermediates).
            now: The current monotonic time (for how long a bad body is not downloaded again).

        Returns:
            The sets, and a report of the documents fetched, failed or unusable.
        """
        catalog = self._catalog
        if catalog is None:
            return (), RefreshReport(unusable=(self.catalog_key,))
        wanted: dict[str, CatalogEntry] = {}
        for cert in certificates:
            try:
                issuer_der = cert.issuer.public_bytes()
                points = distribution_point_names(cert)
                ca = is_ca(cert)
            except Exception:  # noqa: S112 (an unreadable certificate is decide()'s to deny)
                continue
            for entry in catalog.select(issuer_der, points, is_ca=ca):
                wanted[entry.key] = entry
        checked: list[str] = []
        reloaded: list[str] = []
        failures: list[RefreshFailure] = []
        sets: list[RevocationSet] = []
        unusable: list[str] = []
        with self._lock:
            for key, entry in wanted.items():
                held = self._held.get(key)
                if held is None or held.etag != entry.etag:
                    checked.append(key)
                    held, failure = self._load(key, entry, held, now)
                    if failure is not None:
                        failures.append(failure)
                    elif held is not None:
                        reloaded.append(key)
                if held is None:
                    unusable.append(key)
                    continue
                self._held.move_to_end(key)
                sets.append(held.revset)
            self._evict(keep=set(wanted))
        report = RefreshReport(
            checked=tuple(checked),
            reloaded=tuple(reloaded),
            failures=tuple(failures),
            unusable=tuple(unusable),
        )
        return tuple(sets), report

    def _load(
        self, key: str, entry: CatalogEntry, held: _Held | None, now: float
    ) -> tuple[_Held | None, RefreshFailure | None]:
        """Fetch ``key`` (conditionally on the held ETag); return what is held after it."""
        bad = self._bad.get(key)
        if bad is not None and bad[0] == entry.etag and now - bad[1] < BAD_BODY_RETRY_SECONDS:
            # The catalog still names a body that did not load: do not download it again.
            failure = RefreshFailure(
                key,
                "document_invalid",
                "the body the catalog names did not load",
                retryable=False,
                kept=held is not None,
                stage="load",
            )
            return held, failure
        try:
            result = self._source.fetch(key, held.etag if held is not None else None)
        except CRLCheckError as exc:
            return held, _failure(key, exc, kept=held is not None)
        if isinstance(result, NotModified):
            return held, None  # The catalog is behind the document: keep serving the held set.
        try:
            revset = load_document(result.body, check_order="lazy")
        except CRLCheckError as exc:
            self._bad[key] = (entry.etag, now)
            return held, _failure(key, exc, kept=held is not None, stage="load")
        self._bad.pop(key, None)
        new = _Held(revset, result.etag, revset.size_bytes())
        self._held_bytes += new.size - (held.size if held is not None else 0)
        self._held[key] = new
        return new, None

    def _evict(self, *, keep: set[str]) -> None:
        if self._held_bytes <= self.max_bytes:
            return
        for key in list(self._held):
            if self._held_bytes <= self.max_bytes:
                break
            if key in keep:
                continue
            self._held_bytes -= self._held.pop(key).size
