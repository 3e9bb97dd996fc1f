"""A real mutual-TLS end to end test: TLS handshakes with real certificates, an HTTPS server that
asks the authorizer Lambda on every request, and S3 (moto's server on 127.0.0.1) in between.

The server stands in for API Gateway: Python ``ssl`` with ``CERT_REQUIRED`` and the test CA as
its truststore, TLS 1.2 with session resumption on (tickets and session IDs, OpenSSL's
defaults). For every request, resumed session or not, it takes the peer certificate from the
TLS connection (DER, turned into PEM with ``ssl.DER_cert_to_PEM_cert``), puts it into API
Gateway's REST ``REQUEST`` authorizer event (``tests/events/rest-request-mtls.json``), calls
``lambdas/authorizer.handler`` and serves 200 on Allow, 403 on Deny. It caches nothing: the
resumption test is the bug Cloudflare disclosed in 2023, where resumed sessions skipped the
revocation check.

CRLs reach the authorizer as in production: uploaded to the bucket, turned into documents by
``lambdas/preprocessor.handler`` on the S3 event, read by the authorizer with ETag revalidation.
Everything listens on 127.0.0.1 and every socket has a timeout.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.pki import CA, Leaf, name
from tests.serverless import (
    BUCKET,
    Lambda,
    authorizer_lambda,
    fresh_crl,
    load_event,
    preprocessor_lambda,
    reset_moto,
    s3_event,
    set_fake_aws_env,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.e2e

TRUSTSTORE = "truststore/truststore.pem"
CRL_KEY = "crls/ca.crl"
DOC_KEY = "crls/ca.cache.json"
TIMEOUT = 10.0  # Seconds, for every socket operation.


# --- PKI --------------------------------------------------------------------------------------


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


@dataclass
class Pki:
    """The CA API Gateway trusts and whose CRL the authorizer reads, its certificates as files."""

    ca: CA
    second_ca: CA  # Also in the mTLS truststore, but no CRL of it is ever published.
    stranger_ca: CA  # Not trusted at all.
    root: Path
    files: dict[str, tuple[Path, Path]] = field(default_factory=dict)

    def write(self, label: str, leaf: Leaf) -> None:
        cert, key = self.root / f"{label}.pem", self.root / f"{label}.key"
        cert.write_bytes(leaf.pem)
        key.write_bytes(leaf.key_pem)
        self.files[label] = (cert, key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pki = Pki(
        CA("crlcheck mTLS CA"),
        CA("crlcheck mTLS Second CA"),
        CA("crlcheck mTLS Stranger CA"),
        tmp_path_factory.mktemp("mtls"),
    )
    pki.write("server", issue_server_cert(pki.ca))
    pki.write("alice", pki.ca.issue_cert("alice"))  # Never revoked.
    pki.write("bob", pki.ca.issue_cert("bob"))  # Revoked by the second CRL.
    pki.write("mallory", pki.ca.issue_cert("mallory"))  # Revoked from the start.
    pki.write("carol", pki.second_ca.issue_cert("carol"))  # Her CA publishes no CRL.
    pki.write("stranger", pki.stranger_ca.issue_cert("stranger"))
    return pki


def serial_of(pki: Pki, label: str) -> int:
    return x509.load_pem_x509_certificate(pki.files[label][0].read_bytes()).serial_number


# --- AWS: moto's S3 server and the two Lambda handlers ----------------------------------------


@pytest.fixture
def moto_url(moto_port: int) -> str:
    return f"http://127.0.0.1:{moto_port}"


@pytest.fixture
def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pki: Pki) -> S3Client:
    """A reset moto server with the versioned bucket and the CRL signer truststore."""
    reset_moto(moto_url, timeout=TIMEOUT)
    set_fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=BUCKET, Key=TRUSTSTORE, Body=pki.ca.pem)
    return client


@pytest.fixture
def lambdas(s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> tuple[Lambda, Lambda]:
    """(authorizer, preprocessor), cold, configured for the bucket."""
    monkeypatch.setenv("CRLCHECK_BUCKET", BUCKET)
    monkeypatch.setenv("CRLCHECK_DOCUMENT_KEYS", DOC_KEY)
    monkeypatch.setenv("CRLCHECK_REVALIDATE_SECONDS", "0")
    monkeypatch.setenv("CRLCHECK_STALE_GRACE_SECONDS", "0")
    monkeypatch.setenv("CRLCHECK_RESPONSE_FORMAT", "policy")
    monkeypatch.setenv("CRLCHECK_TRUSTSTORE_KEY", TRUSTSTORE)
    for variable in ("CRLCHECK_TRUSTSTORE_BUCKET", "CRLCHECK_OUTPUT_PREFIX"):
        monkeypatch.delenv(variable, raising=False)
    return authorizer_lambda(), preprocessor_lambda()


def publish(s3: S3Client, preprocessor: Lambda, crl: bytes) -> None:
    """Upload a CRL and run the preprocessor on the event the upload triggers."""
    version = s3.put_object(Bucket=BUCKET, Key=CRL_KEY, Body=crl)["VersionId"]
    result = preprocessor.handler(s3_event((BUCKET, CRL_KEY, version)), None)
    assert result["records"][0]["outcome"] == "published"


# --- the HTTPS server -------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """What the server did for one request."""

    status: int
    reason: str
    resumed: bool
    serial: str | None


class _Handler(BaseHTTPRequestHandler):
    server: MtlsServer

    def setup(self) -> None:
        # The handshake runs here, in the request's thread, so that a client that stalls or
        # fails it cannot hold up the accept loop.
        self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:
        tls: ssl.SSLSocket = self.request
        der = tls.getpeercert(binary_form=True)
        if der is None:  # Unreachable with CERT_REQUIRED; refuse all the same.
            served = Served(403, "no_certificate", bool(tls.session_reused), None)
        else:
            pem = ssl.DER_cert_to_PEM_cert(der).encode("ascii")
            response: dict[str, Any] = self.server.authorizer.handler(
                load_event("rest-request-mtls.json", pem), None
            )
            (statement,) = response["policyDocument"]["Statement"]
            served = Served(
                200 if statement["Effect"] == "Allow" else 403,
                str(response["context"].get("reason")),
                bool(tls.session_reused),
                response["context"].get("serial"),
            )
        self.server.served.append(served)
        body = json.dumps({"reason": served.reason}).encode()
        self.send_response(served.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # Quiet: the assertions read ``served``.


class MtlsServer(ThreadingHTTPServer):
    """HTTPS on 127.0.0.1:<free port>, client certificates required, the authorizer asked on
    every request. Nothing is cached between requests or connections."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, authorizer: Lambda) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.authorizer = authorizer
        self.served: list[Served] = []
        self.failed_handshakes: list[BaseException] = []

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        sock.settimeout(TIMEOUT)
        tls = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return tls, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.failed_handshakes.append(sys.exc_info()[1] or RuntimeError("unknown"))


def server_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # TLS 1.2: sessions are resumed with tickets or IDs in the handshake itself, the case the
    # resumption test needs to observe (session_reused).
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    # The mTLS truststore: both CAs, as API Gateway's truststore would hold them.
    context.load_verify_locations(cadata=(pki.ca.pem + pki.second_ca.pem).decode("ascii"))
    cert, key = pki.files["server"]
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def server(pki: Pki, lambdas: tuple[Lambda, Lambda]) -> Iterator[MtlsServer]:
    httpd = MtlsServer(server_context(pki), lambdas[0])
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        thread.join(timeout=TIMEOUT)
        httpd.server_close()


# --- clients ----------------------------------------------------------------------------------


def client_context(pki: Pki, label: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cadata=pki.ca.pem.decode("ascii"))
    if label is not None:
        cert, key = pki.files[label]
        context.load_cert_chain(cert, key)
    return context


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    session: ssl.SSLSession | None
    resumed: bool


def get(context: ssl.SSLContext, port: int, session: ssl.SSLSession | None = None) -> Answer:
    """One request on a new TLS connection, offering ``session`` for resumption."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls,
    ):
        tls.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        return Answer(status, json.loads(body)["reason"], tls.session, bool(tls.session_reused))


def get_with_http_client(context: ssl.SSLContext, port: int) -> tuple[int, str]:
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=TIMEOUT)
    try:
        connection.request("GET", "/hello")
        response = connection.getresponse()
        return response.status, json.loads(response.read())["reason"]
    finally:
        connection.close()


# --- tests ------------------------------------------------------------------------------------


def test_valid_client_is_served_and_revoked_client_is_refused(
    pki: Pki, s3: S3Client, lambdas: tuple[Lambda, Lambda], server: MtlsServer
) -> None:
    publish(s3, lambdas[1], fresh_crl(pki.ca, [serial_of(pki, "mallory")], number=1))
    assert get_with_http_client(client_context(pki, "alice"), server.port) == (
        200,
        "not_revoked",
    )
    assert get_with_http_client(client_context(pki, "mallory"), server.port) == (403, "revoked")
    # Trusted by TLS, but no CRL of its CA is published: no one can vouch for it.
    status, reason = get_with_http_client(client_context(pki, "carol"), server.port)
    assert status == 403
    assert reason in ("no_covering_crl", "store_unavailable")
    assert [s.status for s in server.served] == [200, 403, 403]
    assert server.failed_handshakes == []


@pytest.mark.parametrize("label", ["stranger", None], ids=["unknown-ca", "no-certificate"])
def test_untrusted_or_missing_client_certificate_fails_the_handshake(
    pki: Pki,
    s3: S3Client,
    lambdas: tuple[Lambda, Lambda],
    server: MtlsServer,
    label: str | None,
) -> None:
    publish(s3, lambdas[1], fresh_crl(pki.ca, [], number=1))
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        get(client_context(pki, label), server.port)
    # The server thread records its side of the failure after the client saw the alert.
    deadline = time.monotonic() + TIMEOUT
    while not server.failed_handshakes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(server.failed_handshakes) == 1
    assert isinstance(server.failed_handshakes[0], ssl.SSLError)
    assert server.served == []  # The authorizer was never reached.


def test_rotation_revokes_on_the_next_request_even_on_a_resumed_session(
    pki: Pki, s3: S3Client, lambdas: tuple[Lambda, Lambda], server: MtlsServer
) -> None:
    bob = client_context(pki, "bob")
    publish(s3, lambdas[1], fresh_crl(pki.ca, [serial_of(pki, "mallory")], number=1))

    first = get(bob, server.port)
    assert (first.status, first.reason, first.resumed) == (200, "not_revoked", False)
    assert first.session is not None
    # Resumption works, and a resumed session is authorized too (the peer certificate comes
    # from the session).
    again = get(bob, server.port, session=first.session)
    assert (again.status, again.resumed) == (200, True)

    # The CA revokes bob; the new CRL goes through the preprocessor into S3.
    serials = [serial_of(pki, "mallory"), serial_of(pki, "bob")]
    publish(s3, lambdas[1], fresh_crl(pki.ca, serials, number=2))

    resumed = get(bob, server.port, session=again.session or first.session)
    assert resumed.resumed is True  # No new handshake, no new certificate verification...
    assert (resumed.status, resumed.reason) == (403, "revoked")  # ...and still refused.
    fresh = get(bob, server.port)
    assert (fresh.status, fresh.reason, fresh.resumed) == (403, "revoked", False)
    assert get(client_context(pki, "alice"), server.port).status == 200

    # The server ran the authorizer on every request and saw the same resumptions.
    assert [(s.status, s.resumed) for s in server.served] == [
        (200, False),
        (200, True),
        (403, True),
        (403, False),
        (200, False),
    ]
    assert server.failed_handshakes == []
