"""crlcheck.store: the ETag-revalidated cache (with a fake source) and the publication rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest

from crlcheck import (
    CacheFormatError,
    CRLCheckError,
    CRLInfo,
    CRLIssuerMismatchError,
    CRLRollbackError,
    CRLStaleError,
    Reason,
    StorageError,
    decide,
    load_crl,
    load_document,
    verify_crl,
)
from crlcheck.cache import NOT_MODIFIED, Fetched, NotModified, RevocationCache
from crlcheck.errors import (
    DocumentIdentityError,
    DocumentNotFoundError,
    EventError,
    PublishedDocumentInvalidError,
    PublishedDocumentVersionError,
)
from crlcheck.publish import check_publication, document_key, plan_publication
from tests.pki import CA, NEXT, NOW, T0
from tests.serverless import make_document

KEY = "crls/ca.cache.json"


class FakeSource:
    """An in-memory document store that honours If-None-Match and counts downloads."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.faults: dict[str, Exception] = {}
        self.calls: list[tuple[str, str | None]] = []
        self.downloads = 0

    def put(self, key: str, body: bytes) -> str:
        etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
        self.objects[key] = (body, etag)
        return etag

    def fetch(self, key: str, etag: str | None) -> NotModified | Fetched:
        self.calls.append((key, etag))
        if key in self.faults:
            raise self.faults[key]
        if key not in self.objects:
            raise DocumentNotFoundError(f"{key}: NoSuchKey", key=key)
        body, current = self.objects[key]
        if etag == current:
            return NOT_MODIFIED
        self.downloads += 1
        return Fetched(body, current)


@pytest.fixture(scope="module")
def docs(ca: CA) -> dict[str, bytes]:
    """Documents of ``ca``: CRL 1 revokes nothing, CRL 2 revokes serial 0x2001."""
    return {
        "empty": make_document(ca, ca.make_crl([], number=1), now=NOW),
        "revoking": make_document(ca, ca.make_crl([0x2001], number=2), now=NOW),
    }


@pytest.fixture(scope="module")
def cert_pem(ca: CA) -> bytes:
    return ca.issue_cert("store client", serial=0x2001).pem


# --- negative cases first ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "interval", "match"),
    [
        ([], 0.0, "at least one"),
        (["a", "a"], 0.0, "unique"),
        (["a"], -1.0, "revalidate_seconds"),
        (["a"], float("nan"), "revalidate_seconds"),
        (["a"], float("inf"), "revalidate_seconds"),
    ],
)
def test_cache_arguments_are_validated(keys: list[str], interval: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RevocationCache(FakeSource(), keys, revalidate_seconds=interval)


def test_missing_document_on_cold_start_is_unusable(cert_pem: bytes) -> None:
    cache = RevocationCache(FakeSource(), [KEY])
    report = cache.refresh(0.0)
    assert report.unusable == (KEY,)
    (failure,) = report.failures
    assert (failure.key, failure.reason, failure.kept, failure.stage) == (
        KEY,
        "document_missing",
        False,
        "fetch",
    )
    assert cache.sets() == ()
    assert decide(cert_pem, cache.sets(), now=NOW).reason is Reason.NO_COVERING_CRL


def test_corrupt_document_on_cold_start_is_unusable(docs: dict[str, bytes]) -> None:
    source = FakeSource()
    source.put(KEY, docs["empty"][:-10])
    cache = RevocationCache(source, [KEY])
    report = cache.refresh(0.0)
    assert report.unusable == (KEY,)
    assert report.failures[0].reason == "document_invalid"
    assert report.failures[0].stage == "load"
    assert cache.sets() == ()


def test_store_error_on_cold_start_is_unusable() -> None:
    source = FakeSource()
    source.faults[KEY] = StorageError("SlowDown", retryable=True)
    cache = RevocationCache(source, [KEY])
    report = cache.refresh(0.0)
    assert report.unusable == (KEY,)
    assert report.failures[0].retryable
    assert not report.failures[0].kept


def test_unexpected_exception_propagates_and_changes_nothing(docs: dict[str, bytes]) -> None:
    """A bug in a source is not swallowed; the snapshot is only replaced after a full refresh."""
    source = FakeSource()
    source.put("a", docs["empty"])
    cache = RevocationCache(source, ["a", "b"])
    source.faults["b"] = RuntimeError("bug")
    with pytest.raises(RuntimeError, match="bug"):
        cache.refresh(0.0)
    assert cache.sets() == ()  # "a" loaded, but the half-built snapshot was never published.


def test_not_modified_to_an_unconditional_read_is_a_failure() -> None:
    class Confused:
        def fetch(self, key: str, etag: str | None) -> NotModified | Fetched:
            return NOT_MODIFIED

    cache = RevocationCache(Confused(), [KEY])
    report = cache.refresh(0.0)
    assert report.unusable == (KEY,)
    assert report.failures[0].reason == "store_unavailable"


# --- ETag revalidation ---------------------------------------------------------------------


def test_unchanged_etag_costs_no_download(docs: dict[str, bytes]) -> None:
    source = FakeSource()
    etag = source.put(KEY, docs["empty"])
    cache = RevocationCache(source, [KEY])
    first = cache.refresh(0.0)
    assert first.reloaded == (KEY,)
    assert first.failures == ()
    sets = cache.sets()
    for t in (1.0, 2.0, 3.0):
        report = cache.refresh(t)
        assert report.checked == (KEY,)
        assert report.reloaded == ()
    assert source.downloads == 1
    assert source.calls == [(KEY, None)] + [(KEY, etag)] * 3
    assert cache.sets() is sets  # Nothing changed, nothing was swapped.
    assert cache.documents()[KEY].etag == etag


def test_changed_etag_reloads(docs: dict[str, bytes], cert_pem: bytes) -> None:
    source = FakeSource()
    source.put(KEY, docs["empty"])
    cache = RevocationCache(source, [KEY])
    cache.refresh(0.0)
    assert decide(cert_pem, cache.sets(), now=NOW).allowed
    new_etag = source.put(KEY, docs["revoking"])
    report = cache.refresh(1.0)
    assert report.reloaded == (KEY,)
    assert cache.documents()[KEY].etag == new_etag
    assert cache.documents()[KEY].loaded_at == 1.0
    decision = decide(cert_pem, cache.sets(), now=NOW)
    assert decision.reason is Reason.REVOKED
    assert decision.crl_number == 2


def test_source_that_ignores_if_none_match_is_not_reparsed(docs: dict[str, bytes]) -> None:
    class Ignoring(FakeSource):
        def fetch(self, key: str, etag: str | None) -> NotModified | Fetched:
            return super().fetch(key, None)

    source = Ignoring()
    source.put(KEY, docs["empty"])
    cache = RevocationCache(source, [KEY])
    cache.refresh(0.0)
    sets = cache.sets()
    assert cache.refresh(1.0).reloaded == ()
    assert cache.sets() is sets


# --- faults keep the last good set; freshness decides --------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        StorageError("GetObject: SlowDown", retryable=True),
        StorageError("GetObject: InternalError", retryable=True),
        StorageError("GetObject: ReadTimeoutError", retryable=True),
        DocumentNotFoundError("GetObject: AccessDenied", key=KEY),
    ],
    ids=["throttled", "5xx", "timeout", "access-denied"],
)
def test_fault_keeps_the_last_good_set_while_fresh(
    docs: dict[str, bytes], cert_pem: bytes, fault: StorageError
) -> None:
    source = FakeSource()
    source.put(KEY, docs["empty"])
    cache = RevocationCache(source, [KEY])
    cache.refresh(0.0)
    source.faults[KEY] = fault
    report = cache.refresh(1.0)
    (failure,) = report.failures
    assert failure.kept
    assert failure.retryable is fault.retryable
    assert failure.reason == fault.reason
    assert report.unusable == ()
    # Still fresh: the kept set allows.
    assert decide(cert_pem, cache.sets(), now=NOW).allowed
    # Past nextUpdate the same kept set denies, unless within the configured grace.
    stale = NEXT + dt.timedelta(seconds=1)
    assert decide(cert_pem, cache.sets(), now=stale).reason is Reason.CRL_STALE
    assert decide(cert_pem, cache.sets(), now=stale, grace=dt.timedelta(minutes=1)).allowed


def test_deleted_document_keeps_the_last_good_set(docs: dict[str, bytes]) -> None:
    source = FakeSource()
    source.put(KEY, docs["empty"])
    cache = RevocationCache(source, [KEY])
    cache.refresh(0.0)
    del source.objects[KEY]
    report = cache.refresh(1.0)
    assert report.failures[0].reason == "document_missing"
    assert report.failures[0].kept
    assert len(cache.sets()) == 1


def test_corrupt_new_body_keeps_the_old_set_and_is_not_downloaded_again(
    docs: dict[str, bytes], cert_pem: bytes
) -> None:
    source = FakeSource()
    source.put(KEY, docs["empty"])
    cache = RevocationCache(source, [KEY])
    cache.refresh(0.0)
    old = cache.sets()
    bad_etag = source.put(KEY, docs["revoking"].replace(b'"count":1', b'"count":2'))
    report = cache.refresh(1.0)
    assert report.failures[0].reason == "document_invalid"
    assert report.failures[0].kept
    assert cache.sets() is old
    assert source.downloads == 2
    # The same bad body: a conditional read on its ETag, no download, still reported.
    report = cache.refresh(2.0)
    assert source.calls[-1] == (KEY, bad_etag)
    assert source.downloads == 2
    assert report.failures[0].reason == "document_invalid"
    assert cache.sets() is old
    # A good body replaces it.
    source.put(KEY, docs["revoking"])
    report = cache.refresh(3.0)
    assert report.reloaded == (KEY,)
    assert report.failures == ()
    assert decide(cert_pem, cache.sets(), now=NOW).reason is Reason.REVOKED


# --- several documents, interval ---------------------------------------------------------


def test_several_documents_are_independent(
    ca: CA, other_ca: CA, docs: dict[str, bytes], cert_pem: bytes
) -> None:
    other_doc = make_document(other_ca, other_ca.make_crl([], number=1), now=NOW)
    other_cert = other_ca.issue_cert("other client", serial=0x2001).pem
    source = FakeSource()
    source.put("a", docs["empty"])
    source.put("b", other_doc)
    cache = RevocationCache(source, ["a", "b"])
    cache.refresh(0.0)
    assert [s.info.issuer for s in cache.sets()] == [
        ca.cert.subject.rfc4514_string(),
        other_ca.cert.subject.rfc4514_string(),
    ]
    # One document changes (same serial revoked by one CA only); one fails: the other keeps.
    source.put("a", docs["revoking"])
    source.faults["b"] = StorageError("SlowDown", retryable=True)
    report = cache.refresh(1.0)
    assert report.reloaded == ("a",)
    assert [f.key for f in report.failures] == ["b"]
    assert decide(cert_pem, cache.sets(), now=NOW).reason is Reason.REVOKED
    assert decide(other_cert, cache.sets(), now=NOW).allowed


def test_revalidation_interval(docs: dict[str, bytes]) -> None:
    source = FakeSource()
    source.put(KEY, docs["empty"])
    cache = RevocationCache(source, [KEY], revalidate_seconds=10.0)
    cache.refresh(100.0)
    assert cache.refresh(105.0).checked == ()
    assert cache.refresh(109.9).checked == ()
    assert cache.refresh(110.0).checked == (KEY,)
    # A failed attempt also waits for the interval (S3 is not hammered while it struggles).
    source.faults[KEY] = StorageError("SlowDown", retryable=True)
    assert cache.refresh(120.0).failures
    assert cache.refresh(125.0).checked == ()
    assert len(source.calls) == 3


def test_unusable_key_is_retried_regardless_of_interval(docs: dict[str, bytes]) -> None:
    source = FakeSource()
    cache = RevocationCache(source, [KEY], revalidate_seconds=300.0)
    assert cache.refresh(0.0).unusable == (KEY,)
    source.put(KEY, docs["empty"])
    report = cache.refresh(1.0)
    assert report.reloaded == (KEY,)
    assert report.unusable == ()


# --- publication rules ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def info(ca: CA) -> CRLInfo:
    return verify_crl(load_crl(ca.make_crl([], number=5)), [ca.cert], now=NOW).info


def _with(info: CRLInfo, **changes: object) -> CRLInfo:
    return dataclasses.replace(info, **changes)  # type: ignore[arg-type]


def test_rollback_to_a_lower_number_is_refused(info: CRLInfo) -> None:
    older = _with(info, crl_number=4, source_sha256="0" * 64)
    with pytest.raises(CRLRollbackError, match="older") as exc:
        check_publication(info, older)
    assert (exc.value.published, exc.value.offered) == ("5", "4")
    assert exc.value.reason == "crl_rollback"


def test_same_number_different_content_is_refused(info: CRLInfo) -> None:
    with pytest.raises(CRLRollbackError, match="same CRL number"):
        check_publication(info, _with(info, source_sha256="0" * 64))


def test_same_crl_again_is_unchanged(info: CRLInfo) -> None:
    assert check_publication(info, info) == "unchanged"


def test_newer_number_or_nothing_published_publishes(info: CRLInfo) -> None:
    assert check_publication(None, info) == "publish"
    assert check_publication(info, _with(info, crl_number=6)) == "publish"
    # A number beyond 64 bits compares exactly.
    big = _with(info, crl_number=2**159)
    assert check_publication(big, _with(info, crl_number=2**159 + 1)) == "publish"


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"issuer_der": b"other"}, "another CRL issuer"),
        ({"signer_key_sha256": "ab" * 32}, "another signing key"),
        ({"distribution_points": ("URI:http://crl.example/p1.crl",)}, "another scope"),
        ({"only_user_certs": True}, "another scope"),
    ],
)
def test_another_identity_is_never_replaced(
    info: CRLInfo, change: dict[str, object], what: str
) -> None:
    # Whatever its number: numbers of different issuers, keys or scopes are not comparable.
    for number in (1, 10**6):
        with pytest.raises(DocumentIdentityError, match=what) as caught:
            check_publication(info, _with(info, crl_number=number, **change))
        assert caught.value.reason == "document_identity_mismatch"
        assert "delete the published document" in caught.value.message


def test_a_document_without_a_recorded_key_compares_signer_certificates(info: CRLInfo) -> None:
    old = _with(info, signer_key_sha256=None)
    newer = _with(info, crl_number=6, source_sha256="1" * 64)
    assert check_publication(old, newer) == "publish"  # Same signer certificate.
    with pytest.raises(DocumentIdentityError, match="another signing key"):
        check_publication(old, _with(newer, signer_sha256="cd" * 32))


def test_without_numbers_this_update_decides(info: CRLInfo) -> None:
    published = _with(info, crl_number=None)
    later = _with(published, this_update=T0 + dt.timedelta(hours=1), source_sha256="1" * 64)
    earlier = _with(published, this_update=T0 - dt.timedelta(hours=1), source_sha256="2" * 64)
    assert check_publication(published, later) == "publish"
    assert check_publication(published, published) == "unchanged"
    with pytest.raises(CRLRollbackError, match="thisUpdate"):
        check_publication(published, earlier)
    with pytest.raises(CRLRollbackError, match="same thisUpdate"):
        check_publication(published, _with(published, source_sha256="3" * 64))
    # One side without a number: thisUpdate decides.
    assert check_publication(info, _with(later, crl_number=None)) == "publish"


@pytest.mark.parametrize(
    ("crl_key", "prefix", "expected"),
    [
        ("crls/ca.crl", "", "crls/ca.cache.json"),
        ("ca.crl", "", "ca.cache.json"),
        ("crls/Example CA.crl", "", "crls/Example CA.cache.json"),
        ("crls/partner+ca (2025).crl", "", "crls/partner+ca (2025).cache.json"),
        ("crls/ca.v2.der", "", "crls/ca.v2.cache.json"),
        ("crls/noext", "", "crls/noext.cache.json"),
        ("crls.d/noext", "", "crls.d/noext.cache.json"),
        ("crls/.crl", "", "crls/.crl.cache.json"),
        ("crls/ca.crl", "documents/", "documents/crls/ca.cache.json"),
    ],
)
def test_document_key(crl_key: str, prefix: str, expected: str) -> None:
    assert document_key(crl_key, prefix) == expected


def test_document_key_refuses_a_document() -> None:
    with pytest.raises(EventError, match="is a crlcheck document"):
        document_key("crls/ca.cache.json")


def test_plan_publication(ca: CA) -> None:
    crl1 = ca.make_crl([0x10], number=1)
    crl2 = ca.make_crl([0x10, 0x11], number=2)
    first = plan_publication(crl1, [ca.cert], now=NOW, published=None)
    assert first.action == "publish"
    assert first.published is None
    assert load_document(first.document).info.crl_number == 1
    again = plan_publication(crl1, [ca.cert], now=NOW, published=first.document)
    assert again.action == "unchanged"
    assert again.document == b""
    second = plan_publication(crl2, [ca.cert], now=NOW, published=first.document)
    assert second.action == "publish"
    assert second.published is not None
    assert second.published.crl_number == 1
    assert len(load_document(second.document)) == 2
    with pytest.raises(CRLRollbackError):
        plan_publication(crl1, [ca.cert], now=NOW, published=second.document)


@pytest.mark.parametrize(
    ("published", "error", "reason"),
    [
        (b"{garbage", PublishedDocumentInvalidError, "published_document_invalid"),
        (b"\x00\x01", PublishedDocumentInvalidError, "published_document_invalid"),
        (
            b'{"format":"crlcheck.revocation-set","version":2}',
            PublishedDocumentVersionError,
            "published_document_unsupported_version",
        ),
    ],
)
def test_plan_publication_keeps_a_document_it_cannot_read(
    ca: CA, published: bytes, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=r"delete the document first") as caught:
        plan_publication(ca.make_crl(number=1), [ca.cert], now=NOW, published=published)
    assert getattr(caught.value, "reason", None) == reason


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda ca, other: other.make_crl(number=9), CRLIssuerMismatchError),
        (
            lambda ca, other: ca.make_crl(
                number=9, this_update=T0 - dt.timedelta(days=60), next_update=T0
            ),
            CRLStaleError,
        ),
        (lambda ca, other: b"not a crl", CRLCheckError),
    ],
    ids=["unknown-issuer", "stale", "garbage"],
)
def test_plan_publication_refuses_bad_crls(
    ca: CA, other_ca: CA, make: object, error: type[Exception]
) -> None:
    crl = make(ca, other_ca)  # type: ignore[operator]
    with pytest.raises(error):
        plan_publication(crl, [ca.cert], now=NOW, published=None)


def test_document_errors_are_cache_format_errors() -> None:
    """The reason the cache reports for a corrupt body comes from CacheFormatError."""
    assert CacheFormatError.reason == "document_invalid"


def test_a_store_fault_is_not_repeated_for_every_key_in_one_refresh(
    docs: dict[str, bytes],
) -> None:
    """Timeouts must not stack per key past the function's timeout: one fault, one wait."""
    source = FakeSource()
    keys = ["a", "b", "c"]
    for key in keys:
        source.put(key, docs["empty"])
    cache = RevocationCache(source, keys)
    cache.refresh(0.0)
    before = len(source.calls)
    source.faults = dict.fromkeys(keys, StorageError("ReadTimeoutError", retryable=True))
    report = cache.refresh(1.0)
    assert len(source.calls) - before == 1
    assert report.checked == ("a",)
    assert [(f.key, f.reason, f.kept) for f in report.failures] == [
        ("a", "store_unavailable", True),
        ("b", "store_unavailable", True),
        ("c", "store_unavailable", True),
    ]
    assert len(cache.sets()) == 3  # The last good sets keep serving.
    # When the store recovers, every key is checked again on the next refresh.
    source.faults.clear()
    assert cache.refresh(2.0).checked == ("a", "b", "c")


def test_a_missing_document_does_not_stop_the_other_keys(docs: dict[str, bytes]) -> None:
    source = FakeSource()
    source.put("b", docs["empty"])
    cache = RevocationCache(source, ["a", "b"])
    report = cache.refresh(0.0)
    assert report.checked == ("a", "b")
    assert report.unusable == ("a",)
