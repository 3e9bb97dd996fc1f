"""Fixtures for the core unit tests; the large CRL and what is made from it are session-scoped."""

from __future__ import annotations

import hashlib

import pytest

from crlcheck import RevocationSet, dump_document, load_crl, verify_crl
from tests.pki import CA, NOW, crl_with_entries, entry_extensions, raw_entry, reason_code

# Reason codes cycled through the large CRL's entries (None: no reasonCode extension).
_REASONS = (None, 0, 1, 4, 6, 9)


def _spread_serial(i: int) -> int:
    """A deterministic serial of 1 to 25 octets and either sign, well spread over its range."""
    digest = hashlib.sha256(b"serial %d" % i).digest()
    return int.from_bytes(digest[: 1 + i % 25], "big", signed=True)


@pytest.fixture(scope="session")
def large_serials() -> list[int]:
    """About 5000 distinct serials (many index blocks), incl. negative and 25-octet ones."""
    return list(dict.fromkeys(_spread_serial(i) for i in range(5000)))


@pytest.fixture(scope="session")
def large_reasons(large_serials: list[int]) -> dict[int, int | None]:
    return {s: _REASONS[i % len(_REASONS)] for i, s in enumerate(large_serials)}


@pytest.fixture(scope="session")
def large_crl(ca: CA, large_serials: list[int], large_reasons: dict[int, int | None]) -> bytes:
    entries = []
    for s in large_serials:
        code = large_reasons[s]
        extensions = entry_extensions(reason_code(code)) if code is not None else b""
        entries.append(raw_entry(s, extensions=extensions))
    return crl_with_entries(ca, entries, number=77)


@pytest.fixture(scope="session")
def large_revset(ca: CA, large_crl: bytes) -> RevocationSet:
    return verify_crl(load_crl(large_crl), [ca.cert], now=NOW)


@pytest.fixture(scope="session")
def large_document(large_revset: RevocationSet) -> bytes:
    return dump_document(large_revset)
