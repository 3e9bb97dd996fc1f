"""Delta documents in both formats: the delta mark survives, and cannot be added or dropped."""

from __future__ import annotations

import orjson
import pytest
from cryptography import x509

from crlcheck import CacheFormatError, dump_document, load_crl, load_document, verify_crl
from tests.pki import CA, NOW, Revoked


@pytest.fixture(scope="module")
def delta(ca: CA) -> object:
    crl = ca.make_crl(
        [Revoked(9, reason=x509.ReasonFlags.remove_from_crl), 10],
        number=8,
        extensions=[(x509.DeltaCRLIndicator(7), True)],
    )
    return verify_crl(load_crl(crl), [ca.cert], now=NOW, allow_delta=True)


@pytest.mark.parametrize("fmt", ["json", "binary"])
def test_a_delta_document_reads_back_as_a_delta(delta: object, fmt: str) -> None:
    document = dump_document(delta, format=fmt)  # type: ignore[arg-type]
    loaded = load_document(document)
    assert loaded.info.delta_base == 7
    assert loaded.info.crl_number == 8
    entry = loaded.lookup(9)
    assert entry is not None
    assert entry.reason == "removeFromCRL"


def test_a_json_delta_document_is_not_a_complete_one(delta: object) -> None:
    doc = orjson.loads(dump_document(delta))  # type: ignore[arg-type]
    assert doc["format"] == "crlcheck.delta-revocation-set"
    doc["format"] = "crlcheck.revocation-set"  # A reader must not take it for complete...
    with pytest.raises(CacheFormatError, match="not a delta document"):
        load_document(orjson.dumps(doc))
    doc["format"] = "crlcheck.delta-revocation-set"
    del doc["crl"]["delta_base"]  # ...nor a delta without its base.
    with pytest.raises(CacheFormatError, match="delta_base"):
        load_document(orjson.dumps(doc))
