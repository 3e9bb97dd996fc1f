"""Shared fixtures. Large or slow-to-make objects are session-scoped."""

from __future__ import annotations

import socket
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def moto_port() -> Iterator[int]:
    """moto's real S3 server (``ThreadedMotoServer``) on a free port of 127.0.0.1, shared by the
    whole session; tests reset it with ``tests.serverless.reset_moto``."""
    from moto.server import ThreadedMotoServer

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield port
    finally:
        server.stop()
