"""Fixtures for the handler tests: in-process moto S3, fresh handler state, a client spy."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from lambdas import authorizer as authorizer_module
from lambdas import preprocessor as preprocessor_module
from tests.serverless import BUCKET, ClientSpy

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def spy() -> ClientSpy:
    return ClientSpy()


@pytest.fixture
def authorizer(monkeypatch: pytest.MonkeyPatch, s3: S3Client, spy: ClientSpy) -> ModuleType:
    """The authorizer module with no warm state, configured for the test bucket."""
    monkeypatch.setattr(authorizer_module, "_runtime", None)
    monkeypatch.setattr(authorizer_module, "make_client", spy.make_client)
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", "crls/ca.cache.json")
    for name in (
        "CRLCHECK_REVALIDATE_SECONDS",
        "CRLCHECK_STALE_GRACE_SECONDS",
        "CRLCHECK_RESPONSE_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    return authorizer_module


@pytest.fixture
def preprocessor(monkeypatch: pytest.MonkeyPatch, s3: S3Client) -> ModuleType:
    """The preprocessor module with no warm state, with the truststore key configured."""
    monkeypatch.setattr(preprocessor_module, "_runtime", None)
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_KEY", "truststore/truststore.pem")
    for name in (
        "CRLCHECK_TRUSTSTORE_BUCKET",
        "CRLCHECK_OUTPUT_PREFIX",
        "CRLCHECK_CLOCK_SKEW_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    return preprocessor_module
