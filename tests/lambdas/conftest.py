"""Fixtures for the handler tests: in-process moto S3, fresh handler state, a client spy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.serverless import BUCKET, ClientSpy, Lambda, authorizer_lambda, preprocessor_lambda

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def spy() -> ClientSpy:
    return ClientSpy()


@pytest.fixture
def authorizer(monkeypatch: pytest.MonkeyPatch, s3: S3Client, spy: ClientSpy) -> Lambda:
    """The authorizer, cold, configured for the test bucket; its S3 client from the spy."""
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", "crls/ca.cache.json")
    for name in (
        "CRLCHECK_REVALIDATE_SECONDS",
        "CRLCHECK_STALE_GRACE_SECONDS",
        "CRLCHECK_RESPONSE_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    return authorizer_lambda(spy)


@pytest.fixture
def preprocessor(monkeypatch: pytest.MonkeyPatch, s3: S3Client) -> Lambda:
    """The preprocessor, cold, with the truststore key configured."""
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_KEY", "truststore/truststore.pem")
    for name in (
        "CRLCHECK_TRUSTSTORE_BUCKET",
        "CRLCHECK_OUTPUT_PREFIX",
        "CRLCHECK_CLOCK_SKEW_SECONDS",
        "CRLCHECK_DOCUMENT_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    return preprocessor_lambda()
