"""``crlcheck fetch`` and :func:`crlcheck.fetch.download` against a local HTTP server."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from crlcheck import load_document
from crlcheck.cli import main
from crlcheck.fetch import FetchError, FetchLimits, download
from tests.pki import CA

LIMITS = FetchLimits(max_bytes=64 << 10, timeout=1.0, max_redirects=2)


class Handler(BaseHTTPRequestHandler):
    crl: ClassVar[bytes] = b""
    etag: ClassVar[str] = '"v1"'
    requests: ClassVar[list[tuple[str, str | None]]] = []

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
        Handler.requests.append((self.path, self.headers.get("If-None-Match")))
        path = self.path
        if path == "/ca.crl":
            if self.headers.get("If-None-Match") == Handler.etag:
                self._send(304, ETag=Handler.etag)
            else:
                modified = formatdate(0, usegmt=True)
                self._send(200, Handler.crl, ETag=Handler.etag, Last_Modified=modified)
        elif path == "/big.crl":
            self._send(200, Content_Length=str(10 << 20))
        elif path == "/endless.crl":
            self.send_response(200)
            self.end_headers()  # No length: read until close.
            for _ in range(200):
                self.wfile.write(b"x" * 4096)
        elif path == "/slow.crl":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(20):  # Each byte in time, the whole not.
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        elif path == "/moved.crl":
            self._send(302, Location="/ca.crl")
        elif path == "/loop.crl":
            self._send(302, Location="/loop.crl")
        elif path == "/ftp.crl":
            self._send(301, Location="ftp://127.0.0.1/ca.crl")
        elif path == "/file.crl":
            self._send(307, Location="file:///etc/passwd")
        elif path == "/garbage.crl":
            self._send(200, b"not a crl")
        elif path == "/broken.crl":
            self._send(500, b"oops")
        else:
            self._send(404)


@pytest.fixture(scope="module")
def ca() -> CA:
    return CA("crlcheck Fetch CA")


@pytest.fixture
def server(ca: CA, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    now = dt.datetime.now(dt.UTC)
    Handler.crl = ca.make_crl(
        [0x1234], this_update=now - dt.timedelta(hours=1), next_update=now + dt.timedelta(days=1)
    )
    Handler.etag = '"v1"'
    Handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_a_non_http_url_is_refused_before_any_request() -> None:
    with pytest.raises(FetchError, match="not an http"):
        download("file:///etc/passwd")


def test_an_unchanged_crl_is_a_304_without_a_body(server: str) -> None:
    first = download(f"{server}/ca.crl", limits=LIMITS)
    assert first.body == Handler.crl
    assert first.validators.etag == '"v1"'
    assert first.validators.last_modified == "Thu, 01 Jan 1970 00:00:00 GMT"
    second = download(f"{server}/ca.crl", first.validators, LIMITS)
    assert second.body is None
    assert Handler.requests[-1] == ("/ca.crl", '"v1"')


def test_an_oversized_body_is_refused_by_its_length_and_by_its_bytes(server: str) -> None:
    with pytest.raises(FetchError, match="over the limit"):
        download(f"{server}/big.crl", limits=LIMITS)
    with pytest.raises(FetchError, match="over the limit"):
        download(f"{server}/endless.crl", limits=LIMITS)


def test_a_slow_server_is_cut_off_at_the_deadline(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="within"):
        download(f"{server}/slow.crl", limits=FetchLimits(timeout=0.4))
    assert time.monotonic() - started < 1.0


def test_redirects_are_followed_within_bounds_and_to_http_only(server: str) -> None:
    moved = download(f"{server}/moved.crl", limits=LIMITS)
    assert (moved.body, moved.url) == (Handler.crl, f"{server}/ca.crl")
    with pytest.raises(FetchError, match="more than 2 redirects"):
        download(f"{server}/loop.crl", limits=LIMITS)
    for path in ("/ftp.crl", "/file.crl"):
        with pytest.raises(FetchError, match="not an http"):
            download(f"{server}{path}", limits=LIMITS)


def test_http_errors_and_unreachable_servers_are_fetch_errors(server: str) -> None:
    with pytest.raises(FetchError) as info:
        download(f"{server}/broken.crl", limits=LIMITS)
    assert info.value.status == 500
    with pytest.raises(FetchError):
        download("http://127.0.0.1:1/ca.crl", limits=LIMITS)


def test_the_command_fetches_preprocesses_and_then_asks_conditionally(
    server: str, ca: CA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issuer = tmp_path / "ca.pem"
    issuer.write_bytes(ca.pem)
    out = tmp_path / "out"
    out.mkdir()
    argv = ["fetch", f"{server}/ca.crl", "--issuer", str(issuer), "-o", str(out), "-q"]
    assert main(argv) == 0
    assert load_document((out / "ca.cache.json").read_bytes()).contains(0x1234)
    assert (out / "ca.crl").read_bytes() == Handler.crl
    assert main(argv) == 0
    assert "not modified" in capsys.readouterr().err
    assert Handler.requests[-1] == ("/ca.crl", '"v1"')


def test_the_command_reports_each_failure_and_keeps_going(
    server: str, ca: CA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issuer = tmp_path / "ca.pem"
    issuer.write_bytes(ca.pem)
    urls = [f"{server}/broken.crl", f"{server}/garbage.crl", f"{server}/ca.crl"]
    assert main(["fetch", *urls, "--issuer", str(issuer), "-o", str(tmp_path), "-q"]) == 1
    err = capsys.readouterr().err
    assert "broken.crl: refused (crl_fetch_failed)" in err
    assert "garbage.crl: refused (crl_malformed)" in err
    assert (tmp_path / "ca.cache.json").exists()
    # The refused CRL left no validators: it is downloaded again next time.
    assert f"{server}/garbage.crl" not in (tmp_path / ".crlcheck-fetch.json").read_text()
