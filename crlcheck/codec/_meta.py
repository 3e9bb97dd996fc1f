"""The metadata sections every document version carries: ``issuer``, ``signer`` and ``crl``.

Version 1 (JSON) and version 2 (binary, whose header is JSON) describe a set's
:class:`~crlcheck.revset.CRLInfo` with the same three JSON objects (docs/FORMAT.md, "Fields"), so
they are written and read here once. The field helpers are version 1's, so both versions refuse a
missing or mistyped field with the same message.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from crlcheck._time import format_utc
from crlcheck.codec._json import _b64, _decimal, _field, _hex, _section, _signer_key, _time
from crlcheck.crl import MAX_CRL_NUMBER
from crlcheck.errors import CacheFormatError
from crlcheck.revset import CRLInfo

__all__ = ["info_sections", "read_info"]


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
