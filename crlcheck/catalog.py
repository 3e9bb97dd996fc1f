"""The catalog: one small index of the documents published under a prefix (pure: no boto3).

Theory of operation
-------------------
With hundreds of partitioned CRLs (AWS Private CA: each partition is its own CRL, scoped by an
issuingDistributionPoint the certificate names in its cRLDistributionPoints) or dozens of CAs,
revalidating every document on every request makes S3 traffic grow with the number of
documents. Instead the preprocessor keeps ``<prefix>crlcheck-catalog.json``: for each published
document, its identity (issuer, signing key, scope, complete or delta), CRL number, validity
and the ETag it was written with. The authorizer revalidates only the catalog (one conditional
GET), and fetches a document when a request first needs it (the certificate's issuer and
distribution points select it), again only when the catalog shows another ETag, and evicts the
least recently used above a memory budget. A request's S3 traffic does not depend on how many
documents exist.

The catalog is a hint, never a source of trust: a selected document is read from the store and
loaded with all of its checks, and :func:`crlcheck.decide` applies the issuer and scope rules
itself. A document the catalog does not list is never consulted, so a certificate whose
partition is unpublished is denied (no covering CRL).

Updates are read-modify-write with a conditional PUT (see :func:`plan_catalog_update`); an
entry is only replaced by one of the same identity that is not older, so two preprocessor runs
finishing out of order leave the newer entry.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from crlcheck._time import format_utc
from crlcheck.errors import CacheFormatError, DocumentVersionError
from crlcheck.revset import CRLInfo

__all__ = [
    "CATALOG_NAME",
    "Catalog",
    "CatalogEntry",
    "catalog_key",
    "dump_catalog",
    "load_catalog",
]

CATALOG_NAME: Final = "crlcheck-catalog.json"
FORMAT_NAME: Final = "crlcheck.catalog"
FORMAT_VERSION: Final = 1


def catalog_key(prefix: str) -> str:
    """The key of the catalog of the documents under ``prefix`` (``crls/`` → ``crls/...``)."""
    return prefix + CATALOG_NAME


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One published document, as the catalog lists it.

    Attributes:
        key: The document's key.
        etag: The ETag it was written with.
        issuer: The CRL issuer, RFC 4514 text (for people).
        issuer_der: The CRL issuer name's DER (certificates are matched on it).
        signer_key_sha256: The signing key's SPKI digest, if recorded.
        distribution_points: The IDP names (empty: the CRL covers all of the issuer's).
        only_user_certs: IDP onlyContainsUserCerts.
        delta_base: For a delta CRL, its BaseCRLNumber.
        crl_number: The CRL number, if any.
        this_update: thisUpdate (aware, UTC).
        next_update: nextUpdate (aware, UTC).
    """

    key: str
    etag: str
    issuer: str
    issuer_der: bytes
    signer_key_sha256: str | None
    distribution_points: tuple[str, ...]
    only_user_certs: bool
    delta_base: int | None
    crl_number: int | None
    this_update: datetime
    next_update: datetime

    @classmethod
    def of(cls, key: str, etag: str, info: CRLInfo) -> CatalogEntry:
        """The entry of the document at ``key`` (written with ``etag``) of the CRL ``info``."""
        return cls(
            key=key,
            etag=etag,
            issuer=info.issuer,
            issuer_der=info.issuer_der,
            signer_key_sha256=info.signer_key_sha256,
            distribution_points=tuple(sorted(info.distribution_points)),
            only_user_certs=info.only_user_certs,
            delta_base=info.delta_base,
            crl_number=info.crl_number,
            this_update=info.this_update,
            next_update=info.next_update,
        )

    def same_identity(self, other: CatalogEntry) -> bool:
        """Same issuer, signing key, scope and kind (complete or delta)."""
        return (
            self.issuer_der == other.issuer_der
            and self.signer_key_sha256 == other.signer_key_sha256
            and self.distribution_points == other.distribution_points
            and self.only_user_certs == other.only_user_certs
            and (self.delta_base is None) == (other.delta_base is None)
        )

    def not_older_than(self, other: CatalogEntry) -> bool:
        """CRL number first (when both have one), then thisUpdate."""
        if self.crl_number is not None and other.crl_number is not None:
            return self.crl_number >= other.crl_number
        return self.this_update >= other.this_update

    def covers(self, issuer_der: bytes, points: frozenset[str], *, is_ca: bool) -> bool:
        """Whether the document may cover a certificate of this issuer and these CRLDPs."""
        if self.issuer_der != issuer_der or (self.only_user_certs and is_ca):
            return False
        return not self.distribution_points or not points.isdisjoint(self.distribution_points)


class Catalog:
    """The documents published under one prefix, by key (immutable).

    Args:
        entries: The entries by document key.
    """

    __slots__ = ("_by_issuer", "entries")

    def __init__(self, entries: Mapping[str, CatalogEntry] | None = None) -> None:
        self.entries: Mapping[str, CatalogEntry] = dict(entries or {})
        # Requests look entries up by issuer: an index keeps that independent of the size.
        by_issuer: dict[bytes, list[CatalogEntry]] = {}
        for entry in self.entries.values():
            by_issuer.setdefault(entry.issuer_der, []).append(entry)
        self._by_issuer = by_issuer

    def __len__(self) -> int:
        return len(self.entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Catalog) and self.entries == other.entries

    __hash__ = None  # type: ignore[assignment]

    def with_entry(self, entry: CatalogEntry) -> Catalog | None:
        """The catalog with ``entry``; None when it would change nothing or go backwards.

        An entry replaces one of the same key only when it is of another identity (the
        operator deleted the document and republished it) or of the same identity and not
        older: a preprocessor run that finishes after a newer one does not regress the entry.
        """
        current = self.entries.get(entry.key)
        if current == entry:
            return None
        if (
            current is not None
            and current.same_identity(entry)
            and not entry.not_older_than(current)
        ):
            return None
        return Catalog({**self.entries, entry.key: entry})

    def select(
        self, issuer_der: bytes, points: Iterable[str], *, is_ca: bool
    ) -> list[CatalogEntry]:
        """The entries of documents that may cover a certificate (:meth:`CatalogEntry.covers`)."""
        wanted = frozenset(points)
        return [
            e
            for e in self._by_issuer.get(issuer_der, ())
            if e.covers(issuer_der, wanted, is_ca=is_ca)
        ]


def _entry_json(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "etag": entry.etag,
        "issuer": entry.issuer,
        "issuer_der": base64.b64encode(entry.issuer_der).decode("ascii"),
        "signer_key_sha256": entry.signer_key_sha256,
        "distribution_points": list(entry.distribution_points),
        "only_user_certs": entry.only_user_certs,
        "delta_base": str(entry.delta_base) if entry.delta_base is not None else None,
        "crl_number": str(entry.crl_number) if entry.crl_number is not None else None,
        "this_update": format_utc(entry.this_update),
        "next_update": format_utc(entry.next_update),
    }


def dump_catalog(catalog: Catalog, *, generated_at: datetime | None = None) -> bytes:
    """Serialise a catalog (JSON, keys sorted so that equal catalogs are equal bytes)."""
    doc = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "generated_at": format_utc(generated_at) if generated_at is not None else None,
        "documents": {key: _entry_json(e) for key, e in sorted(catalog.entries.items())},
    }
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def _get(obj: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise CacheFormatError(f"catalog field {where}.{name} is missing or mistyped")
    return value


def _time(text: str, where: str) -> datetime:
    try:
        value = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise CacheFormatError(f"catalog field {where} is not a UTC time") from exc
    return value.replace(tzinfo=UTC)


def _number(text: object, where: str) -> int | None:
    if text is None:
        return None
    if not (isinstance(text, str) and text.isascii() and text.isdecimal() and len(text) <= 49):
        raise CacheFormatError(f"catalog field {where} is not a CRL number")
    return int(text)


def load_catalog(data: bytes) -> Catalog:
    """Read a catalog.

    Raises:
        CacheFormatError: It is not a catalog, or a field is missing or mistyped.
        DocumentVersionError: It is a catalog of another version.
    """
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CacheFormatError(f"catalog is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise CacheFormatError("not a crlcheck catalog")
    version = doc.get("version")
    if version != FORMAT_VERSION:
        raise DocumentVersionError(
            f"unsupported catalog version {version!r} (this crlcheck reads {FORMAT_VERSION})",
            version=version if isinstance(version, int) else -1,
        )
    documents = _get(doc, "documents", dict, "catalog")
    entries: dict[str, CatalogEntry] = {}
    for key, raw in documents.items():
        where = f"documents[{key!r}]"
        if not isinstance(raw, dict):
            raise CacheFormatError(f"catalog field {where} is not an object")
        points = _get(raw, "distribution_points", list, where)
        if not all(isinstance(p, str) for p in points):
            raise CacheFormatError(f"catalog field {where}.distribution_points is mistyped")
        try:
            issuer_der = base64.b64decode(_get(raw, "issuer_der", str, where), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CacheFormatError(f"catalog field {where}.issuer_der is not base64") from exc
        signer = raw.get("signer_key_sha256")
        if signer is not None and not isinstance(signer, str):
            raise CacheFormatError(f"catalog field {where}.signer_key_sha256 is mistyped")
        entries[key] = CatalogEntry(
            key=key,
            etag=_get(raw, "etag", str, where),
            issuer=_get(raw, "issuer", str, where),
            issuer_der=issuer_der,
            signer_key_sha256=signer,
            distribution_points=tuple(points),
            only_user_certs=_get(raw, "only_user_certs", bool, where),
            delta_base=_number(raw.get("delta_base"), f"{where}.delta_base"),
            crl_number=_number(raw.get("crl_number"), f"{where}.crl_number"),
            this_update=_time(_get(raw, "this_update", str, where), f"{where}.this_update"),
            next_update=_time(_get(raw, "next_update", str, where), f"{where}.next_update"),
        )
    return Catalog(entries)
