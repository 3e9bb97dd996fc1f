"""The JSON document: anything altered is refused (never an empty set); a round trip keeps all.

Each refusal starts from a real dumped document and changes one thing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import orjson
import pytest
from cryptography import x509

from crlcheck import (
    CacheFormatError,
    Reason,
    RevocationSet,
    dump_document,
    load_certificates,
    load_crl,
    load_document,
    verify_crl,
)
from crlcheck.codec._json import FORMAT_NAME, FORMAT_VERSION, MAX_WIDTH
from crlcheck.revset import BLOCK, DETAIL_SIZE
from tests.pki import (
    CA,
    NOW,
    crl_with_entries,
    entry_extensions,
    raw_entry,
    reason_code,
)

Doc = dict[str, Any]
Path_ = tuple[str, ...]
CheckOrder = Literal["eager", "lazy"]

SERIALS = [-(2**199), -(2**159), -256, -1, 0, 1, 127, 128, 255, 2**64, 2**159 - 1, 2**199 - 1]
CRL_NUMBER = 2**150 + 1  # far beyond a JSON-safe integer

# Every field load_document reads (all of them: see tests/unit/test_document_fields.py).
REQUIRED: list[Path_] = [
    ("format",),
    ("version",),
    ("generator",),
    ("generated_at",),
    ("issuer",),
    ("issuer", "name"),
    ("issuer", "der"),
    ("issuer", "der_sha256"),
    ("issuer", "key_id"),
    ("signer",),
    ("signer", "subject"),
    ("signer", "sha256"),
    ("crl",),
    ("crl", "number"),
    ("crl", "this_update"),
    ("crl", "next_update"),
    ("crl", "source_sha256"),
    ("crl", "signature_algorithm"),
    ("crl", "distribution_points"),
    ("crl", "only_user_certs"),
    ("entries",),
    ("entries", "count"),
    ("entries", "width"),
    ("entries", "encoding"),
    ("entries", "serials_sha256"),
    ("entries", "details_sha256"),
    ("entries", "serials"),
    ("entries", "details"),
]
# Written since crlcheck 0.2; readers accept documents written before it (docs/FORMAT.md).
OPTIONAL: list[Path_] = [("signer", "key_sha256")]


def _entry(i: int, serial: int) -> bytes:
    extensions = entry_extensions(reason_code(i % 7)) if i % 3 else b""
    return raw_entry(serial, dt.datetime(2025, 12, 1 + i, 8, 9, 10), extensions)


@pytest.fixture(scope="module")
def revset(ca: CA) -> RevocationSet:
    """A set with every CRLInfo field set: AKI, a big CRL number, an IDP with two names."""
    scope = x509.IssuingDistributionPoint(
        full_name=[
            x509.UniformResourceIdentifier("http://crl.example/a.crl"),
            x509.UniformResourceIdentifier("ldap://crl.example/cn=a"),
        ],
        relative_name=None,
        only_contains_user_certs=True,
        only_contains_ca_certs=False,
        only_some_reasons=None,
        indirect_crl=False,
        only_contains_attribute_certs=False,
    )
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    entries = [_entry(i, s) for i, s in enumerate(SERIALS)]
    data = crl_with_entries(
        ca, entries, number=CRL_NUMBER, extensions=[(scope, True), (aki, False)]
    )
    return verify_crl(load_crl(data), [ca.cert], now=NOW)


@pytest.fixture(scope="module")
def document(revset: RevocationSet) -> bytes:
    return dump_document(revset, generated_at=NOW)


@pytest.fixture
def doc(document: bytes) -> Doc:
    """A fresh, mutable copy of the document for each test."""
    parsed: Doc = orjson.loads(document)
    return parsed


def refused(
    data: bytes, match: str | None = None, check_order: CheckOrder = "eager"
) -> CacheFormatError:
    with pytest.raises(CacheFormatError, match=match) as info:
        load_document(data, check_order=check_order)
    assert info.value.reason in ("document_invalid", "document_version_unsupported")
    assert info.value.deny_reason is Reason.DOCUMENT_INVALID
    return info.value


def set_path(doc: Doc, path: Path_, value: object) -> None:
    *parents, last = path
    target = doc
    for key in parents:
        target = target[key]
    target[last] = value


def del_path(doc: Doc, path: Path_) -> None:
    *parents, last = path
    target = doc
    for key in parents:
        target = target[key]
    del target[last]


def leaf_paths(obj: Doc, prefix: Path_ = ()) -> Iterator[Path_]:
    for key, value in obj.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from leaf_paths(value, (*prefix, key))


def keys_and_rehash(doc: Doc, edit: Callable[[bytearray], None]) -> None:
    """Edit the serial keys and recompute their digest, as a buggy writer would."""
    keys = bytearray(base64.b64decode(doc["entries"]["serials"]))
    edit(keys)
    doc["entries"]["serials"] = base64.b64encode(bytes(keys)).decode()
    doc["entries"]["serials_sha256"] = hashlib.sha256(bytes(keys)).hexdigest()


# =============================================================================================
# Refusals: not a document
# =============================================================================================


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"\xff\xfe", b"[]", b"null", b'"crlcheck"', b"1", b"{}"],
    ids=["empty", "text", "not-utf8", "array", "null", "string", "number", "empty-object"],
)
@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_refuses_what_is_not_a_document(data: bytes, check_order: CheckOrder) -> None:
    refused(data, check_order=check_order)


@pytest.mark.parametrize("keep", [1, 100, 0.5, -1])
def test_refuses_truncated_json(document: bytes, keep: float) -> None:
    end = int(len(document) * keep) if isinstance(keep, float) else keep
    refused(document[:end], match="not valid JSON")


@pytest.mark.parametrize("value", ["crlcheck.other", FORMAT_NAME.upper(), None, 1])
def test_refuses_another_format(doc: Doc, value: object) -> None:
    doc["format"] = value
    refused(orjson.dumps(doc), match="not a crlcheck revocation-set document")


@pytest.mark.parametrize("version", [0, 2, -1, FORMAT_VERSION + 1, 999])
def test_refuses_unknown_version(doc: Doc, version: int) -> None:
    doc["version"] = version
    error = refused(orjson.dumps(doc), match="unsupported document version")
    assert str(version) in error.message
    assert error.reason == "document_version_unsupported"


# =============================================================================================
# Refusals: missing fields and wrong types
# =============================================================================================


def test_field_lists_cover_the_document(doc: Doc) -> None:
    assert sorted(leaf_paths(doc)) == sorted(REQUIRED + OPTIONAL)


@pytest.mark.parametrize("path", REQUIRED, ids=".".join)
@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_refuses_missing_field(doc: Doc, path: Path_, check_order: CheckOrder) -> None:
    del_path(doc, path)
    refused(orjson.dumps(doc), check_order=check_order)


@pytest.mark.parametrize("path", OPTIONAL, ids=".".join)
def test_optional_fields_may_be_absent(doc: Doc, path: Path_) -> None:
    del_path(doc, path)
    assert len(load_document(orjson.dumps(doc))) == len(SERIALS)


WRONG_TYPES: list[tuple[Path_, object]] = [
    (("version",), True),  # bool where int
    (("version",), "1"),
    (("version",), 1.0),
    (("version",), None),
    (("issuer",), []),
    (("issuer", "name"), 5),  # number where str
    (("issuer", "der"), None),
    (("issuer", "der_sha256"), 5),
    (("issuer", "key_id"), 5),
    (("signer",), "signer"),
    (("signer", "subject"), 5),
    (("signer", "sha256"), []),
    (("crl",), None),
    (("crl", "number"), 256),  # a number, not the decimal string
    (("crl", "this_update"), 1767225600),
    (("crl", "next_update"), None),
    (("crl", "source_sha256"), 5),
    (("crl", "signature_algorithm"), 5),
    (("crl", "distribution_points"), "URI:http://crl.example/a.crl"),
    (("crl", "distribution_points"), [5]),
    (("crl", "only_user_certs"), 1),
    (("crl", "only_user_certs"), "true"),
    (("crl", "only_user_certs"), None),
    (("entries",), []),
    (("entries", "count"), True),  # bool where int
    (("entries", "count"), False),
    (("entries", "count"), "12"),
    (("entries", "count"), 12.0),
    (("entries", "width"), True),
    (("entries", "width"), "26"),
    (("entries", "encoding"), 5),
    (("entries", "serials_sha256"), 5),
    (("entries", "details_sha256"), None),
    (("entries", "serials"), 5),
    (("entries", "serials"), ["gA=="]),
    (("entries", "details"), 5),
]


@pytest.mark.parametrize(
    ("path", "value"), WRONG_TYPES, ids=[f"{'.'.join(p)}={v!r}" for p, v in WRONG_TYPES]
)
@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_refuses_wrong_type(doc: Doc, path: Path_, value: object, check_order: CheckOrder) -> None:
    set_path(doc, path, value)
    refused(orjson.dumps(doc), check_order=check_order)


# =============================================================================================
# Refusals: right type, bad value
# =============================================================================================

BAD_VALUES: list[tuple[Path_, object, str]] = [
    (("issuer", "der"), "!!!!", "not valid base64"),
    (("issuer", "der"), "MAA=", "does not match issuer.der_sha256"),
    (("issuer", "der_sha256"), "00" * 32, "does not match"),
    (("issuer", "key_id"), "not hex", "not hex"),
    (("signer", "sha256"), "abcd", "wrong length"),
    (("signer", "sha256"), "zz" * 32, "not hex"),
    (("crl", "number"), "-1", "not a decimal string"),
    (("crl", "number"), "0x10", "not a decimal string"),
    (("crl", "number"), "1.5", "not a decimal string"),
    (("crl", "number"), "", "not a decimal string"),
    (("crl", "number"), " 1", "not a decimal string"),
    (("crl", "number"), "\u0661\u0662", "not a decimal string"),  # Arabic-Indic digits
    (("crl", "number"), "1" * 5000, "crl.number"),  # more digits than int() converts
    (("crl", "this_update"), "2026-01-01", "not a UTC timestamp"),
    (("crl", "this_update"), "2026-01-01T00:00:00+00:00", "not a UTC timestamp"),
    (("crl", "next_update"), "2025-12-31T23:59:59Z", "before crl.this_update"),
    (("crl", "source_sha256"), "00", "wrong length"),
    (("entries", "encoding"), "twos-complement", "encoding"),
    (("entries", "encoding"), "OFFSET-BINARY", "encoding"),
    (("entries", "width"), 0, "out of range"),
    (("entries", "width"), -1, "out of range"),
    (("entries", "width"), MAX_WIDTH + 1, "out of range"),
    (("entries", "count"), -1, "out of range"),
    (("entries", "serials"), "abc", "serials"),  # bad padding
    (("entries", "serials"), "\u00e9\u00e9\u00e9\u00e9", "serials"),  # not ASCII
    (("entries", "serials"), "", "truncated"),
    (("entries", "serials_sha256"), "00" * 32, "digest"),
    (("entries", "serials_sha256"), "not hex", "not hex"),
    (("entries", "details"), "", "details are truncated"),
    (("entries", "details_sha256"), "00" * 31, "wrong length"),
]


@pytest.mark.parametrize(
    ("path", "value", "match"),
    BAD_VALUES,
    ids=[f"{'.'.join(p)}={str(v)[:12]!r}" for p, v, _ in BAD_VALUES],
)
@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_refuses_bad_value(
    doc: Doc, path: Path_, value: object, match: str, check_order: CheckOrder
) -> None:
    set_path(doc, path, value)
    refused(orjson.dumps(doc), match=match, check_order=check_order)


# =============================================================================================
# Refusals: entries truncated, altered or unsorted
# =============================================================================================


@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_refuses_serials_truncated_by_one_record(doc: Doc, check_order: CheckOrder) -> None:
    width = doc["entries"]["width"]
    keys = base64.b64decode(doc["entries"]["serials"])
    doc["entries"]["serials"] = base64.b64encode(keys[:-width]).decode()
    refused(orjson.dumps(doc), match="truncated", check_order=check_order)


@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_refuses_serials_and_count_truncated_with_the_old_digest(
    doc: Doc, check_order: CheckOrder
) -> None:
    entries = doc["entries"]
    keys = base64.b64decode(entries["serials"])
    details = base64.b64decode(entries["details"])
    entries["count"] -= 1
    entries["serials"] = base64.b64encode(keys[: -entries["width"]]).decode()
    entries["details"] = base64.b64encode(details[:-DETAIL_SIZE]).decode()
    refused(orjson.dumps(doc), match="digest", check_order=check_order)


@pytest.mark.parametrize("offset", [0, 5, -1])
@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_refuses_altered_serial_with_the_old_digest(
    doc: Doc, offset: int, check_order: CheckOrder
) -> None:
    keys = bytearray(base64.b64decode(doc["entries"]["serials"]))
    keys[offset] ^= 0x01
    doc["entries"]["serials"] = base64.b64encode(bytes(keys)).decode()
    refused(orjson.dumps(doc), match="digest", check_order=check_order)


@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_refuses_details_truncated_by_one_record(doc: Doc, check_order: CheckOrder) -> None:
    details = base64.b64decode(doc["entries"]["details"])
    doc["entries"]["details"] = base64.b64encode(details[:-DETAIL_SIZE]).decode()
    refused(orjson.dumps(doc), match="details are truncated", check_order=check_order)


def _swap_inside_block_one(keys: bytearray, width: int) -> None:
    """Swap two adjacent keys inside index block 1, so that no index key moves."""
    a, b = (BLOCK + 3) * width, (BLOCK + 4) * width
    keys[a : a + width], keys[b : b + width] = keys[b : b + width], keys[a : a + width]


def test_refuses_unsorted_serials_with_a_recomputed_digest_eagerly(large_document: bytes) -> None:
    doc: Doc = orjson.loads(large_document)
    keys_and_rehash(doc, lambda keys: _swap_inside_block_one(keys, doc["entries"]["width"]))
    refused(orjson.dumps(doc), match="strictly increasing")


def test_lazy_load_refuses_the_lookup_that_touches_an_unsorted_block(
    large_document: bytes, large_revset: RevocationSet
) -> None:
    doc: Doc = orjson.loads(large_document)
    keys_and_rehash(doc, lambda keys: _swap_inside_block_one(keys, doc["entries"]["width"]))
    lazy = load_document(orjson.dumps(doc), check_order="lazy")
    serials = large_revset.serials()
    # Hits in other blocks still answer: a hit needs only its own block in order.
    assert serials[0] in lazy
    assert serials[2 * BLOCK] in lazy
    assert serials[-1] in lazy
    for serial in (serials[BLOCK], serials[BLOCK + 3], serials[BLOCK + 4], serials[BLOCK + 10]):
        with pytest.raises(CacheFormatError, match="block 1"):
            lazy.lookup(serial)
    # A miss anywhere is a claim about every block, so it refuses too.
    probe = serials[1] - 1  # a non-member that bisects to block 0
    assert probe != serials[0]
    with pytest.raises(CacheFormatError, match="strictly increasing"):
        lazy.lookup(probe)
    with pytest.raises(CacheFormatError):
        lazy.check_order()


def test_refuses_an_unsorted_index_key_even_lazily(large_document: bytes) -> None:
    doc: Doc = orjson.loads(large_document)
    width = doc["entries"]["width"]

    def swap_index_keys(keys: bytearray) -> None:
        a, b = BLOCK * width, 2 * BLOCK * width
        keys[a : a + width], keys[b : b + width] = keys[b : b + width], keys[a : a + width]

    keys_and_rehash(doc, swap_index_keys)
    refused(orjson.dumps(doc), match="strictly increasing", check_order="lazy")


def test_corrupt_details_refused_eagerly_but_still_revoked_lazily(doc: Doc) -> None:
    details = bytearray(base64.b64decode(doc["entries"]["details"]))
    details[3] ^= 0x01  # same length, old digest
    doc["entries"]["details"] = base64.b64encode(bytes(details)).decode()
    data = orjson.dumps(doc)
    refused(data, match="details are corrupt")
    lazy = load_document(data, check_order="lazy")
    for serial in SERIALS:
        entry = lazy.lookup(serial)
        assert entry is not None
        assert (entry.serial, entry.revocation_date, entry.reason) == (serial, None, None)
    assert lazy.lookup(2) is None
    with pytest.raises(CacheFormatError):
        dump_document(lazy)


def test_unreadable_date_with_a_recomputed_digest_keeps_the_reason(doc: Doc) -> None:
    details = bytearray(base64.b64decode(doc["entries"]["details"]))
    details[4:6] = b"13"  # month 13 in the first record (serial -(2**199), no reason)
    details[DETAIL_SIZE + 4 : DETAIL_SIZE + 6] = b"13"  # and in the second (-(2**159))
    doc["entries"]["details"] = base64.b64encode(bytes(details)).decode()
    doc["entries"]["details_sha256"] = hashlib.sha256(bytes(details)).hexdigest()
    for check_order in ("eager", "lazy"):
        revset = load_document(orjson.dumps(doc), check_order=check_order)
        first, second = revset.lookup(SERIALS[0]), revset.lookup(SERIALS[1])
        assert first is not None
        assert second is not None
        assert (first.revocation_date, first.reason) == (None, None)
        assert (second.revocation_date, second.reason) == (None, "keyCompromise")


# =============================================================================================
# Round trips
# =============================================================================================


@pytest.mark.parametrize("check_order", ["eager", "lazy"])
def test_round_trip_keeps_every_field_and_serial(
    revset: RevocationSet, document: bytes, check_order: CheckOrder
) -> None:
    loaded = load_document(document, check_order=check_order)
    assert loaded.info == revset.info
    assert loaded.info.crl_number == CRL_NUMBER
    assert loaded.info.issuer_key_id is not None
    assert loaded.info.distribution_points == (
        "URI:http://crl.example/a.crl",
        "URI:ldap://crl.example/cn=a",
    )
    assert loaded.info.only_user_certs is True
    assert loaded.width == revset.width == 26
    assert len(loaded) == len(SERIALS)
    assert loaded.serials() == revset.serials() == sorted(SERIALS)
    assert loaded.keys_blob() == revset.keys_blob()
    for serial in SERIALS:
        assert loaded.lookup(serial) == revset.lookup(serial)
        assert loaded.lookup(serial + 1) == revset.lookup(serial + 1)
    assert loaded.details_blob() == revset.details_blob()
    assert dump_document(loaded, generated_at=NOW) == document


def test_document_text(revset: RevocationSet, doc: Doc) -> None:
    assert doc["format"] == FORMAT_NAME
    assert doc["version"] == FORMAT_VERSION
    assert doc["generated_at"] == "2026-01-15T00:00:00Z"
    assert doc["crl"]["number"] == str(CRL_NUMBER)  # never a JSON number
    assert doc["crl"]["this_update"] == "2026-01-01T00:00:00Z"
    assert doc["entries"]["count"] == len(SERIALS)
    assert doc["entries"]["encoding"] == "offset-binary"
    assert base64.b64decode(doc["entries"]["serials"]) == revset.keys_blob()
    assert orjson.loads(dump_document(revset))["generated_at"] is None


def test_large_round_trip(
    large_revset: RevocationSet, large_document: bytes, large_serials: list[int]
) -> None:
    for check_order in ("eager", "lazy"):
        loaded = load_document(large_document, check_order=check_order)
        assert len(loaded) == len(large_revset)
        assert loaded.keys_blob() == large_revset.keys_blob()
        for serial in large_serials:
            assert loaded.lookup(serial) == large_revset.lookup(serial)


def test_round_trip_of_an_empty_v1_crl(openssl_dir: Path, ca: CA) -> None:
    empty = verify_crl(load_crl(ca.make_crl(number=None)), [ca.cert], now=NOW)
    loaded = load_document(dump_document(empty))
    assert loaded.info == empty.info
    assert loaded.info.crl_number is None
    assert loaded.info.issuer_key_id is None
    assert len(loaded) == 0
    assert 0 not in loaded
    signers = load_certificates((openssl_dir / "rsa-ca.pem").read_bytes())
    v1 = verify_crl(load_crl((openssl_dir / "v1.crl").read_bytes()), signers, now=NOW)
    assert load_document(dump_document(v1)).info == v1.info


def test_longest_serial_the_format_stores(ca: CA) -> None:
    longest = 2 ** (8 * (MAX_WIDTH - 1) - 1) - 1  # 127 octets
    revset = verify_crl(
        load_crl(crl_with_entries(ca, [raw_entry(longest), raw_entry(-longest)])),
        [ca.cert],
        now=NOW,
    )
    loaded = load_document(dump_document(revset))
    assert loaded.serials() == [-longest, longest]


def test_dump_refuses_serials_longer_than_the_format_stores(ca: CA) -> None:
    too_long = 2 ** (8 * MAX_WIDTH - 1) - 1  # 128 octets
    revset = verify_crl(load_crl(crl_with_entries(ca, [raw_entry(too_long)])), [ca.cert], now=NOW)
    assert too_long in revset
    with pytest.raises(CacheFormatError, match="longer than this format stores"):
        dump_document(revset)
