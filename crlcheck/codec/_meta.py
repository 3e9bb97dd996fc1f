"""The metadata sections every document version carries: ``issuer``, ``signer`` and ``crl``.

Version 1 (JSON) and version 2 (binary, whose header is JSON) describe a set's
:class:`~crlcheck.revset.CRLInfo` with the same three JSON objects (docs/FORMAT.md, "Fields"), so
they are written and read here once, together with what both readers check first (a JSON object
of a known format name, ``generator`` and ``generated_at``) and the field helpers, so both
versions refuse a missing or mistyped field with the same message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from crlcheck._time import format_utc
from crlcheck.crl import MAX_CRL_NUMBER
from crlcheck.errors import CacheFormatError
from crlcheck.revset import CRLInfo

__all__ = [
    "DELTA_FORMAT_NAME",
    "FORMAT_NAME",
    "info_sections",
    "parse_object",
    "read_info",
    "read_provenance",
]

FORMAT_NAME = "crlcheck.revocation-set"
# A delta CRL's document: the same layout plus crl.delta_base, under another name so that a
# reader that does not know deltas refuses it instead of taking it for a complete CRL.
DELTA_FORMAT_NAME = "crlcheck.delta-revocation-set"


def parse_object(data: bytes, what: str) -> tuple[dict[str, Any], bool]:
    """Parse a document (or a binary document's header) as a JSON object of a known format.

    Args:
        data: The JSON bytes.
        what: What they are, for messages (``"document"``, ``"document header"``).

    Returns:
        The object, and whether it is a delta CRL's document (its ``format`` name).

    Raises:
        CacheFormatError: Not JSON, not an object, or not a crlcheck revocation-set document.
    """
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CacheFormatError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise CacheFormatError(f"{what} is not a JSON object")
    kind = doc.get("format")
    if kind not in (FORMAT_NAME, DELTA_FORMAT_NAME):
        raise CacheFormatError("not a crlcheck revocation-set document")
    return doc, kind == DELTA_FORMAT_NAME


def read_provenance(doc: dict[str, Any]) -> None:
    """Check ``generator`` (a string) and ``generated_at`` (null or a canonical UTC time).

    Raises:
        CacheFormatError: Either is missing or malformed.
    """
    _field(doc, "generator", str, "")
    generated_at = _field(doc, "generated_at", (str, type(None)), "")
    if generated_at is not None and not _canonical_time(generated_at):
        raise CacheFormatError("document field generated_at is not a YYYY-MM-DDTHH:MM:SSZ time")


def info_sections(info: CRLInfo) -> dict[str, Any]:
    """The ``issuer``, ``signer`` and ``crl`` objects describing ``info``."""
    return {
        "issuer": {
            "name": info.issuer,
            "der": base64.b64encode(info.issuer_der).decode("ascii"),
            "der_sha256": hashlib.sha256(info.issuer_der).hexdigest(),
            "key_id": info.issuer_key_id.hex() if info.issuer_key_id is not None else None,
        },
        "signer": {
            "subject": info.signer_subject,
            "sha256": info.signer_sha256,
            "key_sha256": info.signer_key_sha256,
        },
        "crl": {
            "number": str(info.crl_number) if info.crl_number is not None else None,
            "this_update": format_utc(info.this_update),
            "next_update": format_utc(info.next_update),
            "source_sha256": info.source_sha256,
            "signature_algorithm": info.signature_algorithm,
            "distribution_points": list(info.distribution_points),
            "only_user_certs": info.only_user_certs,
            **({"delta_base": str(info.delta_base)} if info.is_delta else {}),
        },
    }


def read_info(doc: dict[str, Any], *, delta: bool) -> CRLInfo:
    """Read and check the ``issuer``, ``signer`` and ``crl`` objects of a document.

    Args:
        doc: The document (or header) object.
        delta: Whether the document says it is a delta CRL's (its ``format`` name): then
            ``crl.delta_base`` is required, else it must be absent.

    Raises:
        CacheFormatError: A field is missing, mistyped or does not decode; ``issuer.der`` does
            not match its digest; or ``next_update`` is before ``this_update``.
    """
    issuer = _section(doc, "issuer")
    signer = _section(doc, "signer")
    crl = _section(doc, "crl")
    issuer_der = _b64(_field(issuer, "der", str, "issuer."), "issuer.der")
    if hashlib.sha256(issuer_der).hexdigest() != _field(issuer, "der_sha256", str, "issuer."):
        raise CacheFormatError("issuer.der does not match issuer.der_sha256")
    key_id_text = _field(issuer, "key_id", (str, type(None)), "issuer.")
    crl_number = _decimal(_field(crl, "number", (str, type(None)), "crl."), "crl.number")
    delta_base = None
    if delta:
        delta_base = _decimal(_field(crl, "delta_base", str, "crl."), "crl.delta_base")
        if crl_number is None or delta_base is None or delta_base >= crl_number:
            raise CacheFormatError("a delta document needs crl.number above crl.delta_base")
    elif "delta_base" in crl:
        raise CacheFormatError("crl.delta_base in a document that is not a delta document")
    for number in (crl_number, delta_base):
        if number is not None and number > MAX_CRL_NUMBER:
            raise CacheFormatError("document field crl.number is longer than 20 octets")
    points = _field(crl, "distribution_points", list, "crl.")
    if not all(isinstance(p, str) for p in points):
        raise CacheFormatError("document field crl.distribution_points has the wrong type")
    info = CRLInfo(
        issuer=_field(issuer, "name", str, "issuer."),
        issuer_der=issuer_der,
        issuer_key_id=_hex(key_id_text, "issuer.key_id") if key_id_text is not None else None,
        signer_subject=_field(signer, "subject", str, "signer."),
        signer_sha256=_hex(_field(signer, "sha256", str, "signer."), "signer.sha256", 32).hex(),
        signer_key_sha256=_signer_key(signer),
        crl_number=crl_number,
        this_update=_time(_field(crl, "this_update", str, "crl."), "crl.this_update"),
        next_update=_time(_field(crl, "next_update", str, "crl."), "crl.next_update"),
        source_sha256=_hex(
            _field(crl, "source_sha256", str, "crl."), "crl.source_sha256", 32
        ).hex(),
        signature_algorithm=_field(crl, "signature_algorithm", str, "crl."),
        distribution_points=tuple(points),
        only_user_certs=_field(crl, "only_user_certs", bool, "crl."),
        delta_base=delta_base,
    )
    if info.next_update < info.this_update:
        raise CacheFormatError("crl.next_update is before crl.this_update")
    return info


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in obj:
        raise CacheFormatError(f"document field {where}{name} is missing")
    value = obj[name]
    # bool is an int subclass; never accept it where a number is expected.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise CacheFormatError(f"document field {where}{name} has the wrong type")
    return value


def _section(doc: dict[str, Any], name: str) -> dict[str, Any]:
    value: dict[str, Any] = _field(doc, name, dict, "")
    return value


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CacheFormatError(f"document field {where} is not valid base64") from exc


def _hex(text: str, where: str, size: int | None = None) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError as exc:
        raise CacheFormatError(f"document field {where} is not hex") from exc
    if size is not None and len(value) != size:
        raise CacheFormatError(f"document field {where} has the wrong length")
    return value


# The canonical form dump() writes, read without strptime: the first strptime call of a
# process imports and compiles _strptime's machinery (~3 ms of every authorizer cold start).
_CANONICAL_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z", re.ASCII)


def _time(text: str, where: str) -> datetime:
    try:
        match = _CANONICAL_TIME.fullmatch(text)
        if match is not None:  # Same result as strptime below, which parses anything else.
            year, month, day, hour, minute, second = map(int, match.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        value = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise CacheFormatError(f"document field {where} is not a UTC timestamp") from exc
    return value.replace(tzinfo=UTC)


def _canonical_time(text: str) -> bool:
    """True if ``text`` is a valid time in exactly the form :func:`format_utc` writes."""
    match = _CANONICAL_TIME.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second = map(int, match.groups())
    try:
        datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return False
    return True


def _signer_key(signer: dict[str, Any]) -> str | None:
    """``signer.key_sha256``: written since crlcheck 0.2; documents from before lack it."""
    if signer.get("key_sha256") is None:
        return None
    return _hex(_field(signer, "key_sha256", str, "signer."), "signer.key_sha256", 32).hex()


def _decimal(text: str | None, where: str) -> int | None:
    if text is None:
        return None
    if not (text.isascii() and text.isdecimal()):
        raise CacheFormatError(f"document field {where} is not a decimal string")
    # A cRLNumber is at most 20 octets (RFC 5280 §5.2.3), 49 decimal digits; the preprocessor
    # refuses longer ones, so a longer number is not from a verified CRL.
    if len(text) > 49:
        raise CacheFormatError(f"document field {where} is longer than 20 octets")
    return int(text)
