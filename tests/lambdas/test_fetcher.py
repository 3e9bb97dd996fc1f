"""The fetcher handler in-process: a local HTTP distribution point, moto's S3, the preprocessor."""

from __future__ import annotations

import importlib
import json
import sys
import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from crlcheck import load_document
from crlcheck.aws.fetcher import CRL_MEDIA_TYPE, FetcherHandler, fetcher_from_environ
from crlcheck.aws.settings import FetcherSettings, SettingsError
from crlcheck.errors import FetchesFailedError
from crlcheck.fetch import FetchLimits
from tests.pki import CA
from tests.serverless import BUCKET, Lambda, fresh_crl, s3_event

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LIMITS = FetchLimits(max_bytes=64 << 10, timeout=2.0, max_redirects=2)
KEY = "crls/ca.crl"


class Context:
    aws_request_id = "c0ffee00-0000-4000-8000-000000000014"

    def __init__(self, remaining_ms: int = 300_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class DistributionPoint(BaseHTTPRequestHandler):
    """``/ca.crl`` with an ETag and Last-Modified (304 when they match), ``/plain.crl`` without
    validators, ``/broken.crl`` (500), ``/big.crl`` (over the size limit)."""

    crl: ClassVar[bytes] = b""
    etag: ClassVar[str] = '"v1"'
    requests: ClassVar[list[tuple[str, str | None, str | None]]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if "Content_Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        cls = DistributionPoint
        if_none_match = self.headers.get("If-None-Match")
        cls.requests.append((self.path, if_none_match, self.headers.get("If-Modified-Since")))
        modified = formatdate(0, usegmt=True)
        if self.path == "/ca.crl":
            if if_none_match == cls.etag:
                self._send(304, ETag=cls.etag)
            else:
                self._send(200, cls.crl, ETag=cls.etag, Last_Modified=modified)
        elif self.path == "/plain.crl":
            self._send(200, cls.crl)
        elif self.path == "/broken.crl":
            self._send(500, b"oops")
        elif self.path == "/big.crl":
            self._send(200, Content_Length=str(10 << 20))
        else:
            self._send(404)


@pytest.fixture
def server(ca: CA, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    DistributionPoint.crl = fresh_crl(ca, [0xBAD], number=1)
    DistributionPoint.etag = '"v1"'
    DistributionPoint.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), DistributionPoint)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def fetcher(s3: S3Client, *urls: str) -> FetcherHandler:
    return FetcherHandler(FetcherSettings(urls=urls, bucket=BUCKET, limits=LIMITS), s3)


def versions(s3: S3Client, key: str) -> int:
    listing = s3.list_object_versions(Bucket=BUCKET, Prefix=key)
    return sum(1 for v in listing.get("Versions", []) if v["Key"] == key)


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# --- failures first ------------------------------------------------------------------------


def test_a_failing_url_is_logged_and_fails_the_invocation_after_the_others_are_fetched(
    s3: S3Client, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = fetcher(s3, f"{server}/broken.crl", f"{server}/ca.crl")
    with pytest.raises(FetchesFailedError, match="crl_fetch_failed") as info:
        handler({}, Context())
    assert info.value.failures == ((f"{server}/broken.crl", "crl_fetch_failed"),)
    assert versions(s3, KEY) == 1  # The URL after the failing one was still fetched.
    assert versions(s3, "crls/broken.crl") == 0
    failed, updated = log_lines(capsys)
    assert failed["message"] == "failed"
    assert failed["level"] == "ERROR"
    assert failed["url"] == f"{server}/broken.crl"
    assert failed["status"] == 500
    assert failed["lambda_request_id"] == Context.aws_request_id
    assert (failed["Outcome"], failed["Fetched"]) == ("failed", 1)
    assert failed["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "Fetched", "Unit": "Count"}
    ]
    assert (updated["message"], updated["Outcome"]) == ("updated", "updated")


def test_an_oversize_crl_is_refused_from_its_length_and_nothing_is_written(
    s3: S3Client, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FetchesFailedError):
        fetcher(s3, f"{server}/big.crl")({}, None)
    assert versions(s3, "crls/big.crl") == 0
    (line,) = log_lines(capsys)
    assert line["Outcome"] == "failed"
    assert "over the limit" in line["detail"]


def test_no_download_starts_without_time_left_in_the_invocation(
    s3: S3Client, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FetchesFailedError):
        fetcher(s3, f"{server}/ca.crl")({}, Context(remaining_ms=5_000))
    assert DistributionPoint.requests == []
    (line,) = log_lines(capsys)
    assert "s left" in line["detail"]


def test_validators_of_another_url_are_not_sent(s3: S3Client, server: str) -> None:
    """The key's object came from another URL (the configuration changed): download in full."""
    s3.put_object(
        Bucket=BUCKET,
        Key=KEY,
        Body=b"old",
        Metadata={"crlcheck-url": "http://old.example/ca.crl", "crlcheck-etag": '"v1"'},
    )
    summary = fetcher(s3, f"{server}/ca.crl")({}, None)
    assert [u["outcome"] for u in summary["urls"]] == ["updated"]
    assert DistributionPoint.requests == [("/ca.crl", None, None)]


def test_bad_settings_fail_the_invocation_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = fetcher_from_environ({"CRLCHECK_BUCKET": BUCKET, "CRLCHECK_FETCH_URLS": "ftp://x/a"})
    with pytest.raises(SettingsError, match="CRLCHECK_FETCH_URLS"):
        handler({}, Context())
    (line,) = log_lines(capsys)
    assert (line["message"], line["error_reason"]) == ("fetcher error", "misconfigured")


# --- conditional downloads -----------------------------------------------------------------


def test_the_first_run_uploads_the_crl_with_its_validators(
    s3: S3Client, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = fetcher(s3, f"{server}/ca.crl")({}, Context())
    assert summary["urls"] == [
        {
            "url": f"{server}/ca.crl",
            "bucket": BUCKET,
            "key": KEY,
            "lambda_request_id": Context.aws_request_id,
            "outcome": "updated",
        }
    ]
    obj = s3.get_object(Bucket=BUCKET, Key=KEY)
    assert obj["Body"].read() == DistributionPoint.crl
    assert obj["ContentType"] == CRL_MEDIA_TYPE
    assert obj["Metadata"]["crlcheck-etag"] == '"v1"'
    assert obj["Metadata"]["crlcheck-last-modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert obj["Metadata"]["crlcheck-url"] == f"{server}/ca.crl"
    (line,) = log_lines(capsys)
    assert (line["message"], line["conditional"], line["bytes"]) == (
        "updated",
        False,
        len(DistributionPoint.crl),
    )
    assert obj["Metadata"]["crlcheck-sha256"] == line["sha256"]


def test_the_second_run_is_conditional_and_a_304_writes_nothing(
    s3: S3Client, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = fetcher(s3, f"{server}/ca.crl")
    handler({}, None)
    summary = handler({}, None)
    assert [u["outcome"] for u in summary["urls"]] == ["unchanged"]
    assert DistributionPoint.requests[-1] == ("/ca.crl", '"v1"', "Thu, 01 Jan 1970 00:00:00 GMT")
    assert versions(s3, KEY) == 1
    line = log_lines(capsys)[-1]
    assert (line["Outcome"], line["not_modified"], line["conditional"]) == ("unchanged", True, True)


def test_a_changed_crl_is_uploaded_again(ca: CA, s3: S3Client, server: str) -> None:
    handler = fetcher(s3, f"{server}/ca.crl")
    handler({}, None)
    DistributionPoint.crl = fresh_crl(ca, [0xBAD, 0xBAD2], number=2)
    DistributionPoint.etag = '"v2"'
    summary = handler({}, None)
    assert [u["outcome"] for u in summary["urls"]] == ["updated"]
    assert versions(s3, KEY) == 2
    obj = s3.get_object(Bucket=BUCKET, Key=KEY)
    assert obj["Body"].read() == DistributionPoint.crl
    assert obj["Metadata"]["crlcheck-etag"] == '"v2"'


def test_identical_bytes_without_validators_are_not_written_again(
    s3: S3Client, server: str
) -> None:
    handler = fetcher(s3, f"{server}/plain.crl")
    assert [u["outcome"] for u in handler({}, None)["urls"]] == ["updated"]
    assert [u["outcome"] for u in handler({}, None)["urls"]] == ["unchanged"]
    assert DistributionPoint.requests == [("/plain.crl", None, None)] * 2
    assert versions(s3, "crls/plain.crl") == 1


# --- end to end: fetcher, S3 event, preprocessor -------------------------------------------


def test_a_fetched_crl_is_published_by_the_preprocessor(
    monkeypatch: pytest.MonkeyPatch, ca: CA, s3: S3Client, server: str, preprocessor: Lambda
) -> None:
    """The entry point as Lambda loads it, then the S3 event its write causes."""
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_FETCH_URLS", f"{server}/ca.crl")
    sys.modules.pop("lambdas.fetcher", None)
    entry_point = importlib.import_module("lambdas.fetcher")
    s3.put_object(Bucket=BUCKET, Key="truststore/truststore.pem", Body=ca.pem)
    entry_point.handler({"source": "aws.events"}, Context())
    version = s3.head_object(Bucket=BUCKET, Key=KEY)["VersionId"]
    summary = preprocessor.handler(s3_event((BUCKET, KEY, version)), None)
    assert [r["outcome"] for r in summary["records"]] == ["published"]
    document = s3.get_object(Bucket=BUCKET, Key="crls/ca.cache.json")["Body"].read()
    revset = load_document(document)
    assert revset.contains(0xBAD)
    assert revset.info.crl_number == 1
