"""Shared fixtures. Large or slow-to-make objects are session-scoped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pki import CA

DATA = Path(__file__).parent / "data"
EVENTS = Path(__file__).parent / "events"


@pytest.fixture(scope="session")
def ca() -> CA:
    return CA("crlcheck Test CA")


@pytest.fixture(scope="session")
def other_ca() -> CA:
    return CA("crlcheck Other CA")


@pytest.fixture(scope="session")
def openssl_dir() -> Path:
    return DATA / "openssl"
