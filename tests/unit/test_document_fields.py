"""load_document checks every field docs/FORMAT.md lists, the informational ones included
(issue 9, item 7): ``generator`` is a string, ``generated_at`` null or a canonical UTC time,
``crl.number`` at most 20 octets."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from crlcheck import CacheFormatError, dump_document, load_crl, load_document, verify_crl
from crlcheck.crl import MAX_CRL_NUMBER
from tests.pki import CA, NOW

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def document(ca: CA) -> bytes:
    revset = verify_crl(load_crl(ca.make_crl([5, 6], number=7)), [ca.cert], now=NOW)
    return dump_document(revset, generated_at=NOW)


@pytest.fixture
def doc(document: bytes) -> Doc:
    parsed: Doc = orjson.loads(document)
    return parsed


def load(doc: Doc) -> int:
    sizes = {len(load_document(orjson.dumps(doc), check_order=m)) for m in ("eager", "lazy")}
    assert len(sizes) == 1
    return sizes.pop()


def refused(doc: Doc, match: str) -> None:
    for mode in ("eager", "lazy"):
        with pytest.raises(CacheFormatError, match=match):
            load_document(orjson.dumps(doc), check_order=mode)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, 5, True, [], {}, 1.5])
def test_generator_must_be_a_string(doc: Doc, value: object) -> None:
    doc["generator"] = value
    refused(doc, "generator")


@pytest.mark.parametrize("field", ["generator", "generated_at"])
def test_informational_fields_are_required(doc: Doc, field: str) -> None:
    del doc[field]
    refused(doc, f"{field} is missing")


@pytest.mark.parametrize(
    "value",
    [
        5,
        True,
        [],
        "",
        "2026-01-15",
        "2026-01-15 00:00:00Z",
        "2026-01-15T00:00:00",
        "2026-01-15T00:00:00+00:00",
        "2026-01-15T00:00:00.5Z",
        "2026-1-15T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2026-01-15T24:00:00Z",
        "\uff12\uff10\uff12\uff16-01-15T00:00:00Z",  # fullwidth digits: not ASCII
        "2026-01-15T00:00:00Z\n",
    ],
)
def test_generated_at_must_be_null_or_a_canonical_time(doc: Doc, value: object) -> None:
    doc["generated_at"] = value
    refused(doc, "generated_at")


@pytest.mark.parametrize("value", [None, "2026-01-15T00:00:00Z", "0001-01-01T00:00:00Z"])
def test_generated_at_null_or_canonical_loads(doc: Doc, value: object) -> None:
    doc["generated_at"] = value
    assert load(doc) == 2


def test_generator_of_any_text_loads(doc: Doc) -> None:
    doc["generator"] = "another writer 9.9"
    assert load(doc) == 2


def test_dump_without_generated_at_writes_null(ca: CA) -> None:
    revset = verify_crl(load_crl(ca.make_crl([5])), [ca.cert], now=NOW)
    doc = orjson.loads(dump_document(revset))
    assert doc["generated_at"] is None
    assert load(doc) == 1


@pytest.mark.parametrize("number", [MAX_CRL_NUMBER + 1, 2**200, 10**48 * 9])
def test_crl_number_over_20_octets_is_refused(doc: Doc, number: int) -> None:
    doc["crl"]["number"] = str(number)
    refused(doc, "crl.number")


@pytest.mark.parametrize("text", ["1" * 50, "9" * 5000])
def test_crl_number_of_many_digits_is_refused_without_converting_it(doc: Doc, text: str) -> None:
    doc["crl"]["number"] = text
    refused(doc, "crl.number")


@pytest.mark.parametrize("number", [0, 1, MAX_CRL_NUMBER])
def test_crl_number_up_to_20_octets_loads(doc: Doc, number: int) -> None:
    doc["crl"]["number"] = str(number)
    assert load(doc) == 2
    assert load_document(orjson.dumps(doc)).info.crl_number == number
