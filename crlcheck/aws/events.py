"""Read-only views over the Lambda events crlcheck handles.

API Gateway sends a Lambda authorizer one of three mTLS event shapes, and nothing in the event
names its shape outright, so :func:`parse_authorizer_event` detects it from the fields:

========================  ===========  ============================================  ===========
shape                     ``version``  client certificate                            resource
========================  ===========  ============================================  ===========
REST API, ``REQUEST``     (absent)     ``requestContext.identity.clientCert``        ``methodArn``
HTTP API, payload 1.0     ``"1.0"``    ``requestContext.identity.clientCert``        ``methodArn``
HTTP API, payload 2.0     ``"2.0"``    ``requestContext.authentication.clientCert``  ``routeArn``
========================  ===========  ============================================  ===========

Only ``clientCertPem`` is read from ``clientCert``: the ``serialNumber``/``issuerDN`` text fields
have no fixed format, and the decision must rest on the parsed certificate. A REQUEST authorizer
gets no ``authorizationToken`` (HTTP API 1.0 sends one from its identity source); it is ignored.

:func:`parse_s3_event` reads the records of an S3 notification for the preprocessor. S3
URL-encodes object keys like form values (a space arrives as ``+``, a ``+`` as ``%2B``), so keys
are decoded with :func:`urllib.parse.unquote_plus`.

Everything here is a pure function of the event dict: nothing is fetched and nothing is trusted.
A malformed event raises :class:`crlcheck.EventError` (reason ``bad_request``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import unquote_plus

from crlcheck.errors import EventError

__all__ = [
    "MAX_PEM_LENGTH",
    "AuthorizerEvent",
    "EventKind",
    "S3ObjectRecord",
    "parse_authorizer_event",
    "parse_s3_event",
    "peek_event_kind",
    "peek_resource_arn",
]

# A client certificate PEM is a few KiB; API Gateway itself caps mTLS certificates far below this.
# The cap bounds what a malformed or hostile event can make the authorizer parse.
MAX_PEM_LENGTH = 64 * 1024


class EventKind(StrEnum):
    """The shape of an authorizer event."""

    REST = "rest"
    """REST API Lambda authorizer of type REQUEST."""
    HTTP_V1 = "http_v1"
    """HTTP API Lambda authorizer, payload format version 1.0."""
    HTTP_V2 = "http_v2"
    """HTTP API Lambda authorizer, payload format version 2.0."""


@dataclass(frozen=True, slots=True)
class AuthorizerEvent:
    """What the authorizer needs from an API Gateway mTLS authorizer event.

    Attributes:
        kind: The detected event shape.
        client_cert_pem: The client certificate as API Gateway forwarded it (PEM bytes). Not yet
            parsed, let alone trusted.
        resource_arn: ``methodArn`` (REST, HTTP 1.0) or ``routeArn`` (HTTP 2.0): the resource the
            policy of an IAM policy response applies to.
        request_id: ``requestContext.requestId``, for logs.
        source_ip: The client's address as API Gateway saw it, for logs.
    """

    kind: EventKind
    client_cert_pem: bytes
    resource_arn: str
    request_id: str | None = None
    source_ip: str | None = None


@dataclass(frozen=True, slots=True)
class S3ObjectRecord:
    """One record of an S3 event notification.

    Attributes:
        event_name: E.g. ``"ObjectCreated:Put"``.
        bucket: The bucket name.
        key: The object key, URL-decoded.
        version_id: The object version the event is about (versioned buckets), else None.
        etag: The object's ETag as the event gives it (without quotes), if present.
        size: The object size in bytes, if present.
    """

    event_name: str
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None

    @property
    def created(self) -> bool:
        """True for ``ObjectCreated:*`` events."""
        return self.event_name.startswith("ObjectCreated:")


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if type(value) is dict:  # What the runtime passes; isinstance(..., Mapping) costs more.
        return value
    if not isinstance(value, Mapping):
        raise EventError(f"{where} is missing or is not an object")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise EventError(f"{where} is missing or is not a non-empty string")
    return value


def _optional_string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _detect_kind(event: Mapping[str, Any]) -> EventKind:
    version = event.get("version")
    if version is None:
        # REST API events carry no version; TOKEN authorizer events never carry a certificate.
        kind = event.get("type")
        if kind != "REQUEST":
            raise EventError(
                f"not a REQUEST authorizer event (type {str(kind)[:20]!r}); "
                "a TOKEN authorizer gets no client certificate"
            )
        return EventKind.REST
    if version == "1.0":
        return EventKind.HTTP_V1
    if version == "2.0":
        return EventKind.HTTP_V2
    raise EventError(f"unknown authorizer payload version {str(version)[:20]!r}")


def parse_authorizer_event(event: object) -> AuthorizerEvent:
    """Read the client certificate and resource ARN of an API Gateway authorizer event.

    Args:
        event: The event as the Lambda runtime passes it (a dict decoded from JSON).

    Returns:
        The parsed view; the shape is detected from ``version`` and ``type``.

    Raises:
        EventError: If the event is not one of the three mTLS authorizer shapes, or lacks the
            client certificate PEM or the resource ARN.
    """
    event = _mapping(event, "the event")
    kind = _detect_kind(event)
    context = _mapping(event.get("requestContext"), "requestContext")
    if kind is EventKind.HTTP_V2:
        holder = _mapping(context.get("authentication"), "requestContext.authentication")
        where = "requestContext.authentication.clientCert"
        resource = _string(event.get("routeArn"), "routeArn")
        http = context.get("http")
        source_ip = _optional_string(http.get("sourceIp")) if isinstance(http, Mapping) else None
    else:
        holder = _mapping(context.get("identity"), "requestContext.identity")
        where = "requestContext.identity.clientCert"
        resource = _string(event.get("methodArn"), "methodArn")
        source_ip = _optional_string(holder.get("sourceIp"))
    client_cert = _mapping(holder.get("clientCert"), f"{where} (is mutual TLS enabled?)")
    pem_text = _string(client_cert.get("clientCertPem"), f"{where}.clientCertPem")
    if len(pem_text) > MAX_PEM_LENGTH:
        raise EventError(f"{where}.clientCertPem is longer than {MAX_PEM_LENGTH} characters")
    try:
        pem = pem_text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise EventError(f"{where}.clientCertPem is not ASCII PEM text") from exc
    return AuthorizerEvent(
        kind=kind,
        client_cert_pem=pem,
        resource_arn=resource,
        request_id=_optional_string(context.get("requestId")),
        source_ip=source_ip,
    )


def peek_event_kind(event: object) -> EventKind | None:
    """Best-effort shape of an event that may be malformed (None when unknown). Never raises."""
    if not isinstance(event, Mapping):
        return None
    try:
        return _detect_kind(event)
    except EventError:
        return None


def peek_resource_arn(event: object) -> str | None:
    """Best-effort ``methodArn``/``routeArn`` of an event that may be malformed.

    For building a deny response to an event :func:`parse_authorizer_event` refused. Never
    raises.
    """
    if not isinstance(event, Mapping):
        return None
    for name in ("methodArn", "routeArn"):
        value = event.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _size(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def parse_s3_event(event: object) -> list[S3ObjectRecord]:
    """Read the records of an S3 event notification.

    S3 sends a test event (``{"Event": "s3:TestEvent", ...}``, no ``Records``) when a
    notification is configured; it yields no records.

    Args:
        event: The event as the Lambda runtime passes it.

    Returns:
        One :class:`S3ObjectRecord` per record, in order (of any event name; callers pick the
        ones they handle, see :attr:`S3ObjectRecord.created`).

    Raises:
        EventError: If the event has no ``Records`` list or a record lacks the bucket name or
            object key.
    """
    event = _mapping(event, "the event")
    if event.get("Event") == "s3:TestEvent" and "Records" not in event:
        return []
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise EventError("Records is missing or is not a non-empty list")
    parsed: list[S3ObjectRecord] = []
    for i, item in enumerate(records):
        record = _mapping(item, f"Records[{i}]")
        source = record.get("eventSource")
        if source is not None and source != "aws:s3":
            raise EventError(f"Records[{i}].eventSource is {str(source)[:20]!r}, not 'aws:s3'")
        s3 = _mapping(record.get("s3"), f"Records[{i}].s3")
        bucket = _mapping(s3.get("bucket"), f"Records[{i}].s3.bucket")
        obj = _mapping(s3.get("object"), f"Records[{i}].s3.object")
        parsed.append(
            S3ObjectRecord(
                event_name=_optional_string(record.get("eventName")) or "",
                bucket=_string(bucket.get("name"), f"Records[{i}].s3.bucket.name"),
                key=unquote_plus(_string(obj.get("key"), f"Records[{i}].s3.object.key")),
                version_id=_optional_string(obj.get("versionId")),
                etag=_optional_string(obj.get("eTag")),
                size=_size(obj.get("size")),
            )
        )
    return parsed
