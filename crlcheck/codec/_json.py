"""Document format version 1: JSON (specified in docs/FORMAT.md).

The document is written once by the preprocessor and read on every cold start of the
authorizer, so its layout favours loading: the sorted keys and the detail records are each one
base64 string (decoded in C), not a million JSON strings. Loading validates everything a reader
relies on (version, types, lengths, a digest of the entries, strict ordering, detail syntax): a
truncated or altered document raises :class:`CacheFormatError`; it never yields an empty set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import orjson

from crlcheck import __version__
from crlcheck._time import format_utc
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

__all__ = ["DELTA_FORMAT_NAME", "FORMAT_NAME", "FORMAT_VERSION", "dump", "load"]

FORMAT_VERSION = 1
MAX_WIDTH = 128  # Bytes per key: serials of up to 127 octets; far beyond any real CA.


def dump(revset: RevocationSet, *, generated_at: datetime | None = None) -> bytes:
    """Serialise a revocation set to its JSON document.

    Args:
        revset: The verified set.
        generated_at: Recorded as ``generated_at`` when given (informational only).

    Returns:
        The UTF-8 JSON bytes.

    Raises:
        CacheFormatError: If the set holds a serial longer than the format stores (127 octets),
            or was loaded from a document whose entry details do not decode.
    """
    info = revset.info
    if revset.width > MAX_WIDTH:
        # load() would refuse it: fail when writing, not on every later read.
        raise CacheFormatError(
            f"serials of {revset.width - 1} octets are longer than this format stores"
            f" ({MAX_WIDTH - 1})"
        )
    keys = revset.keys_blob()
    details = revset.details_blob()
    doc: dict[str, Any] = {
        "format": DELTA_FORMAT_NAME if info.is_delta else FORMAT_NAME,
        "version": FORMAT_VERSION,
        "generator": f"crlcheck {__version__}",
        "generated_at": format_utc(generated_at) if generated_at else None,
        **info_sections(info),
        "entries": {
            "count": len(revset),
            "width": revset.width,
            "encoding": "offset-binary",
            "serials_sha256": hashlib.sha256(keys).hexdigest(),
            "details_sha256": hashlib.sha256(details).hexdigest(),
            "serials": base64.b64encode(keys).decode("ascii"),
            "details": base64.b64encode(details).decode("ascii"),
        },
    }
    return orjson.dumps(doc)


def load(data: bytes, *, check_order: Literal["eager", "lazy"] = "eager") -> RevocationSet:
    """Parse and validate a revocation set document.

    Args:
        data: The JSON bytes written by :func:`dump`.
        check_order: ``"eager"`` checks now that every serial is in strictly increasing order
            and that the entry details match their digest (~0.15 µs per entry more than a lazy
            load); ``"lazy"`` checks the block of a hit, the whole order on the first miss, and
            the details on the first hit, which keeps loading short. Either way no answer relies
            on unchecked keys.

    Returns:
        The revocation set.

    Raises:
        CacheFormatError: If the document is not valid JSON, is of another format or version,
            misses or mistypes a field, or its entries are truncated, altered or unsorted.
    """
    doc, delta = parse_object(data, "document")
    version = _field(doc, "version", int, "")
    if version != FORMAT_VERSION:
        raise DocumentVersionError(
            f"unsupported document version {version} (this crlcheck reads {FORMAT_VERSION})",
            version=version,
        )
    read_provenance(doc)
    info = read_info(doc, delta=delta)
    entries = _section(doc, "entries")

    count = _field(entries, "count", int, "entries.")
    width = _field(entries, "width", int, "entries.")
    if _field(entries, "encoding", str, "entries.") != "offset-binary":
        raise CacheFormatError("unknown entries.encoding")
    if count < 0 or not 1 <= width <= MAX_WIDTH:
        raise CacheFormatError("entries.count or entries.width is out of range")
    # The digest check below makes strict base64 validation redundant; the lenient decoder is
    # about twice as fast on the multi-megabyte serials field.
    try:
        keys_blob = binascii.a2b_base64(_field(entries, "serials", str, "entries."))
    except ValueError as exc:  # Even the lenient decoder refuses bad padding and non-ASCII.
        raise CacheFormatError("document field entries.serials is not valid base64") from exc
    if len(keys_blob) != count * width:
        raise CacheFormatError("entries.serials are truncated or padded (length != count)")
    digest = _hex(_field(entries, "serials_sha256", str, "entries."), "entries.serials_sha256", 32)
    if hashlib.sha256(keys_blob).digest() != digest:
        raise CacheFormatError("entries.serials do not match their digest (corrupt or altered)")
    details_text = _field(entries, "details", str, "entries.")
    details_digest = _hex(
        _field(entries, "details_sha256", str, "entries."), "entries.details_sha256", 32
    )
    # Details only describe a hit (date, reason); they never decide one. They are decoded and
    # checked against their digest on the first hit, or now for eager checking.
    if len(details_text) != 4 * ((count * DETAIL_SIZE + 2) // 3):
        raise CacheFormatError("entries.details are truncated or padded (length != count)")

    def load_details() -> bytes | None:
        try:
            details = base64.b64decode(details_text, validate=True)
        except (binascii.Error, ValueError):
            return None
        return details if hashlib.sha256(details).digest() == details_digest else None

    revset = RevocationSet(info, width, keys_blob, None, details_loader=load_details, ordered=False)
    if check_order == "eager":
        revset.check_order()
        revset.details_blob()
    return revset


def details_loader(text: str, sha256: bytes) -> Callable[[], bytes | None]:
    """A loader of the base64 ``details``, for :class:`RevocationSet` to call on its first hit.

    The loader returns the decoded records only when they match their digest, else None (the
    set then still answers "revoked", without a date or reason).
    """

    def load() -> bytes | None:
        try:
            details = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None
        return details if hashlib.sha256(details).digest() == sha256 else None

    return load
