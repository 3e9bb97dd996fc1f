"""Helpers for the S3/Lambda tests: fake AWS settings, events, documents, botocore hooks.

No test here talks to AWS: moto answers in-process (``mock_aws``) or on 127.0.0.1
(``ThreadedMotoServer``), and the environment is set so that boto3 never looks for real
credentials, config files or the instance metadata service.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from crlcheck import dump_document, load_crl, verify_crl
from crlcheck.aws import s3 as crlcheck_s3
from crlcheck.aws.authorizer import authorizer_from_environ
from crlcheck.aws.preprocessor import preprocessor_from_environ
from crlcheck.aws.settings import AuthorizerSettings
from crlcheck.cache import DocumentSource
from tests.pki import CA, Revoked

EVENTS = Path(__file__).parent / "events"
BUCKET = "crlcheck-test-bucket"
REGION = "us-east-1"


def set_fake_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and region; no profile, config file, endpoint override or IMDS."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


_SESSION: list[boto3.Session] = []


def reuse_boto3_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``boto3.client`` reuse one session (and its loaded service models) across tests.

    ``mock_aws`` resets boto3's default session, and a client of a new session costs ~0.3 s to
    create. The fake credentials and region are the same in every test, so one session serves
    all. Call it inside ``mock_aws``: moto's request interception is per client event hooks
    registered for every session, so clients of the shared session are mocked too.
    """
    if not _SESSION:
        _SESSION.append(boto3.Session())
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", _SESSION[0])


def utcnow() -> dt.datetime:
    """The real clock, for tests of handlers that read it themselves."""
    return dt.datetime.now(dt.UTC)


def fresh_crl(
    ca: CA,
    revoked: Iterable[int | Revoked] = (),
    *,
    number: int | None = 1,
    now: dt.datetime | None = None,
    next_update: dt.timedelta = dt.timedelta(days=1),
    pem_output: bool = False,
) -> bytes:
    """A CRL valid around ``now`` (the real clock by default): thisUpdate now-1h."""
    now = now or utcnow()
    return ca.make_crl(
        revoked,
        this_update=now - dt.timedelta(hours=1),
        next_update=now + next_update,
        number=number,
        pem_output=pem_output,
    )


def make_document(ca: CA, crl: bytes, *, now: dt.datetime | None = None) -> bytes:
    """The crlcheck document of ``crl`` (verified with ``ca`` at ``now``)."""
    now = now or utcnow()
    return dump_document(verify_crl(load_crl(crl), [ca.cert], now=now))


def load_event(name: str, pem: bytes | None = None) -> dict[str, Any]:
    """Load ``tests/events/<name>``, with ``pem`` in place of ``__CLIENT_CERT_PEM__``."""
    text = (EVENTS / name).read_text()
    if pem is not None:
        text = text.replace("__CLIENT_CERT_PEM__", json.dumps(pem.decode("ascii"))[1:-1])
    event: dict[str, Any] = json.loads(text)
    return event


def s3_event(*records: tuple[str, str, str | None]) -> dict[str, Any]:
    """An S3 ObjectCreated:Put event from the fixture, one record per (bucket, key, version)."""
    template = load_event("s3-put.json")["Records"][0]
    out = []
    for bucket, key, version_id in records:
        record = json.loads(json.dumps(template))
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
        record["s3"]["object"]["key"] = key
        if version_id is None:
            del record["s3"]["object"]["versionId"]
        else:
            record["s3"]["object"]["versionId"] = version_id
        out.append(record)
    return {"Records": out}


class GetObjectCounter:
    """Counts a client's GetObject responses by HTTP status (200 = a download, 304 = none)."""

    def __init__(self, client: Any) -> None:
        self.statuses: Counter[int] = Counter()
        client.meta.events.register("after-call.s3.GetObject", self._after_call)

    def _after_call(self, http_response: Any, **_: Any) -> None:
        self.statuses[http_response.status_code] += 1

    @property
    def downloads(self) -> int:
        return self.statuses[200]

    @property
    def not_modified(self) -> int:
        return self.statuses[304]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterable[bytes]:
        return iter([self._body])


def error_response(status: int, code: str) -> AWSResponse:
    """An S3 error response, as botocore would receive it."""
    body = f"<Error><Code>{code}</Code><Message>{code}</Message></Error>".encode()
    headers: Any = {"Content-Type": "application/xml"}
    return AWSResponse("https://s3.amazonaws.com/", status, headers, _Raw(body))


class Faults:
    """Injects faults into a client's GetObject calls through botocore's ``before-send`` hook.

    While ``fault`` is set, every GetObject attempt (retries included) gets it: an
    ``AWSResponse`` is returned in place of the real one, an exception is raised as if the
    transport raised it. ``attempts`` counts the attempts that were faulted.
    """

    def __init__(self, client: Any) -> None:
        self.fault: Callable[[], AWSResponse] | BaseException | None = None
        self.attempts = 0
        client.meta.events.register("before-send.s3.GetObject", self._before_send)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.fault is None:
            return None
        self.attempts += 1
        if isinstance(self.fault, BaseException):
            raise self.fault
        return self.fault()

    def throttle(self) -> None:
        self.fault = lambda: error_response(503, "SlowDown")

    def server_error(self) -> None:
        self.fault = lambda: error_response(500, "InternalError")

    def access_denied(self) -> None:
        self.fault = lambda: error_response(403, "AccessDenied")

    def timeout(self) -> None:
        self.fault = ReadTimeoutError(endpoint_url="https://s3.amazonaws.com/")

    def clear(self) -> None:
        self.fault = None


class ClientSpy:
    """Wraps the handler's client factory: counts its GetObject results, injects faults."""

    def __init__(self) -> None:
        self.clients: list[Any] = []
        self.counter: GetObjectCounter | None = None
        self.faults: Faults | None = None
        self.initial_fault: str | None = None  # A Faults method to apply to a new client.

    def make_client(self, config: Any) -> Any:
        client = crlcheck_s3.make_client(config)
        self.clients.append(client)
        self.counter = GetObjectCounter(client)
        self.faults = Faults(client)
        if self.initial_fault is not None:
            getattr(self.faults, self.initial_fault)()
        return client


def reset_moto(url: str, *, timeout: float = 10.0) -> None:
    """Empty moto's server at ``url`` (``http://127.0.0.1:<port>``) between tests."""
    # The URL is built by the moto_port fixture from 127.0.0.1 and a port: no other scheme.
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        assert response.status == 200


class Lambda:
    """A Lambda function as the tests see it: ``handler(event, context)``, and cold starts.

    The handler is built by the same factory ``lambdas/*.py`` use, so it reads its settings
    from the environment on its first call; :meth:`cold_start` drops the warm state, as a new
    container would.
    """

    def __init__(self, build: Callable[[], Callable[[object, object], Any]]) -> None:
        self._build = build
        self.handler = build()

    def cold_start(self) -> None:
        self.handler = self._build()


def authorizer_lambda(spy: ClientSpy | None = None) -> Lambda:
    """The authorizer as deployed; with ``spy``, its S3 client comes from the spy."""
    if spy is None:
        return Lambda(authorizer_from_environ)

    def source(settings: AuthorizerSettings) -> DocumentSource:
        client = spy.make_client(crlcheck_s3.AUTHORIZER_CONFIG)
        return crlcheck_s3.S3DocumentSource(client, settings.bucket)

    return Lambda(lambda: authorizer_from_environ(make_source=source))


def preprocessor_lambda() -> Lambda:
    """The preprocessor as deployed."""
    return Lambda(preprocessor_from_environ)
