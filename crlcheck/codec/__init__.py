"""Revocation documents: the preprocessed, read-optimised form of a verified CRL.

A document is written once (by the preprocessor or ``crlcheck preprocess``) and read on every
cold start, so each format favours loading. The format of a document is recognised from its
first bytes (:func:`sniff`); each format lives in its own module and registers its reader and
writer in :data:`_FORMATS`, so a new format is a new module and one new entry here, not a new
branch in every caller. Today there are two (docs/FORMAT.md): version 1, JSON (``_json``,
the default), and version 2, binary (``_binary``: no decoding at load, the keys are searched in
place; its first bytes are a magic that no JSON document, PEM file or DER CRL starts with).

Every reader refuses what it cannot vouch for with :class:`~crlcheck.CacheFormatError`: a
truncated, altered or unknown document never yields a partial or empty set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from crlcheck.codec import _binary, _json
from crlcheck.errors import CacheFormatError
from crlcheck.revset import RevocationSet

__all__ = [
    "DEFAULT_FORMAT",
    "DOCUMENT_SUFFIXES",
    "FORMATS",
    "FORMAT_VERSION",
    "DocumentFormat",
    "document_media_type",
    "document_suffix",
    "dump_document",
    "load_document",
    "sniff",
]

CheckOrder = Literal["eager", "lazy"]
DocumentFormat = Literal["json", "binary"]

FORMAT_VERSION: Final = _json.FORMAT_VERSION
"""The version of the default (JSON) document format."""

DEFAULT_FORMAT: Final[DocumentFormat] = "json"

# Leading bytes a text document may start with before its first significant byte.
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class _Format:
    name: DocumentFormat
    suffix: str
    media_type: str
    matches: Callable[[bytes], bool]
    load: Callable[..., RevocationSet]
    dump: Callable[..., bytes]


_FORMATS: Final[tuple[_Format, ...]] = (
    _Format(
        "json",
        ".cache.json",
        "application/json",
        lambda head: head[:1] == b"{",
        _json.load,
        _json.dump,
    ),
    _Format(
        "binary",
        ".cache.bin",
        "application/octet-stream",
        lambda head: head.startswith(_binary.MAGIC),
        _binary.load,
        _binary.dump,
    ),
)

FORMATS: Final = tuple(f.name for f in _FORMATS)
"""The names of the document formats this crlcheck writes and reads."""


def sniff(data: bytes) -> DocumentFormat | None:
    """The document format ``data`` is in, judged by its first bytes; None if none matches.

    Only the first significant bytes are looked at: a matching format may still refuse the
    document when it loads it.
    """
    head = data[:64].lstrip(_WHITESPACE)
    for fmt in _FORMATS:
        if fmt.matches(head):
            return fmt.name
    return None


def _describe(data: bytes) -> str:
    """What a non-document most likely is, to make the refusal useful."""
    head = data[:64].lstrip(_WHITESPACE)
    if head.startswith(b"-----BEGIN X509 CRL") or head[:1] == b"\x30":
        return "it looks like a CRL: make a document from it with `crlcheck preprocess`"
    if head.startswith(b"-----BEGIN"):
        return "it is a PEM file, not a crlcheck document"
    if not head:
        return "it is empty"
    return "its first bytes match no document format"


def load_document(data: bytes | str, *, check_order: CheckOrder = "eager") -> RevocationSet:
    """Read a revocation document of any known format (recognised by its first bytes).

    Args:
        data: The document, as written by :func:`dump_document`.
        check_order: ``"eager"`` checks now that every serial is in strictly increasing order
            and that the entry details match their digest; ``"lazy"`` checks the block of a
            hit, the whole order on the first miss, and the details on the first hit, which
            keeps loading short. Either way no answer relies on unchecked keys.

    Returns:
        The revocation set.

    Raises:
        CacheFormatError: The data is not a document of a known format and version, or it is
            malformed, truncated or altered.
        TypeError: ``data`` is neither bytes nor str.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif isinstance(data, bytearray | memoryview):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise TypeError(f"expected a document as bytes or str, got {type(data).__name__}")
    name = sniff(data)
    for fmt in _FORMATS:
        if fmt.name == name:
            return fmt.load(data, check_order=check_order)
    raise CacheFormatError(f"not a crlcheck revocation document: {_describe(data)}")


def dump_document(
    revset: RevocationSet,
    *,
    generated_at: datetime | None = None,
    format: DocumentFormat = DEFAULT_FORMAT,
) -> bytes:
    """Serialise a revocation set as a document.

    Args:
        revset: The verified set.
        generated_at: Recorded as ``generated_at`` when given (informational only).
        format: The document format: ``"json"`` (version 1, the default) or ``"binary"``
            (version 2).

    Returns:
        The document bytes.

    Raises:
        CacheFormatError: The set cannot be stored in that format (e.g. serials longer than it
            stores), or was loaded from a document whose entry details do not decode.
        ValueError: ``format`` is not a known format.
    """
    return _format(format).dump(revset, generated_at=generated_at)


def _format(name: str) -> _Format:
    for fmt in _FORMATS:
        if fmt.name == name:
            return fmt
    raise ValueError(f"unknown document format {name!r} (known: {', '.join(FORMATS)})")


def document_suffix(format: DocumentFormat = DEFAULT_FORMAT) -> str:
    """The file suffix of documents of ``format``: ``.cache.json`` or ``.cache.bin``.

    Raises:
        ValueError: ``format`` is not a known format.
    """
    return _format(format).suffix


def document_media_type(format: DocumentFormat = DEFAULT_FORMAT) -> str:
    """The media type documents of ``format`` are stored with (S3's ``Content-Type``).

    Raises:
        ValueError: ``format`` is not a known format.
    """
    return _format(format).media_type


DOCUMENT_SUFFIXES: Final = tuple(f.suffix for f in _FORMATS)
"""The file suffixes of every document format."""
