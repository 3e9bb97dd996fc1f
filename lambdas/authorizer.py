"""AWS Lambda authorizer: allow an mTLS client certificate unless a fresh CRL revokes it.

Handler: ``authorizer.handler`` (see template.yaml; settings in :mod:`crlcheck.settings`).

Per invocation: parse the event (REST REQUEST, HTTP API 1.0 or 2.0), revalidate the cached
revocation documents with one conditional GetObject each (:class:`crlcheck.store.RevocationCache`),
decide with the wall-clock time of this invocation, answer in the event's response format, and
write one JSON log line with embedded metrics. The module-level state below (settings, S3 client,
cache) survives warm invocations; it is created on the first call.

Fail closed: any problem (bad event, unusable documents, an unexpected exception) is a deny. No
exception leaves :func:`handler`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

from crlcheck.decision import Decision, Reason, decide
from crlcheck.errors import EventError
from crlcheck.events import EventKind, parse_authorizer_event, peek_event_kind, peek_resource_arn
from crlcheck.logs import decision_record, error_record, write_line
from crlcheck.responses import decision_context, policy_response, simple_response
from crlcheck.s3 import AUTHORIZER_CONFIG, S3DocumentSource, make_client
from crlcheck.serial import format_serial
from crlcheck.settings import AuthorizerSettings, ResponseFormat
from crlcheck.store import RefreshReport, RevocationCache


@dataclasses.dataclass(frozen=True, slots=True)
class _Runtime:
    settings: AuthorizerSettings
    cache: RevocationCache


# The only module-level state: built on the first invocation, reused while the container is warm.
_runtime: _Runtime | None = None


def _get_runtime() -> _Runtime:
    global _runtime
    if _runtime is None:
        settings = AuthorizerSettings.from_environ()
        source = S3DocumentSource(make_client(AUTHORIZER_CONFIG), settings.bucket)
        cache = RevocationCache(
            source, settings.document_keys, revalidate_seconds=settings.revalidate_seconds
        )
        _runtime = _Runtime(settings, cache)
    return _runtime


def _respond(
    decision: Decision,
    *,
    response_format: ResponseFormat,
    kind: EventKind | None,
    resource: str,
) -> dict[str, Any]:
    context = decision_context(decision)
    if response_format == "simple" and kind is EventKind.HTTP_V2:
        return simple_response(allow=decision.allowed, context=context)
    principal = format_serial(decision.serial) if decision.serial is not None else "unknown"
    return policy_response(
        resource=resource, principal_id=principal, allow=decision.allowed, context=context
    )


def _lambda_fields(context: object, started: float) -> dict[str, object]:
    return {
        "lambda_request_id": getattr(context, "aws_request_id", None),
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
    }


def _authorize(
    event: object, context: object, runtime: _Runtime, now: datetime, started: float
) -> dict[str, Any]:
    settings = runtime.settings
    try:
        request = parse_authorizer_event(event)
    except EventError as exc:
        decision = Decision.deny(Reason.BAD_REQUEST, exc.message)
        write_line(decision_record(decision, now=now, extra=_lambda_fields(context, started)))
        return _respond(
            decision,
            response_format=settings.response_format,
            kind=peek_event_kind(event),
            resource=peek_resource_arn(event) or "*",
        )

    cache = runtime.cache
    report: RefreshReport = cache.refresh(time.monotonic())
    sets = cache.sets()
    # decide() never raises for bad input; a document found corrupt by a lazy order check is a
    # deny with reason document_invalid (see crlcheck.revset).
    decision = decide(request.client_cert_pem, sets, now=now, grace=settings.stale_grace)
    if decision.reason is Reason.NO_COVERING_CRL and report.unusable:
        # The covering document may be one that failed to load: say so, not "unknown issuer".
        decision = dataclasses.replace(
            decision,
            reason=Reason.STORE_UNAVAILABLE,
            message=f"no loaded CRL covers this issuer; unusable documents: "
            f"{', '.join(report.unusable)}",
        )
    write_line(
        decision_record(
            decision,
            now=now,
            event=request,
            report=report,
            sets=sets,
            extra=_lambda_fields(context, started),
        )
    )
    return _respond(
        decision,
        response_format=settings.response_format,
        kind=request.kind,
        resource=request.resource_arn,
    )


def handler(event: object, context: object) -> dict[str, Any]:
    """Lambda entry point: answer API Gateway with an allow or a deny.

    Args:
        event: An API Gateway Lambda authorizer event (REST REQUEST, HTTP API 1.0 or 2.0).
        context: The Lambda context (only ``aws_request_id`` is read, for logs).

    Returns:
        An IAM policy response, or a simple response for HTTP API 2.0 events when
        ``CRLCHECK_RESPONSE_FORMAT=simple``. Never raises.
    """
    now = datetime.now(UTC)
    started = time.monotonic()
    runtime = _runtime
    try:
        runtime = _get_runtime()
        return _authorize(event, context, runtime, now, started)
    except Exception as exc:  # The one broad except: log it, and deny.
        decision = Decision.deny(Reason.INTERNAL_ERROR, "internal error")
        with contextlib.suppress(Exception):  # Logging must not turn a deny into a 500.
            extra = error_record("authorizer error", exc, now=now)
            extra.pop("time")
            extra.pop("message")
            extra.update(_lambda_fields(context, started))
            write_line(decision_record(decision, now=now, extra=extra))
        return _respond(
            decision,
            response_format=runtime.settings.response_format if runtime else "policy",
            kind=peek_event_kind(event),
            resource=peek_resource_arn(event) or "*",
        )
