"""The performance shortcuts agree with the straightforward code they replace.

``_walk_utc_entries`` sorts records by bucket and assembles keys and details column by column;
these tests check it byte for byte against ``_walk_entries_slowly`` (reached by an entry count
that does not match), on hand-picked and generated entry lists, and that it steps aside (returns
None) exactly when it must: a GeneralizedTime revocationDate, a serial listed twice, or an entry
shape it does not read. The revocation set's inlined key encoding and the two date parsers are
checked against ``encode_serial`` and ``strptime``, and ``keys_increasing`` against a plain
comparison.
"""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from crlcheck import _entries as entries_module
from crlcheck import revset as revset_module
from crlcheck.codec import _meta as document_module
from crlcheck.errors import CacheFormatError
from crlcheck.revset import CRLInfo, RevocationSet, keys_increasing
from crlcheck.serial import encode_serial
from tests.pki import der_generalizedtime, der_integer, entry_extension, raw_entry, tlv

REASON_CODES = [0, 1, 2, 3, 4, 5, 6, 9, 10]
# Serials around the byte boundaries, both signs, up to 64 octets (an entry longer than 127
# bytes has a long-form length, which only the slow path reads).
BOUNDARIES = sorted(
    {0, 1, -1, 127, 128, -128, -129, 255, 256}
    | {
        sign * (2 ** (8 * n - 1) + delta)
        for n in (2, 8, 16, 20, 21, 33, 64)
        for sign in (1, -1)
        for delta in (-1, 0, 1)
    }
)


def reason(code: int) -> bytes:
    return entry_extension("2.5.29.21", tlv(0x0A, bytes([code])))


def invalidity(date: dt.datetime) -> bytes:
    return entry_extension("2.5.29.24", der_generalizedtime(date))


def extensions(shape: int, code: int, date: dt.datetime) -> bytes:
    """The four extension layouts the fast path reads (0 = none)."""
    inv = invalidity(date - dt.timedelta(days=1))
    return [
        b"",
        tlv(0x30, reason(code)),
        tlv(0x30, inv),
        tlv(0x30, reason(code) + inv),
        tlv(0x30, inv + reason(code)),
    ][shape]


def entries_blob(items: list[tuple[int, dt.datetime, int, int]]) -> bytes:
    return b"".join(raw_entry(s, d, extensions(shape, code, d)) for s, d, shape, code in items)


def slow(blob: bytes) -> tuple[int, bytes, bytes]:
    return entries_module.walk_entries_slowly(blob, 0, len(blob), None)


def test_fast_path_reads_every_length_sign_shape_and_century() -> None:
    items = []
    for i, serial in enumerate(BOUNDARIES):
        date = dt.datetime(1950 + (7 * i) % 100, 1 + i % 12, 1 + i % 28, i % 24, i % 60, 9)
        items.append((serial, date, i % 5, REASON_CODES[i % len(REASON_CODES)]))
    blob = entries_blob(items)
    fast = entries_module._walk_utc_entries(blob, len(items))
    assert fast is not None
    assert fast == slow(blob)
    assert entries_module.walk_entries(blob, 0, len(blob), None, len(items)) == fast


def test_fast_path_steps_aside_for_generalized_time_and_duplicates() -> None:
    date = dt.datetime(2025, 3, 4, 5, 6, 7)
    base = [raw_entry(s, date) for s in (5, 300, -7)]
    generalized = tlv(0x30, der_integer(9) + der_generalizedtime(dt.datetime(2051, 1, 1)))
    for blob in (
        b"".join([*base, generalized]),
        b"".join([*base, raw_entry(300, date + dt.timedelta(days=1))]),  # 300 listed twice
        b"".join([*base, raw_entry(bytes([0, 5]), date)]),  # non-minimal: equals 5
        b"".join([*base, raw_entry(5, date, tlv(0x30, reason(8)))]),  # removeFromCRL
    ):
        assert entries_module._walk_utc_entries(blob, None) is None
    # The general path still reads the first two, exactly like the slow one.
    for blob in (b"".join([*base, generalized]), b"".join([*base, raw_entry(300, date)])):
        assert entries_module.walk_entries(blob, 0, len(blob), None) == slow(blob)


def test_fast_path_checks_the_entry_count() -> None:
    blob = entries_blob([(1, dt.datetime(2025, 1, 1), 0, 0), (2, dt.datetime(2025, 1, 1), 1, 1)])
    assert entries_module._walk_utc_entries(blob, 2) is not None
    assert entries_module._walk_utc_entries(blob, 3) is None


serials = st.one_of(
    st.integers(min_value=-(2**24), max_value=2**24),
    st.integers(min_value=2**120, max_value=2**160),
    st.integers(min_value=-(2**511), max_value=2**511),
)
utc_dates = st.datetimes(
    min_value=dt.datetime(1950, 1, 2), max_value=dt.datetime(2049, 12, 30)
).map(lambda d: d.replace(microsecond=0))
entry = st.tuples(serials, utc_dates, st.integers(0, 4), st.sampled_from(REASON_CODES))


@settings(max_examples=200, deadline=None)
@given(st.lists(entry, max_size=300, unique_by=lambda e: e[0]))
def test_fast_path_agrees_with_slow_path(items: list[tuple[int, dt.datetime, int, int]]) -> None:
    blob = entries_blob(items)
    if not items:
        return
    fast = entries_module._walk_utc_entries(blob, len(items))
    assert fast is not None
    assert fast == slow(blob)


@settings(max_examples=100, deadline=None)
@given(st.lists(entry, min_size=1, max_size=100), st.data())
def test_duplicates_leave_the_fast_path_and_keep_slow_path_results(
    items: list[tuple[int, dt.datetime, int, int]], data: st.DataObject
) -> None:
    twin = data.draw(st.sampled_from(items))
    other_date = data.draw(utc_dates)
    items = [*items, (twin[0], other_date, twin[2], twin[3])]
    blob = entries_blob(items)
    assert entries_module._walk_utc_entries(blob, len(items)) is None
    assert entries_module.walk_entries(blob, 0, len(blob), None, len(items)) == slow(blob)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=15, max_size=15) | st.from_regex(rb"\A[0-9]{14}Z\Z"))
def test_generalized_time_parser_matches_strptime(text: bytes) -> None:
    try:
        expected: dt.datetime | None = dt.datetime.strptime(
            text.decode("ascii"), "%Y%m%d%H%M%SZ"
        ).replace(tzinfo=dt.UTC)
    except ValueError:  # UnicodeDecodeError included
        expected = None
    assert revset_module._generalized_time(text) == expected


INFO = CRLInfo(
    issuer="CN=x",
    issuer_der=b"0",
    issuer_key_id=None,
    signer_subject="CN=x",
    signer_sha256="00" * 32,
    crl_number=None,
    this_update=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    next_update=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
    source_sha256="00" * 32,
    signature_algorithm="x",
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**70), 2**70), unique=True, max_size=200),
    st.lists(st.integers(-(2**80), 2**80), max_size=50),
)
def test_lookup_matches_encode_serial(members: list[int], probes: list[int]) -> None:
    width = 10
    keys = sorted(k for k in (encode_serial(s, width) for s in members) if k is not None)
    revset = RevocationSet(INFO, width, b"".join(keys), None, ordered=True)
    present = set(keys)
    for serial in [*members, *probes]:
        key = encode_serial(serial, width)
        assert revset.contains(serial) == (key is not None and key in present)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=3, max_size=3), max_size=3000), st.integers(1, 3))
def test_keys_increasing_matches_pairwise_comparison(keys: list[bytes], width: int) -> None:
    keys = [k[:width] for k in keys]
    expected = all(a < b for a, b in itertools.pairwise(keys))
    assert keys_increasing(b"".join(keys), width) == expected
    ordered = sorted(set(keys))
    assert keys_increasing(b"".join(ordered), width)


def test_keys_increasing_sees_disorder_at_every_position_around_chunks() -> None:
    keys = [i.to_bytes(2, "big") for i in range(2100)]
    assert keys_increasing(b"".join(keys), 2)
    for i in (0, 1022, 1023, 1024, 2046, 2047, 2048, 2098):
        swapped = list(keys)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        assert not keys_increasing(b"".join(swapped), 2), i
        repeated = list(keys)
        repeated[i + 1] = repeated[i]
        assert not keys_increasing(b"".join(repeated), 2), i


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
    | st.text(max_size=24)
)
def test_document_time_parser_matches_strptime(text: str) -> None:
    try:
        expected: dt.datetime | None = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC
        )
    except ValueError:
        expected = None
    try:
        parsed: dt.datetime | None = document_module._time(text, "x")
    except CacheFormatError:
        parsed = None
    assert parsed == expected
