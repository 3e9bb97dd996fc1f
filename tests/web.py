"""Helpers for the front door tests: documents on disk, proxy-header encoding, servers on
127.0.0.1 (uvicorn and waitress in a thread, ``crlcheck serve`` and nginx as subprocesses).

Every server listens on 127.0.0.1 only, and every socket operation has a timeout.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from crlcheck import dump_document, load_crl, verify_crl
from tests.pki import CA, Leaf, Revoked, name

TIMEOUT = 10.0
ROOT = Path(__file__).resolve().parents[1]


def escaped(pem: bytes | str) -> str:
    """A PEM as nginx's ``$ssl_client_escaped_cert`` and ALB's header carry it."""
    text = pem.decode("ascii") if isinstance(pem, bytes) else pem
    return urllib.parse.quote(text, safe="")


def write_document(
    directory: Path,
    ca: CA,
    revoked: list[int | Revoked],
    *,
    this_update: dt.datetime,
    next_update: dt.datetime,
    number: int = 1,
    filename: str | None = None,
) -> Path:
    """Write ``ca``'s CRL's document into ``directory`` atomically, as ``preprocess`` does."""
    crl = ca.make_crl(revoked, this_update=this_update, next_update=next_update, number=number)
    document = dump_document(verify_crl(load_crl(crl), [ca.cert], now=this_update))
    path = directory / (filename or f"{ca.cn.replace(' ', '-').lower()}.cache.json")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(document)
    tmp.replace(path)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float = TIMEOUT, proc: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def uvicorn_server(app: Any) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http="h11",
        ws="none",
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while not server.started:
            assert thread.is_alive(), "uvicorn exited"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(TIMEOUT)


@contextmanager
def waitress_server(app: Any) -> Iterator[str]:
    """Run a WSGI app under waitress in a thread; yields its base URL."""
    from waitress.server import create_server

    server: Any = create_server(app, host="127.0.0.1", port=0, threads=2, ident="test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close every channel from the server's own loop thread (closing them from here races
        # with its poll); with its map empty, the loop returns.
        server.trigger.pull_trigger(lambda: server.asyncore.close_all(server._map))
        thread.join(TIMEOUT)
        server.task_dispatcher.shutdown()


# --- TLS ----------------------------------------------------------------------------------------


def issue_server_cert(ca: CA) -> Leaf:
    """A TLS server certificate for 127.0.0.1 (IP and DNS SAN, serverAuth) issued by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Leaf(cert, key)


# --- crlcheck serve and nginx as subprocesses -------------------------------------------------


@contextmanager
def crlcheck_serve(*args: str) -> Iterator[str]:
    """Run ``crlcheck serve ARGS --listen 127.0.0.1:0``; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "crlcheck", "serve", *args, "--listen", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "crlcheck: serving on http://127.0.0.1:PORT"
        assert "serving on http://" in line, line + proc.stderr.read()
        url = line.rsplit(" ", 1)[1].strip()
        # Drain stderr (one log line per decision) so the server never blocks on a full pipe.
        drain = threading.Thread(target=proc.stderr.read, daemon=True)
        drain.start()
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(TIMEOUT)
        if proc.stderr is not None:
            if "drain" in locals():
                drain.join(TIMEOUT)
            proc.stderr.close()


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


@dataclass
class Nginx:
    """nginx terminating mTLS on 127.0.0.1 and asking ``crlcheck serve`` with auth_request."""

    url: str
    error_log: Path
    files: dict[str, Path] = field(default_factory=dict)


NGINX_CONF = """\
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp-body;
    proxy_temp_path {prefix}/tmp-proxy;
    fastcgi_temp_path {prefix}/tmp-fastcgi;
    uwsgi_temp_path {prefix}/tmp-uwsgi;
    scgi_temp_path {prefix}/tmp-scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {prefix}/server.pem;
        ssl_certificate_key {prefix}/server.key;
        ssl_client_certificate {prefix}/clients-ca.pem;
        ssl_verify_client on;
        ssl_verify_depth 2;
        root {prefix}/www;

        location / {{
            auth_request /_crlcheck;
            auth_request_set $crlcheck_reason $upstream_http_x_crlcheck_reason;
            add_header X-Crlcheck-Reason $crlcheck_reason always;
        }}
        location = /_crlcheck {{
            internal;
            proxy_pass {serve}/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Client-Cert $ssl_client_escaped_cert;
            proxy_connect_timeout 2s;
            proxy_read_timeout 5s;
        }}
    }}
}}
"""


@contextmanager
def nginx_server(
    binary: str, prefix: Path, *, server: Leaf, client_cas: list[CA], serve_url: str
) -> Iterator[Nginx]:
    """Run nginx (``daemon off``) from a temporary prefix; yields its ``https://`` URL."""
    (prefix / "www").mkdir()
    (prefix / "www" / "index.html").write_text("hello from behind crlcheck\n")
    (prefix / "server.pem").write_bytes(server.pem)
    (prefix / "server.key").write_bytes(server.key_pem)
    (prefix / "clients-ca.pem").write_bytes(b"".join(ca.pem for ca in client_cas))
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            # As root, nginx's workers would switch to "nobody", who cannot read a private
            # temporary directory.
            user="user root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            port=port,
            serve=serve_url,
        )
    )
    error_log = prefix / "error.log"
    proc = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf), "-e", str(error_log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        try:
            wait_for_port(port, proc=proc)
        except (OSError, RuntimeError) as exc:
            log = error_log.read_text() if error_log.exists() else ""
            raise RuntimeError(f"nginx did not start: {exc}\n{log}") from exc
        yield Nginx(f"https://127.0.0.1:{port}", error_log)
    finally:
        proc.send_signal(signal.SIGQUIT)  # Graceful shutdown.
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(TIMEOUT)
