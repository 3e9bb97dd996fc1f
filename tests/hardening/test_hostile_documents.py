"""Hostile revocation documents: whatever the bytes, load_document returns a set that answers
exactly as the CRL did, or raises CacheFormatError; and a decision never allows a certificate
the document cannot vouch for.

Documents are not signed: their digests detect corruption, not forgery, and whoever can write
the bucket can publish any set (see docs/SECURITY.md). So the "forged" cases below recompute
every digest, as a buggy or hostile writer would, and what is tested is that the reader's own
checks (format, types, lengths, order, issuer scope) still hold, in eager and in lazy mode.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import orjson
import pytest

from crlcheck import (
    CacheFormatError,
    Decision,
    Reason,
    RevocationSet,
    decide,
    dump_document,
    load_crl,
    load_document,
    verify_crl,
)
from crlcheck.aws.s3 import MAX_DOCUMENT_BYTES
from crlcheck.revset import BLOCK
from tests.pki import CA, NOW, Leaf

Doc = dict[str, Any]
MODES: tuple[Literal["eager", "lazy"], ...] = ("eager", "lazy")

# 200 serials: several index blocks of 32 keys, with gaps so that non-members fall inside.
SERIALS = [1000 + 7 * i for i in range(200)]


@pytest.fixture(scope="module")
def document(hca: CA) -> bytes:
    revset = verify_crl(load_crl(hca.make_crl(SERIALS, number=12)), [hca.cert], now=NOW)
    return dump_document(revset)


@pytest.fixture(scope="module")
def certs(hca: CA) -> dict[int, Leaf]:
    """Certificates of the document's CA: some revoked, some not (between revoked serials)."""
    wanted = [SERIALS[0], SERIALS[5], SERIALS[40], SERIALS[150], SERIALS[199]]
    wanted += [s + 1 for s in (SERIALS[0], SERIALS[40], SERIALS[150])] + [5, 10**6]
    return {s: hca.issue_cert(serial=s) for s in wanted}


def parse(data: bytes) -> Doc:
    doc: Doc = orjson.loads(data)
    return doc


def keys_of(doc: Doc) -> list[bytes]:
    width = doc["entries"]["width"]
    blob = base64.b64decode(doc["entries"]["serials"])
    return [blob[i : i + width] for i in range(0, len(blob), width)]


def with_keys(doc: Doc, keys: list[bytes]) -> bytes:
    """``doc`` with these keys, count and digest recomputed (a forger's edit).

    Details are left alone when the count is unchanged; otherwise they are cut or padded to
    the new count with their digest recomputed too.
    """
    blob = b"".join(keys)
    entries = doc["entries"]
    if len(keys) != entries["count"]:
        details = base64.b64decode(entries["details"])
        details = (details + details)[: len(keys) * 16]
        entries["details"] = base64.b64encode(details).decode()
        entries["details_sha256"] = hashlib.sha256(details).hexdigest()
    entries["count"] = len(keys)
    entries["serials"] = base64.b64encode(blob).decode()
    entries["serials_sha256"] = hashlib.sha256(blob).hexdigest()
    return orjson.dumps(doc)


def answers(revset: RevocationSet, serials: list[int]) -> dict[int, bool]:
    return {s: revset.contains(s) for s in serials}


def decision_or_error(leaf: Leaf, sets: list[RevocationSet]) -> Decision | CacheFormatError:
    try:
        return decide(leaf.cert, sets, now=NOW)
    except CacheFormatError as exc:  # Tolerated: the authorizer turns it into a deny.
        return exc


# --- not a document ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_truncation_is_refused(document: bytes, mode: Literal["eager", "lazy"]) -> None:
    for size in range(len(document)):
        with pytest.raises(CacheFormatError):
            load_document(document[:size], check_order=mode)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b" ",
        b"\xff\xfe",
        b"\xef\xbb\xbf{}",
        b"null",
        b"[]",
        b'"crlcheck.revocation-set"',
        b"1e999",
        b"NaN",
        b"{",
        b"{}",
        b'{"format": "crlcheck.revocation-set"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"\x00" * 1000,
    ],
    ids=lambda d: repr(d[:24]),
)
def test_not_a_document(data: bytes) -> None:
    with pytest.raises(CacheFormatError):
        load_document(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("format", "crlcheck.revocation-set.v2"),
        ("format", None),
        ("version", 0),
        ("version", 2),
        ("version", "1"),
        ("version", 1.0),
        ("version", True),
        ("version", None),
        ("version", 2**63),
    ],
)
def test_wrong_format_or_version(document: bytes, path: str, value: object) -> None:
    doc = parse(document)
    doc[path] = value
    with pytest.raises(CacheFormatError):
        load_document(orjson.dumps(doc))


# Every field a reader relies on, and which JSON values it accepts: any other substitute must be
# refused.
def _text(value: object) -> bool:
    return isinstance(value, str)


def _hex_or_null(value: object) -> bool:
    if value is None:
        return True
    try:
        bytes.fromhex(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _decimal_or_null(value: object) -> bool:
    return value is None or (
        isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) < 4300
    )


def _texts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _bool(value: object) -> bool:
    return isinstance(value, bool)


def _nothing(value: object) -> bool:
    return False


FIELDS: dict[str, Callable[[object], bool]] = {
    "issuer": _nothing,
    "issuer.name": _text,
    "issuer.der": _nothing,
    "issuer.der_sha256": _nothing,
    "issuer.key_id": _hex_or_null,
    "signer": _nothing,
    "signer.subject": _text,
    "signer.sha256": _nothing,
    "crl": _nothing,
    "crl.number": _decimal_or_null,
    "crl.this_update": _nothing,
    "crl.next_update": _nothing,
    "crl.source_sha256": _nothing,
    "crl.signature_algorithm": _text,
    "crl.distribution_points": _texts,
    "crl.only_user_certs": _bool,
    "entries": _nothing,
    "entries.count": _nothing,
    "entries.width": _nothing,
    "entries.encoding": _nothing,
    "entries.serials": _nothing,
    "entries.serials_sha256": _nothing,
    "entries.details": _nothing,
    "entries.details_sha256": _nothing,
}
SUBSTITUTES: tuple[object, ...] = (
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**64 - 1,
    "",
    "x",
    "1",
    "2026-01-01T00:00:00+00:00",
    "ab",
    "99999999999999999999999999999999999999999",
    "9" * 5000,
    "\u0661\u0662",  # Arabic-Indic digits: str.isdecimal() says yes.
    [],
    ["x"],
    [1],
    {},
)


def _set(doc: Doc, path: str, value: object) -> None:
    *parents, leaf = path.split(".")
    node = doc
    for part in parents:
        node = node[part]
    if value is _MISSING:
        del node[leaf]
    else:
        node[leaf] = value


_MISSING = object()


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_wrong_types_and_missing_fields_are_refused(document: bytes, path: str) -> None:
    original = load_document(document)
    for value in (*SUBSTITUTES, _MISSING):
        doc = parse(document)
        _set(doc, path, value)
        data = orjson.dumps(doc)
        if value is not _MISSING and FIELDS[path](value):
            revset = load_document(data)  # An acceptable value: the set is unchanged.
            assert answers(revset, SERIALS[:3]) == answers(original, SERIALS[:3])
            continue
        for mode in MODES:
            with pytest.raises(CacheFormatError):
                load_document(data, check_order=mode)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("entries.count", 0),
        ("entries.count", 201),
        ("entries.count", 2**62),
        ("entries.width", 0),
        ("entries.width", 1),
        ("entries.width", 129),
        ("entries.encoding", "two's-complement"),
        ("crl.next_update", "2025-01-01T00:00:00Z"),  # Before this_update.
        ("crl.this_update", "2026-02-30T00:00:00Z"),
        ("issuer.der_sha256", "00" * 32),
        ("entries.serials_sha256", "00" * 32),
        ("entries.details", "AAAA"),
        ("signer.sha256", "00" * 31),
    ],
)
def test_inconsistent_values_are_refused(document: bytes, path: str, value: object) -> None:
    doc = parse(document)
    _set(doc, path, value)
    for mode in MODES:
        with pytest.raises(CacheFormatError):
            load_document(orjson.dumps(doc), check_order=mode)


# --- forged entries (digests recomputed) ------------------------------------------------------


def _swap(i: int, j: int) -> Callable[[list[bytes]], list[bytes]]:
    def edit(keys: list[bytes]) -> list[bytes]:
        keys[i], keys[j] = keys[j], keys[i]
        return keys

    return edit


def _duplicate(i: int) -> Callable[[list[bytes]], list[bytes]]:
    def edit(keys: list[bytes]) -> list[bytes]:
        keys[i + 1] = keys[i]
        return keys

    return edit


def _move(src: int, dst: int) -> Callable[[list[bytes]], list[bytes]]:
    """Take the key at ``src`` out and insert it at ``dst``: index keys stay in order, and
    every block but the two touched still passes its own check."""

    def edit(keys: list[bytes]) -> list[bytes]:
        key = keys.pop(src)
        keys.insert(dst, key)
        return keys

    return edit


FORGERIES: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "swap-inside-block-1": _swap(BLOCK + 3, BLOCK + 4),
    "swap-across-blocks-0-1": _swap(BLOCK - 1, BLOCK),
    "swap-far-apart": _swap(1, 150),
    "duplicate-inside-block-1": _duplicate(BLOCK + 3),
    "duplicate-across-blocks": _duplicate(BLOCK - 1),
    # The key of serial 150 moved into block 0: a lookup of serial 150 bisects to block 4,
    # which is in order without it. Before the fix made in this suite, the lazy set answered
    # "not revoked" here.
    "move-into-another-block": _move(150, 1),
    "move-to-the-end": _move(150, 199),
    "reversed": lambda keys: keys[::-1],
    "last-block-unsorted": _swap(197, 198),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_unsorted_or_duplicate_serials_are_refused_eagerly(document: bytes, name: str) -> None:
    doc = parse(document)
    data = with_keys(doc, FORGERIES[name](keys_of(doc)))
    with pytest.raises(CacheFormatError):
        load_document(data)


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_unsorted_or_duplicate_serials_never_allow_a_revoked_certificate_lazily(
    document: bytes, certs: dict[int, Leaf], name: str
) -> None:
    doc = parse(document)
    data = with_keys(doc, FORGERIES[name](keys_of(doc)))
    try:
        lazy = load_document(data, check_order="lazy")
    except CacheFormatError:
        return  # The index itself is out of order: refused at load.
    # Every revoked certificate is denied (revoked, or the document refused), and no
    # certificate at all is allowed: an allow needs a proof about every key.
    for leaf in certs.values():
        outcome = decision_or_error(leaf, [lazy])
        assert not (isinstance(outcome, Decision) and outcome.allowed), leaf.serial
        if isinstance(outcome, Decision) and leaf.serial not in SERIALS:
            assert outcome.reason is Reason.DOCUMENT_INVALID


def test_corrupt_details_never_hide_a_hit(document: bytes, certs: dict[int, Leaf]) -> None:
    doc = parse(document)
    details = bytearray(base64.b64decode(doc["entries"]["details"]))
    details[:16] = b"not a date here\x99"[:16]
    doc["entries"]["details"] = base64.b64encode(bytes(details)).decode()  # Digest not updated.
    data = orjson.dumps(doc)
    with pytest.raises(CacheFormatError):
        load_document(data)
    lazy = load_document(data, check_order="lazy")
    decision = decide(certs[SERIALS[0]].cert, [lazy], now=NOW)
    assert decision.reason is Reason.REVOKED
    assert decision.revocation_date is None  # Unreadable details: still revoked.


def test_forged_details_with_recomputed_digest_still_revoke(
    document: bytes, certs: dict[int, Leaf]
) -> None:
    doc = parse(document)
    details = bytes(16 * doc["entries"]["count"])
    doc["entries"]["details"] = base64.b64encode(details).decode()
    doc["entries"]["details_sha256"] = hashlib.sha256(details).hexdigest()
    for mode in MODES:
        revset = load_document(orjson.dumps(doc), check_order=mode)
        decision = decide(certs[SERIALS[5]].cert, [revset], now=NOW)
        assert decision.reason is Reason.REVOKED


# --- scope: a document for another issuer -----------------------------------------------------


@pytest.fixture(scope="module")
def other_document(other_ca: CA) -> bytes:
    """Another CA's document that revokes the very serials revoked by ``document``, and more."""
    crl = other_ca.make_crl([*SERIALS, SERIALS[0] + 1, 5], number=99)
    return dump_document(verify_crl(load_crl(crl), [other_ca.cert], now=NOW))


def test_a_document_for_another_issuer_covers_none_of_this_issuers_certificates(
    other_document: bytes, certs: dict[int, Leaf]
) -> None:
    for mode in MODES:
        others = load_document(other_document, check_order=mode)
        for leaf in certs.values():
            decision = decide(leaf.cert, [others], now=NOW)
            assert decision.reason is Reason.NO_COVERING_CRL
            assert not decision.allowed


def test_serials_are_compared_only_within_the_covering_issuer(
    document: bytes, other_document: bytes, certs: dict[int, Leaf]
) -> None:
    sets = [load_document(other_document), load_document(document)]
    # Serial SERIALS[0] + 1 is revoked by the other CA only: this CA's certificate passes.
    assert decide(certs[SERIALS[0] + 1].cert, sets, now=NOW).allowed
    assert decide(certs[5].cert, sets, now=NOW).allowed
    assert decide(certs[SERIALS[0]].cert, sets, now=NOW).reason is Reason.REVOKED


def test_issuer_name_text_does_not_grant_scope(
    hca: CA, other_document: bytes, certs: dict[int, Leaf]
) -> None:
    """Only ``issuer.der`` scopes a document; ``issuer.name`` is for people."""
    doc = parse(other_document)
    doc["issuer"]["name"] = hca.name.rfc4514_string()
    revset = load_document(orjson.dumps(doc))
    assert decide(certs[5].cert, [revset], now=NOW).reason is Reason.NO_COVERING_CRL


def test_issuer_der_must_match_its_digest(hca: CA, other_document: bytes) -> None:
    doc = parse(other_document)
    doc["issuer"]["der"] = base64.b64encode(hca.name.public_bytes()).decode()
    with pytest.raises(CacheFormatError, match=r"issuer\.der"):
        load_document(orjson.dumps(doc))


# --- enormous documents -----------------------------------------------------------------------

# The bound (crlcheck.s3.MAX_DOCUMENT_BYTES, see docs/SECURITY.md): the authorizer refuses a
# larger document before reading it. A 1M-entry CRL of 20-octet serials makes a ~50 MB
# document; this leaves room for ~2.5M entries.


def test_a_huge_claimed_count_is_refused_without_allocating_it(document: bytes) -> None:
    doc = parse(document)
    doc["entries"]["count"] = 2**62
    data = orjson.dumps(doc)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(CacheFormatError):
            load_document(data)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 20 * len(data)  # orjson's reservation (~13x), nothing per claimed entry.


def test_megabytes_of_padding_are_bounded_in_time(document: bytes) -> None:
    """64 MiB of JSON whitespace after the object: parsed in linear time, set unchanged."""
    padded = document + b" " * (64 << 20)
    started = time.perf_counter()
    revset = load_document(padded, check_order="lazy")
    assert time.perf_counter() - started < 5.0
    assert revset.contains(SERIALS[0])


# Loading a document of N bytes may raise the process's peak resident memory by at most this
# many times N (measured: ~1.0 lazy, ~1.1 eager). With the document body itself, and the set it
# replaces, held meanwhile, a reload peaks near 2.5 N over the Lambda's ~100 MB baseline:
# MAX_DOCUMENT_BYTES keeps that under the authorizer's 512 MB.
PEAK_FACTOR = 1.6

# Run in a fresh process, because the peak is read from /proc (VmHWM, reset through
# /proc/self/clear_refs): tracemalloc is no measure here, since orjson reserves ~13 N of
# address space that it never touches.
_PEAK_SCRIPT = """
import gc, random, sys
from crlcheck import RevocationSet, dump_document, load_document
from crlcheck.revset import CRLInfo
from crlcheck.serial import encode_serial
from tests.pki import NEXT, T0

mode, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
serials = sorted({rng.getrandbits(159) | (1 << 152) for _ in range(count)})
blob = b"".join(encode_serial(s, 21) for s in serials)
details = b"20251201000000Z\\xff" * len(serials)
info = CRLInfo("CN=big", b"0\\x00", None, "CN=big", "00" * 32, 1, T0, NEXT, "00" * 32, "x")
data = dump_document(RevocationSet(info, 21, blob, details, ordered=True))
probe = serials[len(serials) // 3]
del blob, details, serials
gc.collect()


def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])


with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = peak_kb()
revset = load_document(data, check_order=mode)
assert probe in revset and probe + 1 not in revset  # The miss checks the whole order.
print(len(data), (peak_kb() - before) * 1024)
"""


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc to read peak memory"
)
@pytest.mark.parametrize("mode", MODES)
def test_loading_peaks_below_a_small_multiple_of_the_document_size(
    mode: Literal["eager", "lazy"],
) -> None:
    """What makes a size bound a memory bound: a ~12 MB document (250 000 entries)."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, mode, "250000"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
        check=True,
    )
    size, growth = map(int, result.stdout.split())
    assert size > 10_000_000
    assert growth < PEAK_FACTOR * size, growth / size


def test_the_size_bound_keeps_a_reload_within_the_authorizer_memory() -> None:
    """The S3 source refuses documents over MAX_DOCUMENT_BYTES from their Content-Length
    (tests/adapters/test_s3.py). During a reload the authorizer holds the new body, the
    memory of loading it (PEAK_FACTOR) and the set it replaces (~0.45 of its document), over a
    ~100 MB baseline (Python, cryptography, boto3): all of it must fit the function."""
    template = (Path(__file__).parents[2] / "template.yaml").read_text()
    function = template[template.index("  AuthorizerFunction:") :]
    memory_mb = int(re.search(r"MemorySize: (\d+)", function).group(1))  # type: ignore[union-attr]
    assert MAX_DOCUMENT_BYTES == 128 << 20
    peak = (100 << 20) + MAX_DOCUMENT_BYTES * (1 + PEAK_FACTOR + 0.5)
    assert peak < memory_mb << 20, (int(peak) >> 20, memory_mb)
