"""DirectoryDocumentSource: one stat per revalidation, a reload when the file changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crlcheck.cache import NOT_MODIFIED, Fetched, RevocationCache
from crlcheck.errors import DocumentNotFoundError, DocumentTooLargeError
from crlcheck.frontends import DirectoryDocumentSource, directory_authorizer
from tests.frontends.conftest import WebPKI
from tests.pki import NEXT, NOW, T0
from tests.web import write_document

KEY = "web-ca.cache.json"


def test_a_missing_file_is_a_missing_document(tmp_path: Path) -> None:
    with pytest.raises(DocumentNotFoundError):
        DirectoryDocumentSource(tmp_path).fetch("nothing.cache.json", None)


@pytest.mark.parametrize("key", ["../outside.cache.json", "/etc/passwd", ".", "sub/../.."])
def test_a_key_outside_the_directory_is_refused(tmp_path: Path, key: str) -> None:
    (tmp_path / "outside.cache.json").write_bytes(b"{}")
    inner = tmp_path / "inner"
    inner.mkdir()
    with pytest.raises(DocumentNotFoundError):
        DirectoryDocumentSource(inner).fetch(key, None)


def test_a_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"x")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "link.cache.json").symlink_to(tmp_path / "secret")
    with pytest.raises(DocumentNotFoundError):
        DirectoryDocumentSource(inner).fetch("link.cache.json", None)


def test_a_directory_is_not_a_document(tmp_path: Path) -> None:
    (tmp_path / "dir.cache.json").mkdir()
    with pytest.raises(DocumentNotFoundError):
        DirectoryDocumentSource(tmp_path).fetch("dir.cache.json", None)


def test_a_file_over_the_limit_is_refused_with_its_etag(tmp_path: Path) -> None:
    (tmp_path / KEY).write_bytes(b"x" * 101)
    with pytest.raises(DocumentTooLargeError) as info:
        DirectoryDocumentSource(tmp_path, max_bytes=100).fetch(KEY, None)
    assert info.value.size == 101
    assert info.value.etag


def test_an_unchanged_file_is_not_read_again_and_a_replaced_one_is(tmp_path: Path) -> None:
    source = DirectoryDocumentSource(tmp_path)
    (tmp_path / KEY).write_bytes(b"one")
    first = source.fetch(KEY, None)
    assert isinstance(first, Fetched)
    assert first.body == b"one"
    assert source.fetch(KEY, first.etag) is NOT_MODIFIED
    # Same size, same mtime, new inode (write and rename, as preprocess does): a new ETag.
    stat = (tmp_path / KEY).stat()
    (tmp_path / "new").write_bytes(b"two")
    os.utime(tmp_path / "new", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (tmp_path / "new").replace(tmp_path / KEY)
    second = source.fetch(KEY, first.etag)
    assert isinstance(second, Fetched)
    assert second.body == b"two"
    assert second.etag != first.etag


def test_a_file_rewritten_in_place_is_seen_by_its_size_or_mtime(tmp_path: Path) -> None:
    source = DirectoryDocumentSource(tmp_path)
    (tmp_path / KEY).write_bytes(b"one")
    first = source.fetch(KEY, None)
    assert isinstance(first, Fetched)
    (tmp_path / KEY).write_bytes(b"three")
    second = source.fetch(KEY, first.etag)
    assert isinstance(second, Fetched)
    assert second.body == b"three"


def test_the_cache_reloads_a_document_replaced_on_disk(tmp_path: Path, web_pki: WebPKI) -> None:
    write_document(tmp_path, web_pki.ca, [], this_update=T0, next_update=NEXT, filename=KEY)
    authorizer = directory_authorizer(tmp_path)
    assert authorizer.cache.keys == (KEY,)
    assert authorizer.check(web_pki.revoked.pem, NOW).decision.allowed
    write_document(
        tmp_path,
        web_pki.ca,
        [web_pki.revoked.serial],
        this_update=T0,
        next_update=NEXT,
        number=2,
        filename=KEY,
    )
    verdict = authorizer.check(web_pki.revoked.pem, NOW)
    assert verdict.report.reloaded == (KEY,)
    assert verdict.decision.reason == "revoked"
    assert authorizer.check(web_pki.revoked.pem, NOW).report.reloaded == ()


def test_a_corrupt_replacement_keeps_the_last_good_set(tmp_path: Path, web_pki: WebPKI) -> None:
    write_document(
        tmp_path,
        web_pki.ca,
        [web_pki.revoked.serial],
        this_update=T0,
        next_update=NEXT,
        filename=KEY,
    )
    cache = RevocationCache(DirectoryDocumentSource(tmp_path), [KEY])
    cache.refresh(0.0)
    (tmp_path / "bad").write_bytes(b'{"not": "a document"}')
    (tmp_path / "bad").replace(tmp_path / KEY)
    report = cache.refresh(1.0)
    assert [f.stage for f in report.failures] == ["load"]
    assert len(cache.sets()) == 1


def test_a_directory_without_documents_is_refused_when_no_keys_are_given(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match=r"no \*\.cache\.json"):
        directory_authorizer(tmp_path)
