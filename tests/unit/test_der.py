"""The strict DER reader: bounds, minimal lengths, and nothing read past a container."""

from __future__ import annotations

import pytest

from crlcheck._der import TLV, DERError, read_children, read_tlv

# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated element"),
        (b"\x30", "truncated element"),
        (b"\x1f\x01\x00", "multi-byte tag"),
        (b"\x30\x80\x00\x00", "unsupported length encoding"),  # indefinite (BER only)
        (b"\x04\x85" + b"\x00" * 5, "unsupported length encoding"),  # 5 length octets
        (b"\x04\x82\x01", "truncated length"),
        (b"\x04\x81\x05" + b"\x00" * 5, "non-minimal length"),  # fits the short form
        (b"\x04\x82\x00\x80" + b"\x00" * 0x80, "non-minimal length"),  # leading zero octet
        (b"\x04\x03\x00\x00", "overruns its container"),
        (b"\x04\x81\x80" + b"\x00" * 0x7F, "overruns its container"),
    ],
)
def test_read_tlv_refuses(data: bytes, message: str) -> None:
    with pytest.raises(DERError, match=message):
        read_tlv(data, 0, len(data))


def test_read_tlv_respects_limit_not_buffer_end() -> None:
    data = b"\x04\x02\xaa\xbb\x00\x00"
    with pytest.raises(DERError, match="overruns"):
        read_tlv(data, 0, 3)


def test_read_children_refuses_child_overrunning_parent() -> None:
    # SEQUENCE of length 3 holding an OCTET STRING that claims 2 content bytes (needs 4).
    data = b"\x30\x03\x04\x02\xaa\xbb"
    parent = read_tlv(data, 0, 5)  # the parent itself ends at 5
    with pytest.raises(DERError, match="overruns"):
        read_children(data, parent)


def test_der_error_is_a_value_error() -> None:
    assert issubclass(DERError, ValueError)


# --- reading ----------------------------------------------------------------------------------


def test_read_tlv_short_form() -> None:
    assert read_tlv(b"\x02\x01\x05", 0, 3) == TLV(0x02, 0, 2, 3)


def test_read_tlv_long_form() -> None:
    data = b"\x00\x04\x81\x80" + b"\x11" * 0x80
    assert read_tlv(data, 1, len(data)) == TLV(0x04, 1, 4, 4 + 0x80)
    data = b"\x04\x82\x01\x00" + b"\x11" * 0x100
    assert read_tlv(data, 0, len(data)) == TLV(0x04, 0, 4, 4 + 0x100)


def test_read_children() -> None:
    data = b"\x30\x08\x02\x01\x05\x04\x00\x01\x01\xff"  # INTEGER, OCTET STRING, BOOLEAN
    parent = read_tlv(data, 0, 10)
    assert parent.end == 10
    assert read_children(data, parent) == [
        TLV(0x02, 2, 4, 5),
        TLV(0x04, 5, 7, 7),
        TLV(0x01, 7, 9, 10),
    ]
    assert read_children(b"\x30\x00", read_tlv(b"\x30\x00", 0, 2)) == []
