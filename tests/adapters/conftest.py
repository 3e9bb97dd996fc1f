"""Fixtures for the adapter tests: an in-process moto S3 with fake credentials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from moto import mock_aws

from crlcheck.s3 import AUTHORIZER_CONFIG, make_client
from tests.serverless import BUCKET, reuse_boto3_session, set_fake_aws_env

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[S3Client]:
    """A client of an in-process moto S3 with the test bucket (versioned) created."""
    set_fake_aws_env(monkeypatch, tmp_path)
    with mock_aws():
        reuse_boto3_session(monkeypatch)
        client = make_client(AUTHORIZER_CONFIG)
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client
