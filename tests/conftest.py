"""Shared fixtures. Large or slow-to-make objects are session-scoped."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """A client of an in-process moto S3 with the (versioned) test bucket created.

    Modules that run against moto's HTTP server define their own ``s3``.
    """
    from moto import mock_aws

    from crlcheck.aws.s3 import AUTHORIZER_CONFIG, make_client
    from tests.serverless import BUCKET, reuse_boto3_session, set_fake_aws_env

    set_fake_aws_env(monkeypatch, tmp_path)
    with mock_aws():
        reuse_boto3_session(monkeypatch)
        client = make_client(AUTHORIZER_CONFIG)
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client
