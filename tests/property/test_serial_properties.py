"""Offset-binary serial keys are exact and ordered for any integer that fits the width."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crlcheck.serial import decode_serial, encode_serial, format_serial

BOUND = 2 ** (8 * 21)
serials = st.integers(min_value=-BOUND, max_value=BOUND)
extra_width = st.integers(min_value=0, max_value=4)


def der_length(serial: int) -> int:
    """Octets of the minimal two's-complement DER INTEGER content of ``serial``."""
    return max(1, (serial + (serial < 0)).bit_length() // 8 + 1)


@settings(deadline=None)
@given(serials, extra_width)
def test_round_trip(serial: int, extra: int) -> None:
    # A set's width is one more than its longest DER content (room for the sign); any wider
    # width must work too.
    width = der_length(serial) + 1 + extra
    key = encode_serial(serial, width)
    assert key is not None
    assert len(key) == width
    assert decode_serial(key) == serial


@settings(deadline=None)
@given(serials, serials, extra_width)
def test_byte_order_is_numeric_order(a: int, b: int, extra: int) -> None:
    width = max(der_length(a), der_length(b)) + 1 + extra
    key_a, key_b = encode_serial(a, width), encode_serial(b, width)
    assert key_a is not None
    assert key_b is not None
    assert (key_a < key_b) == (a < b)
    assert (key_a == key_b) == (a == b)


@settings(deadline=None)
@given(serials, st.integers(min_value=1, max_value=30))
def test_in_range_exactly_when_it_fits(serial: int, width: int) -> None:
    half = 2 ** (8 * width - 1)
    key = encode_serial(serial, width)
    assert (key is not None) == (-half <= serial < half)
    if key is not None:
        assert decode_serial(key) == serial


@settings(deadline=None)
@given(st.binary(min_size=1, max_size=30))
def test_every_key_is_some_serial(key: bytes) -> None:
    assert encode_serial(decode_serial(key), len(key)) == key


@settings(deadline=None)
@given(serials)
def test_format_serial_is_exact(serial: int) -> None:
    text = format_serial(serial)
    digits = text.removeprefix("-")
    assert text.startswith("-") == (serial < 0)
    assert len(digits) % 2 == 0
    assert digits == digits.upper()
    assert int(text, 16) == serial
