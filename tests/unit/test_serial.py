"""Offset-binary serial keys: exact for any sign and length, ordered like the integers."""

from __future__ import annotations

import pytest

from crlcheck.serial import decode_serial, encode_serial, format_serial

# --- out of range: a serial that does not fit the width is never a member --------------------


@pytest.mark.parametrize(
    ("serial", "width"),
    [
        (128, 1),
        (-129, 1),
        (255, 1),  # shares the byte ff with -1 in a sign-dropping encoding
        (2**15, 2),
        (-(2**15) - 1, 2),
        (2**159, 20),  # 20 octets of magnitude need a 21st for the sign
        (-(2**159) - 1, 20),
        (2**199, 25),
    ],
)
def test_out_of_range_is_none(serial: int, width: int) -> None:
    assert encode_serial(serial, width) is None


# --- exact values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "width", "key"),
    [
        (0, 1, "80"),
        (-1, 1, "7f"),
        (127, 1, "ff"),
        (-128, 1, "00"),
        (0, 2, "8000"),
        (255, 2, "80ff"),
        (-1, 2, "7fff"),
        (256, 3, "800100"),
        (-256, 3, "7fff00"),
        (2**159 - 1, 20, "ff" * 20),
        (-(2**159), 20, "00" * 20),
        (2**159, 21, "80" + "80" + "00" * 19),
    ],
)
def test_encode_exact(serial: int, width: int, key: str) -> None:
    assert encode_serial(serial, width) == bytes.fromhex(key)
    assert decode_serial(bytes.fromhex(key)) == serial


def test_255_and_minus_1_never_share_a_key() -> None:
    for width in range(2, 23):
        plus, minus = encode_serial(255, width), encode_serial(-1, width)
        assert plus is not None
        assert minus is not None
        assert plus != minus
        assert minus < plus


@pytest.mark.parametrize("width", [1, 2, 8, 9, 20, 21, 26])
def test_width_boundaries_round_trip_and_order(width: int) -> None:
    low, high = -(2 ** (8 * width - 1)), 2 ** (8 * width - 1) - 1
    values = [low, low + 1, -1, 0, 1, high - 1, high]
    keys = [encode_serial(v, width) for v in values]
    assert all(k is not None and len(k) == width for k in keys)
    assert [decode_serial(k) for k in keys if k is not None] == values
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert encode_serial(low - 1, width) is None
    assert encode_serial(high + 1, width) is None


# --- openssl-style text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "text"),
    [
        (0, "00"),
        (1, "01"),
        (255, "FF"),
        (-1, "-01"),
        (-255, "-FF"),
        (256, "0100"),
        (-256, "-0100"),
        (0x1001, "1001"),
        (2**159, "80" + "00" * 19),
    ],
)
def test_format_serial(serial: int, text: str) -> None:
    assert format_serial(serial) == text
