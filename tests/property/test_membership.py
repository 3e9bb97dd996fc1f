"""Membership is exact: every listed serial is found, nothing else is, through CRL and document.

The signed-CRL properties build a real CRL per example (raw entries, so any serial the builders
refuse is allowed) with one CA made at import; the entry-walker properties need no signature
and compare both walkers with a model written from RFC 5280 alone.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from crlcheck import _entries as entries_module
from crlcheck import dump_document, load_crl, load_document, verify_crl
from crlcheck.revset import DETAIL_SIZE, NO_REASON, REASON_NAMES
from crlcheck.serial import encode_serial
from tests.pki import (
    CA,
    NOW,
    crl_with_entries,
    der_generalizedtime,
    der_integer,
    der_oid,
    der_utctime,
    entry_extension,
    entry_extensions,
    reason_code,
    tlv,
)

PROPERTY_CA = CA("crlcheck Property CA")

# Serials of every sign and length up to 25 octets, biased to the interesting small ones.
serial_values = st.one_of(
    st.integers(min_value=-300, max_value=300),
    st.integers(min_value=-(2**159), max_value=2**159 - 1),
    st.integers(min_value=-(2 ** (8 * 25 - 1)), max_value=2 ** (8 * 25 - 1) - 1),
)
reasons = st.sampled_from([None, 0, 1, 2, 3, 4, 5, 6, 9, 10])
utc_times = st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2049, 12, 31))
generalized_times = st.datetimes(
    min_value=dt.datetime(2050, 1, 1), max_value=dt.datetime(9999, 12, 31)
)


class Entry(NamedTuple):
    serial: int
    date: dt.datetime
    reason: int | None
    invalidity: bool  # add an invalidityDate extension
    invalidity_first: bool  # put it before the reasonCode
    hold: bool  # add a holdInstructionCode extension (only the slow walker reads those)

    def der(self) -> bytes:
        time = (der_utctime if self.date.year < 2050 else der_generalizedtime)(self.date)
        extensions = []
        if self.reason is not None:
            extensions.append(reason_code(self.reason))
        if self.invalidity:
            invalidity = entry_extension("2.5.29.24", der_generalizedtime(dt.datetime(2025, 1, 1)))
            extensions.insert(0 if self.invalidity_first else len(extensions), invalidity)
        if self.hold:
            extensions.append(entry_extension("2.5.29.23", der_oid("1.2.840.10040.2.2")))
        body = der_integer(self.serial) + time
        if extensions:
            body += entry_extensions(*extensions)
        return tlv(0x30, body)

    def detail(self) -> bytes:
        date = self.date.strftime("%Y%m%d%H%M%S").encode() + b"Z"
        return date + bytes([NO_REASON if self.reason is None else self.reason])


entries = st.builds(
    Entry,
    serial=serial_values,
    date=st.one_of(utc_times, generalized_times).map(lambda d: d.replace(microsecond=0)),
    reason=reasons,
    invalidity=st.booleans(),
    invalidity_first=st.booleans(),
    hold=st.integers(min_value=0, max_value=9).map(lambda n: n == 0),
)


def der_length(serial: int) -> int:
    return max(1, (serial + (serial < 0)).bit_length() // 8 + 1)


def check_walk(listed: list[Entry], result: tuple[int, bytes, bytes]) -> None:
    """Compare a walker's (width, keys, details) with the model of the listed entries."""
    width, keys, details = result
    members = sorted({e.serial for e in listed})
    assert width == max(der_length(e.serial) for e in listed) + 1
    expected_keys = [encode_serial(s, width) for s in members]
    assert keys == b"".join(k for k in expected_keys if k is not None)
    assert len(details) == len(members) * DETAIL_SIZE
    for i, serial in enumerate(members):
        # A serial listed more than once keeps the details of one of its listings.
        detail = details[i * DETAIL_SIZE : (i + 1) * DETAIL_SIZE]
        assert detail in {e.detail() for e in listed if e.serial == serial}


@settings(max_examples=300, deadline=None)
@given(st.lists(entries, min_size=1, max_size=40))
def test_both_entry_walkers_match_the_model(listed: list[Entry]) -> None:
    blob = b"".join(e.der() for e in listed)
    # Whichever path the walker picks for these entries ...
    check_walk(listed, entries_module.walk_entries(blob, 0, len(blob), None))
    # ... and the slow path, forced by an entry count the fast path cannot match.
    check_walk(listed, entries_module.walk_entries_slowly(blob, 0, len(blob), None))


@settings(max_examples=50, deadline=None)
@given(
    listed=st.lists(entries, max_size=40),
    probes=st.lists(serial_values, max_size=20),
)
def test_signed_crl_membership_is_exact(listed: list[Entry], probes: list[int]) -> None:
    data = crl_with_entries(PROPERTY_CA, [e.der() for e in listed])
    revset = verify_crl(load_crl(data), [PROPERTY_CA.cert], now=NOW)
    document = dump_document(revset)
    members = {e.serial for e in listed}
    candidates = [*probes, *members]
    candidates += [s + d for s in members for d in (-1, 1)] + [-s for s in members]
    for current in (
        revset,
        load_document(document, check_order="eager"),
        load_document(document, check_order="lazy"),
    ):
        assert current.serials() == sorted(members)
        assert len(current) == len(members)
        for serial in candidates:
            entry = current.lookup(serial)
            assert (entry is not None) == (serial in members)
            assert (serial in current) == (serial in members)
            if entry is not None:
                listings = [e for e in listed if e.serial == serial]
                assert entry.reason in {
                    REASON_NAMES[e.reason] if e.reason is not None else None for e in listings
                }
                assert entry.revocation_date in {e.date.replace(tzinfo=dt.UTC) for e in listings}
