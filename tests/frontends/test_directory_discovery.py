"""A directory of documents: a CA's document added or removed later is seen without a restart."""

from __future__ import annotations

from pathlib import Path

from crlcheck.frontends import directory_authorizer
from tests.pki import CA, NOW
from tests.serverless import make_document


def test_documents_added_and_removed_later_are_seen(tmp_path: Path, ca: CA, other_ca: CA) -> None:
    (tmp_path / "a.cache.json").write_bytes(make_document(ca, ca.make_crl([]), now=NOW))
    authorizer = directory_authorizer(tmp_path)
    ours, theirs = ca.issue_cert().pem, other_ca.issue_cert().pem
    assert authorizer.check(ours, NOW).decision.allowed
    assert authorizer.check(theirs, NOW).decision.reason.value == "no_covering_crl"
    (tmp_path / "b.cache.json").write_bytes(make_document(other_ca, other_ca.make_crl([]), now=NOW))
    assert authorizer.check(theirs, NOW).decision.allowed
    (tmp_path / "a.cache.json").unlink()
    assert authorizer.check(ours, NOW).decision.reason.value == "no_covering_crl"
    assert authorizer.check(theirs, NOW).decision.allowed
