"""AWS Lambda preprocessor: turn each uploaded CRL into its crlcheck document.

Handler: ``preprocessor.handler``, triggered by S3 ``ObjectCreated`` events on ``*.crl`` (see
template.yaml; settings in :mod:`crlcheck.settings`).

For every record of the event: read the CRL (the exact version named in the record), verify it
against the truststore PEM bundle (:func:`crlcheck.verify_crl`: signer by name and key
identifier, signature, validity at the current time), compare it with the published document
(:func:`crlcheck.store.plan_publication`: a lower CRL number is a rollback and is refused; the
same CRL again is a no-op), and publish the new document with one conditional PUT. Each record
gives one JSON log line (with an embedded ``Preprocessed`` metric). If any record was refused,
the invocation raises after all records were handled, so it counts as failed (retries, DLQ and
the Errors metric show it) while the published documents stay as they were.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from crlcheck.crl import load_certificates
from crlcheck.errors import CRLCheckError
from crlcheck.events import S3ObjectRecord, parse_s3_event
from crlcheck.logs import emf, error_record, write_line
from crlcheck.s3 import PREPROCESSOR_CONFIG, make_client, read_document, read_object, write_document
from crlcheck.settings import PreprocessorSettings
from crlcheck.store import document_key, plan_publication

if TYPE_CHECKING:
    from cryptography import x509
    from mypy_boto3_s3 import S3Client


class RecordsRefusedError(CRLCheckError):
    """One or more records of the event were refused; each was logged with its reason.

    Attributes:
        refusals: ``(bucket/key, reason)`` of each refused record.
    """

    reason = "records_refused"

    def __init__(self, message: str, *, refusals: tuple[tuple[str, str], ...]) -> None:
        super().__init__(message)
        self.refusals = refusals


@dataclasses.dataclass(frozen=True, slots=True)
class _Runtime:
    settings: PreprocessorSettings
    client: S3Client


# The only module-level state: built on the first invocation, reused while the container is warm.
_runtime: _Runtime | None = None


def _get_runtime() -> _Runtime:
    global _runtime
    if _runtime is None:
        _runtime = _Runtime(PreprocessorSettings.from_environ(), make_client(PREPROCESSOR_CONFIG))
    return _runtime


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _process(
    record: S3ObjectRecord,
    runtime: _Runtime,
    signers: dict[tuple[str, str], list[x509.Certificate]],
    now: datetime,
) -> dict[str, Any]:
    """Handle one record; return its log fields. Raises CRLCheckError on refusal."""
    settings, client = runtime.settings, runtime.client
    out_key = document_key(record.key, settings.output_prefix)
    crl = read_object(client, record.bucket, record.key, version_id=record.version_id)
    truststore = (settings.truststore_bucket or record.bucket, settings.truststore_key)
    if truststore not in signers:
        signers[truststore] = load_certificates(read_object(client, *truststore).body)
    published = read_document(client, record.bucket, out_key)
    plan = plan_publication(
        crl.body,
        signers[truststore],
        now=now,
        published=published.body if published is not None else None,
        clock_skew=settings.clock_skew,
        allow_sha1=settings.allow_sha1,
    )
    info = plan.revset.info
    fields: dict[str, Any] = {
        "document_key": out_key,
        "issuer": info.issuer,
        "crl_number": str(info.crl_number) if info.crl_number is not None else None,
        "this_update": _iso(info.this_update),
        "next_update": _iso(info.next_update),
        "entries": len(plan.revset),
        "replaced_invalid_document": plan.replaced_invalid,
    }
    if plan.action == "publish":
        fields["document_etag"] = write_document(
            client,
            record.bucket,
            out_key,
            plan.document,
            replaces=published.etag if published is not None else None,
            metadata={
                "crl-number": fields["crl_number"] or "",
                "crl-source-sha256": info.source_sha256,
                "crl-key": quote(record.key, safe="/"),
                "crl-version-id": record.version_id or "",
            },
        )
        fields["document_bytes"] = len(plan.document)
    fields["outcome"] = "published" if plan.action == "publish" else "unchanged"
    return fields


def _error_fields(exc: CRLCheckError) -> dict[str, object]:
    """The structured fields of a refusal (rollback numbers, stale dates...)."""
    fields: dict[str, object] = {}
    names = ("published", "offered", "next_update", "this_update", "crl_issuer", "oid")
    for name in (*names, "signer", "not_before", "not_after", "algorithm", "field"):
        value = getattr(exc, name, None)
        if isinstance(value, datetime):
            fields[name] = _iso(value)
        elif isinstance(value, str | int):
            fields[name] = value
    if hasattr(exc, "retryable"):
        fields["retryable"] = exc.retryable
    return fields


def _handle_record(
    record: S3ObjectRecord,
    runtime: _Runtime,
    signers: dict[tuple[str, str], list[x509.Certificate]],
    now: datetime,
    lambda_request_id: str | None,
) -> tuple[dict[str, Any], CRLCheckError | None]:
    """Process one record and write its log line; return its summary and its refusal, if any."""
    started = time.monotonic()
    base = {
        "bucket": record.bucket,
        "key": record.key,
        "version_id": record.version_id,
        "lambda_request_id": lambda_request_id,
    }
    if not record.created:
        write_line({"level": "INFO", "message": "skipped", "event_name": record.event_name, **base})
        return {**base, "outcome": "skipped"}, None
    try:
        fields = _process(record, runtime, signers, now)
    except CRLCheckError as exc:
        line = {
            "level": "ERROR",
            "message": "refused",
            "time": _iso(now),
            "reason": exc.reason,
            "detail": exc.message,
            "error_type": type(exc).__name__,
            **_error_fields(exc),
            **base,
            "duration_ms": round((time.monotonic() - started) * 1000, 3),
        }
        write_line({**line, **_metric(now, "refused")})
        return {**base, "outcome": "refused", "reason": exc.reason}, exc
    line = {
        "level": "INFO",
        "message": fields["outcome"],
        "time": _iso(now),
        **fields,
        **base,
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
    }
    write_line({**line, **_metric(now, fields["outcome"])})
    return {**base, "outcome": fields["outcome"], "document_key": fields["document_key"]}, None


def handler(event: object, context: object) -> dict[str, Any]:
    """Lambda entry point: preprocess every CRL named in an S3 event.

    Args:
        event: An S3 event notification.
        context: The Lambda context (only ``aws_request_id`` is read, for logs).

    Returns:
        A summary, one entry per record.

    Raises:
        RecordsRefusedError: One or more records were refused (each logged with its reason).
        Exception: Anything unexpected, after one structured log line.
    """
    now = datetime.now(UTC)
    lambda_request_id = getattr(context, "aws_request_id", None)
    try:
        runtime = _get_runtime()
        records = parse_s3_event(event)
        # Every record of the event is judged at the same time, ``now``, and the truststore is
        # read once per event (per bucket).
        signers: dict[tuple[str, str], list[x509.Certificate]] = {}
        results: list[dict[str, Any]] = []
        refusals: list[CRLCheckError] = []
        for record in records:
            summary, refusal = _handle_record(record, runtime, signers, now, lambda_request_id)
            results.append(summary)
            if refusal is not None:
                refusals.append(refusal)
        if refusals:
            refused = tuple(
                (f"{r['bucket']}/{r['key']}", r["reason"])
                for r in results
                if r["outcome"] == "refused"
            )
            raise RecordsRefusedError(
                f"{len(refused)} of {len(records)} record(s) refused: "
                + ", ".join(f"{where} ({reason})" for where, reason in refused),
                refusals=refused,
            ) from refusals[0]
        return {"records": results}
    except RecordsRefusedError:
        raise  # Each refusal already has its log line.
    except Exception as exc:  # The one broad except: one structured line, then fail the invocation.
        write_line(
            error_record(
                "preprocessor error", exc, now=now, extra={"lambda_request_id": lambda_request_id}
            )
        )
        raise


def _metric(now: datetime, outcome: str) -> dict[str, Any]:
    return emf(
        now,
        [("Preprocessed", 1, "Count")],
        dimensions={"Outcome": outcome},
        dimension_sets=(("Outcome",),),
    )
