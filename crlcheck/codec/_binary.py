"""Document format version 2: binary (specified in docs/FORMAT.md).

Theory of operation
-------------------
Version 1 spends most of a cold start turning text back into bytes: parsing a 49 MB JSON
document and base64-decoding its keys and details (~170 ms at a million entries). Version 2
stores those bytes as they are used, so a reader does no decoding at all::

    0    magic      8 bytes   b"\\x89CRLCHK\\n"
    8    version    u32, big-endian: 2
    12   length     u32, big-endian: the header's length in bytes
    16   digest     32 bytes: SHA-256 of the header
    48   header     UTF-8 JSON object: the version 1 metadata and the layout of the sections
         zero bytes to the next multiple of 64
         keys       count * width bytes: the offset-binary keys, strictly increasing
         zero bytes to the next multiple of 64
         details    count * 16 bytes: one detail record per key, then the end of the file

The magic's first byte has its high bit set (so it cannot start a JSON document, a PEM file or
a DER CRL, which starts with 0x30) and its last is a line feed (so a text-mode transfer that
rewrites line ends changes it, as in PNG's signature). The version follows the magic, so a
later binary version is recognised as such and refused with
:class:`~crlcheck.errors.DocumentVersionError`, not as garbage.

Every byte is checked before it is relied on: the header against its digest; the layout is
fully determined by the header's length, the count and the width, so the offsets the header
states, the padding (zero bytes) and the document's exact length are all compared with it; the
keys against their digest at load. The keys are then searched *in place*: the
:class:`~crlcheck.revset.RevocationSet` keeps the document's ``bytes`` and the span of its
keys section (no copy), and the details are a ``memoryview`` of it, checked against their
digest on the first hit (``check_order="lazy"``) or at load (``"eager"``), exactly as in
version 1. Sections start on 64-byte boundaries of the file, so a file mapped into memory has
them aligned for any reader (a cache line; 8 bytes suffice for word-wise access).
"""

from __future__ import annotations

import hashlib
import struct
from datetime import datetime
from typing import Any, Final, Literal

import orjson

from crlcheck import __version__
from crlcheck._time import format_utc
from crlcheck.codec._json import MAX_WIDTH
from crlcheck.codec._meta import (
    DELTA_FORMAT_NAME,
    FORMAT_NAME,
    _field,
    _hex,
    _section,
    info_sections,
    parse_object,
    read_info,
    read_provenance,
)
from crlcheck.errors import CacheFormatError, DocumentVersionError
from crlcheck.revset import DETAIL_SIZE, RevocationSet

__all__ = ["ALIGNMENT", "FORMAT_VERSION", "MAGIC", "dump", "load"]

MAGIC: Final[bytes] = b"\x89CRLCHK\n"
FORMAT_VERSION: Final[int] = 2
ALIGNMENT: Final[int] = 64
MAX_HEADER: Final[int] = 1 << 20  # Bytes of JSON header; a real one is under 2 KB.

# magic, version, header length, header SHA-256.
_PREFIX: Final = struct.Struct(">8sII32s")


def _align(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT


def _layout(header_length: int, count: int, width: int) -> tuple[int, int, int]:
    """The keys offset, details offset and total length of a document (see module notes)."""
    keys_at = _align(_PREFIX.size + header_length)
    details_at = _align(keys_at + count * width)
    return keys_at, details_at, details_at + count * DETAIL_SIZE


def dump(revset: RevocationSet, *, generated_at: datetime | None = None) -> bytes:
    """Serialise a revocation set to its binary document.

    Args:
        revset: The verified set.
        generated_at: Recorded as ``generated_at`` when given (informational only).

    Returns:
        The document bytes.

    Raises:
        CacheFormatError: If the set holds a serial longer than the format stores (127 octets),
            its metadata makes a header over :data:`MAX_HEADER` bytes, or it was loaded from a
            document whose entry details do not decode.
    """
    if revset.width > MAX_WIDTH:
        raise CacheFormatError(
            f"serials of {revset.width - 1} octets are longer than this format stores"
            f" ({MAX_WIDTH - 1})"
        )
    keys = revset.keys_blob()
    details = revset.details_blob()
    count, width = len(revset), revset.width
    entries: dict[str, Any] = {
        "count": count,
        "width": width,
        "encoding": "offset-binary",
        "alignment": ALIGNMENT,
        "serials_offset": 0,
        "serials_sha256": hashlib.sha256(keys).hexdigest(),
        "details_offset": 0,
        "details_sha256": hashlib.sha256(details).hexdigest(),
    }
    doc: dict[str, Any] = {
        "format": DELTA_FORMAT_NAME if revset.info.is_delta else FORMAT_NAME,
        "version": FORMAT_VERSION,
        "generator": f"crlcheck {__version__}",
        "generated_at": format_utc(generated_at) if generated_at else None,
        **info_sections(revset.info),
        "entries": entries,
    }
    # The header states the offsets, which depend on the header's length: iterate to the fixed
    # point (offsets only grow, by whole alignment units, so two or three rounds reach it).
    for _ in range(8):
        header = orjson.dumps(doc)
        keys_at, details_at, _end = _layout(len(header), count, width)
        if (entries["serials_offset"], entries["details_offset"]) == (keys_at, details_at):
            break
        entries["serials_offset"], entries["details_offset"] = keys_at, details_at
    else:  # pragma: no cover - the loop converges; this guards the reasoning above.
        raise AssertionError("document layout did not converge")
    if len(header) > MAX_HEADER:
        raise CacheFormatError(f"document header of {len(header)} bytes is too long")
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), hashlib.sha256(header).digest())
    keys_end = keys_at + len(keys)
    return b"".join(
        (
            prefix,
            header,
            bytes(keys_at - _PREFIX.size - len(header)),
            keys,
            bytes(details_at - keys_end),
            details,
        )
    )


def _int(entries: dict[str, Any], name: str) -> int:
    value: int = _field(entries, name, int, "entries.")
    return value


def load(data: bytes, *, check_order: Literal["eager", "lazy"] = "eager") -> RevocationSet:
    """Parse and validate a binary revocation set document (keys used in place, no copy).

    Args:
        data: The bytes written by :func:`dump`.
        check_order: As for version 1: ``"eager"`` checks the order of every key and the
            details digest now; ``"lazy"`` checks the block of a hit, the whole order on the
            first miss, and the details on the first hit.

    Returns:
        The revocation set; it keeps ``data`` (its keys and details are views of it).

    Raises:
        DocumentVersionError: The document is a binary document of another version.
        CacheFormatError: If the document is truncated, padded, altered (a digest, an offset, a
            length or a padding byte disagrees), misses or mistypes a header field, or its keys
            are unsorted.
    """
    if len(data) < _PREFIX.size:
        raise CacheFormatError("binary document is truncated (no complete prefix)")
    magic, version, header_length, header_digest = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise CacheFormatError("not a crlcheck binary document (wrong magic)")
    if version != FORMAT_VERSION:
        raise DocumentVersionError(
            f"unsupported binary document version {version} (this crlcheck reads {FORMAT_VERSION})",
            version=version,
        )
    if header_length > MAX_HEADER or _PREFIX.size + header_length > len(data):
        raise CacheFormatError("binary document header is truncated or too long")
    header = data[_PREFIX.size : _PREFIX.size + header_length]
    if hashlib.sha256(header).digest() != header_digest:
        raise CacheFormatError("document header does not match its digest (corrupt or altered)")
    doc, delta = parse_object(header, "document header")
    if _field(doc, "version", int, "") != FORMAT_VERSION:
        raise CacheFormatError("document header's version differs from the binary version")
    read_provenance(doc)
    info = read_info(doc, delta=delta)

    entries = _section(doc, "entries")
    count, width = _int(entries, "count"), _int(entries, "width")
    if _field(entries, "encoding", str, "entries.") != "offset-binary":
        raise CacheFormatError("unknown entries.encoding")
    if _int(entries, "alignment") != ALIGNMENT:
        raise CacheFormatError("unknown entries.alignment")
    if count < 0 or not 1 <= width <= MAX_WIDTH:
        raise CacheFormatError("entries.count or entries.width is out of range")
    keys_at, details_at, end = _layout(header_length, count, width)
    if (_int(entries, "serials_offset"), _int(entries, "details_offset")) != (keys_at, details_at):
        raise CacheFormatError("entries.serials_offset or details_offset is not where it belongs")
    if len(data) != end:
        raise CacheFormatError(
            f"binary document is truncated or padded ({len(data)} bytes, its header says {end})"
        )
    keys_end = keys_at + count * width
    view = memoryview(data)
    header_end = _PREFIX.size + header_length
    # A padding byte is data no digest covers: it must be zero, so that every byte is checked.
    if any(view[header_end:keys_at]) or any(view[keys_end:details_at]):
        raise CacheFormatError("binary document padding is not zero (corrupt or altered)")
    keys_digest = _hex(
        _field(entries, "serials_sha256", str, "entries."), "entries.serials_sha256", 32
    )
    if hashlib.sha256(view[keys_at:keys_end]).digest() != keys_digest:
        raise CacheFormatError("entries.serials do not match their digest (corrupt or altered)")
    details_digest = _hex(
        _field(entries, "details_sha256", str, "entries."), "entries.details_sha256", 32
    )
    details = view[details_at:end]

    def load_details() -> memoryview | None:
        # Details only describe a hit (date, reason); they never decide one.
        return details if hashlib.sha256(details).digest() == details_digest else None

    revset = RevocationSet(
        info,
        width,
        data,
        None,
        details_loader=load_details,
        ordered=False,
        span=(keys_at, keys_end),
    )
    if check_order == "eager":
        revset.check_order()
        revset.check_details()
    return revset
