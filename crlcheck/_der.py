"""A minimal, strict DER reader: just enough to walk a CRL without building objects per entry.

``cryptography`` parses and verifies the CRL as a whole; this module only locates the byte spans
of TBSCertList fields and walks ``revokedCertificates`` quickly. Every function checks bounds and
raises :class:`DERError` on anything that is not well-formed DER, so hostile input can only make
it refuse, never read out of bounds or loop.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["TLV", "DERError", "expect", "read_children", "read_tlv"]

TAG_BOOLEAN = 0x01
TAG_INTEGER = 0x02
TAG_BIT_STRING = 0x03
TAG_OCTET_STRING = 0x04
TAG_OID = 0x06
TAG_ENUMERATED = 0x0A
TAG_UTC_TIME = 0x17
TAG_GENERALIZED_TIME = 0x18
TAG_SEQUENCE = 0x30
TAG_CONTEXT_0 = 0xA0


class DERError(ValueError):
    """The bytes are not well-formed DER."""


class TLV(NamedTuple):
    """One DER element: its tag, and offsets into the buffer it was read from."""

    tag: int
    start: int  # Offset of the tag byte.
    content_start: int
    end: int  # Offset just past the content.


def read_tlv(buf: bytes, pos: int, limit: int) -> TLV:
    """Read the element at ``pos``, which must end at or before ``limit``.

    Raises:
        DERError: On a truncated element, a multi-byte tag, an indefinite or non-minimal length.
    """
    if pos + 2 > limit:
        raise DERError(f"truncated element at offset {pos}")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise DERError(f"unsupported multi-byte tag at offset {pos}")
    return TLV(tag, pos, *_span(buf, pos, limit))


def expect(buf: bytes, pos: int, tag: int, limit: int) -> tuple[int, int]:
    """``(content_start, end)`` of the element at ``pos``, which must have ``tag``.

    The same checks as :func:`read_tlv` without an object per element, for walks that run on
    every request.

    Raises:
        DERError: On another tag, or as :func:`read_tlv`.
    """
    if pos + 2 > limit or buf[pos] != tag:
        raise DERError(f"expected tag {tag:#04x} at offset {pos}")
    return _span(buf, pos, limit)


def _span(buf: bytes, pos: int, limit: int) -> tuple[int, int]:
    """Decode the length after the tag at ``pos`` (``pos + 2 <= limit`` is known)."""
    first = buf[pos + 1]
    if first < 0x80:
        content_start = pos + 2
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise DERError(f"unsupported length encoding at offset {pos}")
        content_start = pos + 2 + count
        if content_start > limit:
            raise DERError(f"truncated length at offset {pos}")
        length = int.from_bytes(buf[pos + 2 : content_start], "big")
        # DER (X.690 §10.1) requires the shortest length form.
        if length < 0x80 or buf[pos + 2] == 0:
            raise DERError(f"non-minimal length at offset {pos}")
    end = content_start + length
    if end > limit:
        raise DERError(f"element at offset {pos} overruns its container")
    return content_start, end


def read_children(buf: bytes, parent: TLV) -> list[TLV]:
    """Read every element directly inside a constructed element."""
    children = []
    pos = parent.content_start
    while pos < parent.end:
        child = read_tlv(buf, pos, parent.end)
        children.append(child)
        pos = child.end
    return children
