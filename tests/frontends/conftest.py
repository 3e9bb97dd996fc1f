"""Fixtures for the front door tests: a small PKI and its documents in a directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pki import CA, NEXT, T0, Leaf
from tests.web import write_document


@dataclass
class WebPKI:
    ca: CA
    good: Leaf
    revoked: Leaf
    stranger: Leaf  # Issued by a CA that publishes no CRL.


@pytest.fixture(scope="session")
def web_pki() -> WebPKI:
    ca = CA("crlcheck Web CA")
    return WebPKI(ca, ca.issue_cert("good"), ca.issue_cert("revoked"), CA().issue_cert("x"))


@pytest.fixture
def documents(tmp_path: Path, web_pki: WebPKI) -> Path:
    """A directory with the Web CA's document (the revoked leaf revoked), valid at NOW."""
    directory = tmp_path / "documents"
    directory.mkdir()
    write_document(
        directory,
        web_pki.ca,
        [web_pki.revoked.serial],
        this_update=T0,
        next_update=NEXT,
        filename="web-ca.cache.json",
    )
    return directory
