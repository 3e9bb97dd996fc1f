"""Exact, order-preserving encoding of certificate serial numbers.

Serial numbers are DER INTEGERs: signed, and in practice up to 20 octets (RFC 5280 §4.1.2.2),
though non-conforming CAs issue longer and negative ones. They must never pass through a JSON
number (orjson rejects integers beyond 64 bits, and many readers turn them into floats), and
encodings that drop the sign (255 and -1 share the byte ``ff``) would let a revoked ``-1`` deny
``255``.

crlcheck stores a serial as a fixed-width *offset-binary* key: the integer plus ``2**(8*width-1)``
as an unsigned big-endian number of ``width`` bytes. The mapping is a bijection between the
integers in range and the ``width``-byte strings, and byte order equals numeric order, so a
sorted list of keys can be searched with :func:`bisect.bisect_left` in C. ``width`` is chosen per
revocation set as one more than the longest DER INTEGER content in it, so every member fits with
room for its sign.
"""

from __future__ import annotations

__all__ = ["decode_serial", "encode_serial", "format_serial"]


def encode_serial(serial: int, width: int) -> bytes | None:
    """Return the ``width``-byte offset-binary key of ``serial``.

    Args:
        serial: The serial number, any sign.
        width: Key width in bytes (at least 1).

    Returns:
        The key, or None when ``serial`` is out of range for ``width`` (so it cannot be a member
        of a set of that width).
    """
    value = serial + (1 << (8 * width - 1))
    if value < 0 or value >> (8 * width):
        return None
    return value.to_bytes(width, "big")


def decode_serial(key: bytes) -> int:
    """Return the serial encoded in an offset-binary key (inverse of :func:`encode_serial`)."""
    return int.from_bytes(key, "big") - (1 << (8 * len(key) - 1))


def format_serial(serial: int) -> str:
    """Format a serial the way ``openssl`` prints it: uppercase hex of even length, with a sign.

    ``255`` is ``"FF"``, ``-1`` is ``"-01"``, and ``0`` is ``"00"``; the text is exact and unique.
    """
    magnitude = f"{abs(serial):X}"
    if len(magnitude) % 2:
        magnitude = "0" + magnitude
    return ("-" if serial < 0 else "") + magnitude
