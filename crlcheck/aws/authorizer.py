"""The API Gateway Lambda authorizer: a front door over :class:`crlcheck.service.Authorizer`.

Per invocation: parse the event (REST REQUEST, HTTP API 1.0 or 2.0), let the service revalidate
the documents and decide with the wall-clock time of this invocation, answer in the event's
response format, and write one JSON log line with embedded metrics.

:class:`AuthorizerHandler` is built from settings and a document source, so tests pass a fake
source instead of patching globals. :func:`authorizer_from_environ` is what
``lambdas/authorizer.py`` calls: it builds the handler from the environment on the first
invocation and keeps it while the container is warm.

Fail closed: any problem (bad event, unusable documents, bad settings, an unexpected exception)
is a deny. No exception leaves a handler.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from crlcheck._time import format_utc
from crlcheck.aws.events import (
    EventKind,
    parse_authorizer_event,
    peek_event_kind,
    peek_resource_arn,
)
from crlcheck.aws.logs import decision_record, error_record, write_line
from crlcheck.aws.responses import decision_response
from crlcheck.aws.settings import AuthorizerSettings, ResponseFormat
from crlcheck.cache import CatalogCache, CertificateBundle, DocumentSource, RevocationCache
from crlcheck.catalog import catalog_key
from crlcheck.decision import Decision
from crlcheck.errors import CRLCheckError, EventError, Reason
from crlcheck.service import Authorizer

__all__ = ["AuthorizerHandler", "authorizer_from_environ"]

Handler = Callable[[object, object], dict[str, Any]]


def _respond(
    decision: Decision,
    *,
    response_format: ResponseFormat,
    kind: EventKind | None,
    resource: str,
) -> dict[str, Any]:
    simple = response_format == "simple" and kind is EventKind.HTTP_V2
    return decision_response(decision, resource=resource, simple=simple)


def _lambda_fields(context: object, started: float) -> dict[str, object]:
    return {
        "lambda_request_id": getattr(context, "aws_request_id", None),
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
    }


def _deny_for_error(
    event: object,
    context: object,
    exc: BaseException,
    *,
    now: datetime,
    started: float,
    response_format: ResponseFormat,
) -> dict[str, Any]:
    """The deny (and its log line) for an exception no other path handled."""
    decision = Decision.deny(Reason.INTERNAL_ERROR, "internal error")
    with contextlib.suppress(Exception):  # Logging must not turn a deny into a 500.
        extra = error_record("authorizer error", exc, now=now)
        extra.pop("time")
        extra.pop("message")
        extra.update(_lambda_fields(context, started))
        write_line(decision_record(decision, now=now, extra=extra))
    return _respond(
        decision,
        response_format=response_format,
        kind=peek_event_kind(event),
        resource=peek_resource_arn(event) or "*",
    )


class AuthorizerHandler:
    """A Lambda authorizer handler: ``handler(event, context)`` returns the response.

    Args:
        service: Decides certificates (and owns the document cache).
        response_format: ``"policy"``, or ``"simple"`` for HTTP API payload 2.0 events.
        clock: The wall clock decisions are made at.
    """

    def __init__(
        self,
        service: Authorizer,
        *,
        response_format: ResponseFormat = "policy",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.service = service
        self.response_format: ResponseFormat = response_format
        self._clock = clock

    @classmethod
    def from_settings(
        cls, settings: AuthorizerSettings, source: DocumentSource
    ) -> AuthorizerHandler:
        """Build the handler for ``settings``, reading documents from ``source``."""
        interval = settings.revalidate_seconds
        cache: RevocationCache | CatalogCache
        if settings.document_prefix is not None:
            cache = CatalogCache(
                source,
                catalog_key(settings.document_prefix),
                revalidate_seconds=interval,
                max_bytes=settings.cache_max_bytes,
            )
        else:
            cache = RevocationCache(source, settings.document_keys, revalidate_seconds=interval)
        chain = (
            CertificateBundle(source, settings.chain_key, revalidate_seconds=interval)
            if settings.chain_key is not None
            else None
        )
        service = Authorizer(cache, grace=settings.stale_grace, chain=chain)
        return cls(service, response_format=settings.response_format)

    def __call__(self, event: object, context: object) -> dict[str, Any]:
        """Answer API Gateway with an allow or a deny. Never raises."""
        now = self._clock()
        started = time.monotonic()
        try:
            return self._authorize(event, context, now, started)
        except Exception as exc:  # The one broad except: log it, and deny.
            return _deny_for_error(
                event,
                context,
                exc,
                now=now,
                started=started,
                response_format=self.response_format,
            )

    def _authorize(
        self, event: object, context: object, now: datetime, started: float
    ) -> dict[str, Any]:
        try:
            request = parse_authorizer_event(event)
        except EventError as exc:
            decision = Decision.deny(exc.deny_reason, exc.message)
            write_line(decision_record(decision, now=now, extra=_lambda_fields(context, started)))
            return _respond(
                decision,
                response_format=self.response_format,
                kind=peek_event_kind(event),
                resource=peek_resource_arn(event) or "*",
            )
        verdict = self.service.check(request.client_cert_pem, now)
        extra = _lambda_fields(context, started)
        if verdict.chain_failure is not None:
            failure = verdict.chain_failure
            extra["chain_failure"] = {
                "key": failure.key,
                "reason": failure.reason,
                "message": failure.message,
                "kept": failure.kept,
            }
        write_line(
            decision_record(
                verdict.decision,
                now=now,
                event=request,
                report=verdict.report,
                sets=verdict.sets,
                extra=extra,
            )
        )
        return _respond(
            verdict.decision,
            response_format=self.response_format,
            kind=request.kind,
            resource=request.resource_arn,
        )


def authorizer_from_environ(
    environ: Mapping[str, str] | None = None,
    *,
    make_source: Callable[[AuthorizerSettings], DocumentSource] | None = None,
    register_after_restore: Callable[[Callable[[], None]], object] | None = None,
) -> Handler:
    """The Lambda entry point: a handler built from the environment on its first call.

    Settings are read, and the S3 client created, on the first invocation (not at import, so
    a misconfiguration is a logged deny, not a failed cold start); the handler is then kept for
    the life of the container. A build that fails denies and is tried again next time.

    With ``CRLCHECK_PRELOAD=true`` the handler is built, and the documents loaded, here, during
    the function's init: with Lambda SnapStart the snapshot then holds them, and a restored
    function answers its first request without downloading and loading documents. After a
    restore the documents must be revalidated on the first request (the snapshot may be hours
    old, and the monotonic clock of the revalidation interval does not tell): a restore hook
    makes them due (``snapshot_restore_py``, which the Lambda Python runtime provides). Without
    one, they are made due at once, so the first request revalidates them (a conditional GET:
    a 304 when nothing changed). A preload that fails is logged; the first request then builds
    the handler as without preload.

    Args:
        environ: The variables to read; ``os.environ`` by default.
        make_source: Builds the document source from the settings; an S3 source by default.
        register_after_restore: Registers a callable to run after a SnapStart restore and
            returns True (False: no hooks here); by default through
            ``snapshot_restore_py.register_after_restore`` when the runtime provides it.
    """
    built: list[AuthorizerHandler] = []

    def build(settings: AuthorizerSettings) -> AuthorizerHandler:
        handler = AuthorizerHandler.from_settings(settings, (make_source or _s3_source)(settings))
        built.append(handler)
        return handler

    try:
        initial: AuthorizerSettings | None = AuthorizerSettings.from_environ(environ)
    except Exception:  # Reported by the first request, as without preload.
        initial = None
    if initial is not None and initial.preload:
        _preload(initial, build, register_after_restore or _register_after_restore)

    def handler(event: object, context: object) -> dict[str, Any]:
        if not built:
            now = datetime.now(UTC)
            started = time.monotonic()
            try:
                build(AuthorizerSettings.from_environ(environ))
            except Exception as exc:  # Bad settings deny (and say why in the log).
                return _deny_for_error(
                    event, context, exc, now=now, started=started, response_format="policy"
                )
        return built[0](event, context)

    return handler


def _preload(
    settings: AuthorizerSettings,
    build: Callable[[AuthorizerSettings], AuthorizerHandler],
    register_after_restore: Callable[[Callable[[], None]], object],
) -> None:
    """Build the handler and load its documents now (see :func:`authorizer_from_environ`)."""
    now = datetime.now(UTC)
    started = time.monotonic()
    try:
        handler = build(settings)
        report = handler.service.refresh()
        if isinstance(handler.service.cache, RevocationCache):
            for revset in handler.service.cache.sets():
                # The check a lazily loaded set makes on its first miss (~40-50 ms at 1M
                # entries), done now so that the snapshot holds its result. A set found out of
                # order stays so: every request that needs it is denied, as without preload.
                with contextlib.suppress(CRLCheckError):
                    revset.check_order()
        service = handler.service

        def after_restore() -> None:
            service.make_due()
            with contextlib.suppress(Exception):  # A log line must not fail the restore.
                write_line(
                    {
                        "level": "INFO",
                        "message": "restored",
                        "time": format_utc(datetime.now(UTC)),
                        "detail": "documents marked due: the next request revalidates them",
                    }
                )

        hooked = bool(register_after_restore(after_restore))
    except Exception as exc:  # Logged; the first request builds again.
        with contextlib.suppress(Exception):
            write_line(error_record("authorizer preload failed", exc, now=now))
        return
    if not hooked:
        handler.service.make_due()
    with contextlib.suppress(Exception):
        write_line(
            {
                "level": "INFO" if not report.failures else "ERROR",
                "message": "preload",
                "time": format_utc(now),
                "documents": {
                    "loaded": list(report.reloaded),
                    "unusable": list(report.unusable),
                    "failures": [
                        {"key": f.key, "reason": f.reason, "message": f.message}
                        for f in report.failures
                    ],
                },
                "restore_hook": hooked,
                "duration_ms": round((time.monotonic() - started) * 1000, 3),
            }
        )


def _register_after_restore(callback: Callable[[], None]) -> bool:
    """Register ``callback`` with the runtime's SnapStart hooks; False when there are none."""
    try:
        # Provided by the Lambda Python runtimes (3.12 and later); absent elsewhere.
        hooks = importlib.import_module("snapshot_restore_py")
    except ImportError:
        return False
    hooks.register_after_restore(callback)
    return True


def _s3_source(settings: AuthorizerSettings) -> DocumentSource:
    # Imported here: boto3 costs ~0.2 s of import, paid only by a function that uses S3.
    from crlcheck.aws.s3 import AUTHORIZER_CONFIG, S3DocumentSource, make_client

    return S3DocumentSource(make_client(AUTHORIZER_CONFIG), settings.bucket)
