"""crlcheck.catalog and cache.CatalogCache with an in-memory source: selection, loads, eviction."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from crlcheck import CacheFormatError, load_document
from crlcheck.cache import CatalogCache
from crlcheck.catalog import Catalog, CatalogEntry, dump_catalog, load_catalog
from crlcheck.errors import DocumentVersionError, StorageError
from tests.adapters.test_store import FakeSource
from tests.pki import CA, NOW
from tests.serverless import make_document

CATALOG = "docs/crlcheck-catalog.json"


def publish(source: FakeSource, ca: CA, key: str, revoked: list[int], number: int = 1) -> None:
    body = make_document(ca, ca.make_crl(revoked, number=number), now=NOW)
    etag = source.put(key, body)
    current = source.objects.get(CATALOG)
    catalog = load_catalog(current[0]) if current else Catalog()
    entry = CatalogEntry.of(key, etag, load_document(body).info)
    updated = catalog.with_entry(entry)
    if updated is not None:
        source.put(CATALOG, dump_catalog(updated))


@pytest.fixture
def cas() -> list[CA]:
    return [CA(f"crlcheck Catalog CA {i}") for i in range(3)]


@pytest.fixture
def source(cas: list[CA]) -> FakeSource:
    source = FakeSource()
    for i, ca in enumerate(cas):
        publish(source, ca, f"docs/ca{i}.cache.json", [100 + i])
    return source


def test_select_loads_only_the_issuers_documents(source: FakeSource, cas: list[CA]) -> None:
    cache = CatalogCache(source, CATALOG)
    cache.refresh(0.0)
    sets, report = cache.select([cas[1].issue_cert().cert], 0.0)
    assert [s.info.issuer for s in sets] == [cas[1].name.rfc4514_string()]
    assert report.reloaded == ("docs/ca1.cache.json",)
    sets, report = cache.select([cas[1].issue_cert().cert], 1.0)
    assert report.checked == ()  # Held, and the catalog shows the same ETag: no read at all.
    assert len(sets) == 1


def test_least_recently_used_sets_are_evicted_above_the_budget(
    source: FakeSource, cas: list[CA]
) -> None:
    cache = CatalogCache(source, CATALOG, max_bytes=1)  # Room for nothing but the request's.
    cache.refresh(0.0)
    for ca in cas:
        sets, _ = cache.select([ca.issue_cert().cert], 0.0)
        assert len(sets) == 1  # The set a request needs is never evicted during it.
    assert len(cache.sets()) == 1
    assert cache.sets()[0].info.issuer == cas[2].name.rfc4514_string()
    assert cache.held_bytes() == sum(s.size_bytes() for s in cache.sets())


def test_a_changed_document_is_read_again_and_a_failed_read_keeps_the_set(
    source: FakeSource, cas: list[CA]
) -> None:
    cache = CatalogCache(source, CATALOG)
    cache.refresh(0.0)
    cert = cas[0].issue_cert(serial=0x7777).cert
    (first,), _ = cache.select([cert], 0.0)
    assert first.info.crl_number == 1
    publish(source, cas[0], "docs/ca0.cache.json", [100, 0x7777], number=2)
    cache.refresh(1.0)
    (new,), report = cache.select([cert], 1.0)
    assert report.reloaded == ("docs/ca0.cache.json",)
    assert new.info.crl_number == 2
    publish(source, cas[0], "docs/ca0.cache.json", [100], number=3)
    cache.refresh(2.0)
    source.faults["docs/ca0.cache.json"] = StorageError("SlowDown")
    (kept,), report = cache.select([cert], 2.0)
    assert kept is new
    assert report.failures[0].kept


def test_a_catalog_entry_never_goes_backwards(cas: list[CA]) -> None:
    body = make_document(cas[0], cas[0].make_crl([], number=5), now=NOW)
    newer = CatalogEntry.of("k", '"b"', load_document(body).info)
    older = dataclasses.replace(newer, etag='"a"', crl_number=4)
    catalog = Catalog().with_entry(newer)
    assert catalog is not None
    assert catalog.with_entry(older) is None
    assert catalog.with_entry(newer) is None
    other_issuer = dataclasses.replace(older, issuer_der=b"other")
    assert catalog.with_entry(other_issuer) is not None  # Republished after a deletion.


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b'{"format":"crlcheck.catalog","version":1}',
        b'{"format":"crlcheck.catalog","version":1,"documents":{"k":[]}}',
        b'{"format":"crlcheck.catalog","version":1,"documents":{"k":{"etag":1}}}',
    ],
)
def test_a_malformed_catalog_is_refused(data: bytes) -> None:
    with pytest.raises(CacheFormatError):
        load_catalog(data)


def test_a_catalog_of_another_version_is_refused(source: FakeSource) -> None:
    doc = orjson.loads(source.objects[CATALOG][0])
    doc["version"] = 2
    with pytest.raises(DocumentVersionError):
        load_catalog(orjson.dumps(doc))


def test_a_body_that_does_not_load_is_not_downloaded_again_for_a_while(
    source: FakeSource, cas: list[CA]
) -> None:
    from crlcheck.cache import BAD_BODY_RETRY_SECONDS

    key = "docs/ca0.cache.json"
    catalog = load_catalog(source.objects[CATALOG][0])
    etag = source.put(key, b"{corrupt")
    updated = Catalog(
        {**catalog.entries, key: dataclasses.replace(catalog.entries[key], etag=etag)}
    )
    source.put(CATALOG, dump_catalog(updated))
    cache = CatalogCache(source, CATALOG)
    cache.refresh(0.0)
    cert = cas[0].issue_cert().cert
    sets, report = cache.select([cert], 0.0)
    assert sets == ()
    assert report.failures[0].stage == "load"
    downloads = source.downloads
    cache.select([cert], 1.0)
    assert source.downloads == downloads  # Still the same bad body: not fetched again.
    cache.select([cert], BAD_BODY_RETRY_SECONDS + 1)
    assert source.downloads == downloads + 1  # ...but only for a while.
