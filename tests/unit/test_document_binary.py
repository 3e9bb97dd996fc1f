"""The binary document (format version 2): every byte is checked, the keys are used in place,
and it answers exactly as the JSON document (version 1) of the same set.

Each refusal starts from a real dumped document and changes one thing. "Forged" cases recompute
the header digest (and the keys digest where they change the keys), as a buggy writer would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tracemalloc
from typing import Any, Literal

import orjson
import pytest
from cryptography import x509

from crlcheck import (
    CacheFormatError,
    Reason,
    RevocationSet,
    decide,
    dump_document,
    load_crl,
    load_document,
    verify_crl,
)
from crlcheck.codec import document_suffix, sniff
from crlcheck.codec._binary import _PREFIX, ALIGNMENT, MAGIC, MAX_HEADER
from crlcheck.errors import DocumentVersionError
from crlcheck.revset import DETAIL_SIZE, CRLInfo
from crlcheck.serial import encode_serial
from tests.pki import CA, NEXT, NOW, T0, crl_with_entries, entry_extensions, raw_entry, reason_code

Doc = dict[str, Any]
CheckOrder = Literal["eager", "lazy"]
MODES: tuple[CheckOrder, ...] = ("eager", "lazy")

# Negative, zero, 20-octet and longer serials; more than one index block of 32 keys.
SERIALS = sorted(
    {-(2**159), -(2**100), -256, -1, 0, 1, 255, 2**64, 2**159 - 1, 2**199 - 1}
    | {10_000 + 7 * i for i in range(80)}
)


@pytest.fixture(scope="module")
def revset(ca: CA) -> RevocationSet:
    entries = [
        raw_entry(
            s,
            dt.datetime(2025, 12, 1 + i % 28, 8, 9, 10),
            entry_extensions(reason_code(i % 7)) if i % 3 else b"",
        )
        for i, s in enumerate(SERIALS)
    ]
    scope = x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier("http://crl.example/a.crl")],
        relative_name=None,
        only_contains_user_certs=True,
        only_contains_ca_certs=False,
        only_some_reasons=None,
        indirect_crl=False,
        only_contains_attribute_certs=False,
    )
    data = crl_with_entries(ca, entries, number=2**150 + 1, extensions=[(scope, True)])
    return verify_crl(load_crl(data), [ca.cert], now=NOW)


@pytest.fixture(scope="module")
def document(revset: RevocationSet) -> bytes:
    return dump_document(revset, generated_at=NOW, format="binary")


def split(data: bytes) -> tuple[Doc, bytes, bytes]:
    """The header, keys and details of a well-formed binary document."""
    length = _PREFIX.unpack_from(data)[2]
    header: Doc = orjson.loads(data[_PREFIX.size : _PREFIX.size + length])
    entries = header["entries"]
    keys_at, details_at = entries["serials_offset"], entries["details_offset"]
    keys = data[keys_at : keys_at + entries["count"] * entries["width"]]
    return header, keys, data[details_at : details_at + entries["count"] * DETAIL_SIZE]


def forge(
    header: Doc | bytes,
    keys: bytes,
    details: bytes,
    *,
    relayout: bool = True,
    version: int = 2,
) -> bytes:
    """A document with this header, its digest recomputed; laid out as the reader expects
    unless ``relayout`` is false (then the offsets the header states are used as given)."""
    if isinstance(header, bytes):
        text = header
        keys_at = details_at = _align_up(_PREFIX.size + len(text))
    else:
        entries = header["entries"]
        for _ in range(8):
            text = json.dumps(header, separators=(",", ":")).encode()  # orjson stops at 2**64.
            if not relayout:
                break
            keys_at = _align_up(_PREFIX.size + len(text))
            details_at = _align_up(keys_at + len(keys))
            if (entries["serials_offset"], entries["details_offset"]) == (keys_at, details_at):
                break
            entries["serials_offset"], entries["details_offset"] = keys_at, details_at
        keys_at, details_at = entries.get("serials_offset", 0), entries.get("details_offset", 0)
    prefix = _PREFIX.pack(MAGIC, version, len(text), hashlib.sha256(text).digest())
    out = bytearray(prefix + text)
    out += bytes(max(0, keys_at - len(out)))
    out += keys
    out += bytes(max(0, details_at - len(out)))
    out += details
    return bytes(out)


def _align_up(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT


def refused(
    data: bytes, match: str | None = None, check_order: CheckOrder = "eager"
) -> CacheFormatError:
    with pytest.raises(CacheFormatError, match=match) as info:
        load_document(data, check_order=check_order)
    assert info.value.deny_reason is Reason.DOCUMENT_INVALID
    return info.value


# =============================================================================================
# Refusals: truncated, padded, flipped
# =============================================================================================


@pytest.mark.parametrize("mode", MODES)
def test_every_truncation_is_refused(document: bytes, mode: CheckOrder) -> None:
    for size in range(len(document)):
        with pytest.raises(CacheFormatError):
            load_document(document[:size], check_order=mode)


@pytest.mark.parametrize("extra", [b"\x00", b"\x00" * ALIGNMENT, b"x"])
def test_trailing_bytes_are_refused(document: bytes, extra: bytes) -> None:
    refused(document + extra, match="truncated or padded")


def test_leading_whitespace_is_refused(document: bytes) -> None:
    refused(b"\n" + document, match="wrong magic")


def test_every_flipped_byte_is_refused_eagerly(document: bytes) -> None:
    """No byte of a binary document goes unchecked: header digest, layout, zero padding, keys
    digest, details digest."""
    for i in range(len(document)):
        altered = bytearray(document)
        altered[i] ^= 0x01
        with pytest.raises(CacheFormatError):
            load_document(bytes(altered), check_order="eager")


def test_a_flipped_byte_never_changes_a_lazy_answer(document: bytes, revset: RevocationSet) -> None:
    """Lazily, a flipped detail byte is found on the first hit: the entry stays revoked, its
    unverifiable date and reason are dropped (as in version 1). Anything else is refused."""
    header, _keys, _details = split(document)
    details_at = header["entries"]["details_offset"]
    probes = [*SERIALS[::9], SERIALS[0] + 1, 5]
    for i in range(len(document)):
        altered = bytearray(document)
        altered[i] ^= 0x80
        try:
            loaded = load_document(bytes(altered), check_order="lazy")
        except CacheFormatError:
            continue
        assert i >= details_at, f"byte {i} was not checked at load"
        for serial in probes:
            entry = loaded.lookup(serial)
            assert (entry is None) == (revset.lookup(serial) is None)
            if entry is not None:
                assert (entry.revocation_date, entry.reason) == (None, None)


# =============================================================================================
# Refusals: prefix and header
# =============================================================================================


@pytest.mark.parametrize("version", [0, 1, 3, 2**32 - 1])
def test_refuses_an_unknown_binary_version(document: bytes, version: int) -> None:
    header, keys, details = split(document)
    error = refused(forge(header, keys, details, version=version), "unsupported binary")
    assert isinstance(error, DocumentVersionError)
    assert error.version == version
    assert error.reason == "document_version_unsupported"


@pytest.mark.parametrize("length", [MAX_HEADER + 1, 2**32 - 1])
def test_refuses_a_header_longer_than_allowed_or_present(document: bytes, length: int) -> None:
    data = bytearray(document)
    data[12:16] = length.to_bytes(4, "big")
    refused(bytes(data), match="header is truncated or too long")


@pytest.mark.parametrize("text", [b"", b"[]", b"null", b"{", b"\xff", b'{"format":"x"}'], ids=repr)
def test_refuses_a_header_that_is_not_a_document_object(document: bytes, text: bytes) -> None:
    refused(forge(text, b"", b""))


HEADER_EDITS: list[tuple[str, tuple[str, ...], object]] = [
    ("format", ("format",), "crlcheck.other"),
    ("json-version", ("version",), 1),
    ("json-version-3", ("version",), 3),
    ("version-bool", ("version",), True),
    ("generator", ("generator",), 5),
    ("generated_at", ("generated_at",), "yesterday"),
    ("issuer.der", ("issuer", "der_sha256"), "00" * 32),
    ("issuer.name", ("issuer", "name"), 5),
    ("signer.sha256", ("signer", "sha256"), "abc"),
    ("crl.number", ("crl", "number"), 12),
    ("crl.next_update", ("crl", "next_update"), "2000-01-01T00:00:00Z"),
    ("only_user_certs", ("crl", "only_user_certs"), 1),
    ("encoding", ("entries", "encoding"), "raw"),
    ("alignment", ("entries", "alignment"), 8),
    ("count-bool", ("entries", "count"), True),
    ("count-negative", ("entries", "count"), -1),
    ("count-huge", ("entries", "count"), 2**64),
    ("count-enormous", ("entries", "count"), 10**30),
    ("width-zero", ("entries", "width"), 0),
    ("width-129", ("entries", "width"), 129),
    ("width-float", ("entries", "width"), 21.0),
    ("serials_sha256", ("entries", "serials_sha256"), "00" * 32),
    ("serials_sha256-short", ("entries", "serials_sha256"), "00"),
]


@pytest.mark.parametrize(
    ("path", "value"), [e[1:] for e in HEADER_EDITS], ids=[e[0] for e in HEADER_EDITS]
)
@pytest.mark.parametrize("mode", MODES)
def test_refuses_a_forged_header(
    document: bytes, path: tuple[str, ...], value: object, mode: CheckOrder
) -> None:
    header, keys, details = split(document)
    target = header
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    refused(forge(header, keys, details), check_order=mode)


@pytest.mark.parametrize(
    "path",
    [
        ("format",),
        ("version",),
        ("generator",),
        ("issuer", "der"),
        ("crl", "this_update"),
        ("entries", "count"),
        ("entries", "alignment"),
        ("entries", "serials_offset"),
        ("entries", "details_sha256"),
    ],
    ids=".".join,
)
def test_refuses_a_header_missing_a_field(document: bytes, path: tuple[str, ...]) -> None:
    header, keys, details = split(document)
    target = header
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    refused(forge(header, keys, details, relayout=path[-1] not in ("serials_offset",)))


@pytest.mark.parametrize(
    ("name", "delta"),
    [
        ("serials_offset", ALIGNMENT),
        ("serials_offset", -ALIGNMENT),
        ("serials_offset", 8),
        ("details_offset", ALIGNMENT),
        ("details_offset", -ALIGNMENT),
        ("details_offset", 1),
    ],
)
def test_refuses_offsets_that_are_not_where_they_belong(
    document: bytes, name: str, delta: int
) -> None:
    header, keys, details = split(document)
    header["entries"][name] += delta
    refused(forge(header, keys, details, relayout=False))


def test_refuses_a_count_the_sections_do_not_hold(document: bytes) -> None:
    header, keys, details = split(document)
    header["entries"]["count"] -= 1
    refused(forge(header, keys, details), match="truncated or padded")


def test_a_huge_claimed_count_is_refused_without_allocating_it(document: bytes) -> None:
    header, keys, details = split(document)
    header["entries"]["count"] = 2**62
    data = forge(header, keys, details, relayout=False)
    tracemalloc.start()
    try:
        refused(data, match="not where it belongs")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 10


@pytest.mark.parametrize("mode", MODES)
def test_unsorted_keys_with_a_recomputed_digest_never_answer(
    document: bytes, mode: CheckOrder
) -> None:
    header, keys, details = split(document)
    width = header["entries"]["width"]
    swapped = keys[width : 2 * width] + keys[:width] + keys[2 * width :]
    header["entries"]["serials_sha256"] = hashlib.sha256(swapped).hexdigest()
    data = forge(header, swapped, details)
    if mode == "eager":
        refused(data, match="not strictly increasing")
        return
    revset = load_document(data, check_order="lazy")
    with pytest.raises(CacheFormatError):
        revset.contains(SERIALS[0])  # Its block is out of order.
    with pytest.raises(CacheFormatError):
        revset.contains(SERIALS[-1] + 1)  # A miss checks every block.


def test_corrupt_details_are_refused_eagerly_and_never_hide_a_hit_lazily(document: bytes) -> None:
    header, keys, details = split(document)
    bad = b"X" * len(details)
    refused(forge(header, keys, bad), match="details are corrupt")
    revset = load_document(forge(header, keys, bad), check_order="lazy")
    entry = revset.lookup(SERIALS[3])
    assert entry is not None
    assert (entry.revocation_date, entry.reason) == (None, None)


# =============================================================================================
# What it keeps
# =============================================================================================


@pytest.mark.parametrize("mode", MODES)
def test_round_trip_answers_as_the_json_document(
    revset: RevocationSet, document: bytes, mode: CheckOrder
) -> None:
    v1 = load_document(dump_document(revset, generated_at=NOW), check_order=mode)
    v2 = load_document(document, check_order=mode)
    assert v2.info == v1.info == revset.info
    assert v2.width == v1.width
    assert v2.serials() == v1.serials() == SERIALS
    for serial in [*SERIALS, *(s + 1 for s in SERIALS), *(-s for s in SERIALS), 2**300]:
        assert v2.lookup(serial) == v1.lookup(serial) == revset.lookup(serial)


def test_rewriting_a_loaded_document_gives_the_same_bytes(document: bytes) -> None:
    assert (
        dump_document(
            load_document(document, check_order="lazy"), generated_at=NOW, format="binary"
        )
        == document
    )


def test_decisions_are_the_same_as_with_the_json_document(
    ca: CA, revset: RevocationSet, document: bytes
) -> None:
    v1 = load_document(dump_document(revset))
    v2 = load_document(document, check_order="lazy")
    for serial in (SERIALS[-3], SERIALS[-3] + 1, 1, 2):
        cert = ca.issue_cert(serial=serial).cert
        assert decide(cert, [v2], now=NOW).to_dict() == decide(cert, [v1], now=NOW).to_dict()


def test_the_layout_is_aligned_and_self_describing(document: bytes) -> None:
    assert document.startswith(MAGIC)
    assert sniff(document) == "binary"
    assert document_suffix("binary") == ".cache.bin"
    header, keys, details = split(document)
    entries = header["entries"]
    assert header["format"] == "crlcheck.revocation-set"
    assert header["version"] == 2
    assert header["signer"]["key_sha256"] is not None
    assert entries["serials_offset"] % ALIGNMENT == entries["details_offset"] % ALIGNMENT == 0
    assert entries["serials_sha256"] == hashlib.sha256(keys).hexdigest()
    assert entries["details_sha256"] == hashlib.sha256(details).hexdigest()
    assert len(document) == entries["details_offset"] + entries["count"] * DETAIL_SIZE


def test_an_empty_set_round_trips() -> None:
    info = CRLInfo("CN=e", b"0\x00", None, "CN=e", "00" * 32, 1, T0, NEXT, "00" * 32, "x")
    data = dump_document(RevocationSet(info, 1, b"", b"", ordered=True), format="binary")
    for mode in MODES:
        loaded = load_document(data, check_order=mode)
        assert len(loaded) == 0
        assert 5 not in loaded
        assert loaded.serials() == []


def test_loading_uses_the_keys_in_place() -> None:
    """Loading allocates the sparse index and little else: no copy of the keys or details."""
    width, count = 21, 100_000
    blob = b"".join(encode_serial(1000 + 3 * i, width) or b"" for i in range(count))
    info = CRLInfo("CN=big", b"0\x00", None, "CN=big", "00" * 32, 1, T0, NEXT, "00" * 32, "x")
    details = b"20251201000000Z\xff" * count
    data = dump_document(RevocationSet(info, width, blob, details, ordered=True), format="binary")
    for mode in MODES:
        tracemalloc.start()
        try:
            loaded = load_document(data, check_order=mode)
            assert loaded.lookup(1000 + 3 * 500) is not None
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < len(data) // 8, (mode, peak, len(data))
