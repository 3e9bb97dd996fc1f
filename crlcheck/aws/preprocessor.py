"""The S3-triggered preprocessor: turn each uploaded CRL into its crlcheck document.

For every record of an S3 ``ObjectCreated`` event: read the CRL (the exact version named in the
record), verify it against the truststore PEM bundle and compare it with the published document
(:func:`crlcheck.publish.plan_publication`: a lower CRL number is a rollback and is refused; the
same CRL again is a no-op), and publish the new document with one conditional PUT. Each record
gives one JSON log line (with an embedded ``Preprocessed`` metric). If any record was refused,
the invocation raises :class:`~crlcheck.errors.RecordsRefusedError` after all records were
handled, so it counts as failed (retries, DLQ and the Errors metric show it) while the published
documents stay as they were.

:class:`PreprocessorHandler` is built from settings and an S3 client;
:func:`preprocessor_from_environ` is what ``lambdas/preprocessor.py`` calls.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from crlcheck._time import format_utc
from crlcheck.aws._lazy import lazy_handler
from crlcheck.aws.events import S3ObjectRecord, parse_s3_event
from crlcheck.aws.logs import emf, error_record, write_line
from crlcheck.aws.s3 import (
    PREPROCESSOR_CONFIG,
    make_client,
    read_document,
    read_object,
    write_document,
)
from crlcheck.aws.settings import PreprocessorSettings
from crlcheck.catalog import Catalog, CatalogEntry, catalog_key, dump_catalog, load_catalog
from crlcheck.certificate import load_certificates
from crlcheck.codec import document_media_type
from crlcheck.errors import CatalogUpdateError, CRLCheckError, RecordsRefusedError, StorageError
from crlcheck.publish import document_key, plan_publication

if TYPE_CHECKING:
    from cryptography import x509
    from mypy_boto3_s3 import S3Client

__all__ = ["PreprocessorHandler", "preprocessor_from_environ"]

Signers = dict[tuple[str, str], list["x509.Certificate"]]


def _iso(value: datetime | None) -> str | None:
    return format_utc(value) if value is not None else None


def _metric(now: datetime, outcome: str) -> dict[str, Any]:
    return emf(
        now,
        [("Preprocessed", 1, "Count")],
        dimensions={"Outcome": outcome},
        dimension_sets=(("Outcome",),),
    )


class PreprocessorHandler:
    """A Lambda preprocessor handler: ``handler(event, context)`` returns a summary.

    Args:
        settings: The preprocessor settings.
        client: The S3 client.
        clock: The wall clock CRLs are judged at.
    """

    def __init__(
        self,
        settings: PreprocessorSettings,
        client: S3Client,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.client = client
        self._clock = clock

    def __call__(self, event: object, context: object) -> dict[str, Any]:
        """Preprocess every CRL named in an S3 event.

        Returns:
            A summary, one entry per record.

        Raises:
            RecordsRefusedError: One or more records were refused (each logged with its reason).
            Exception: Anything unexpected, after one structured log line.
        """
        now = self._clock()
        lambda_request_id = getattr(context, "aws_request_id", None)
        try:
            records = parse_s3_event(event)
            # Every record of the event is judged at the same time, ``now``, and the truststore
            # is read once per event (per bucket).
            signers: Signers = {}
            results: list[dict[str, Any]] = []
            first: CRLCheckError | None = None
            for record in records:
                summary, refusal = self._handle_record(record, signers, now, lambda_request_id)
                results.append(summary)
                first = first or refusal
            refused = tuple(
                (f"{r['bucket']}/{r['key']}", r["reason"])
                for r in results
                if r["outcome"] == "refused"
            )
            if refused:
                raise RecordsRefusedError(
                    f"{len(refused)} of {len(records)} record(s) refused: "
                    + ", ".join(f"{where} ({reason})" for where, reason in refused),
                    refusals=refused,
                ) from first
            return {"records": results}
        except RecordsRefusedError:
            raise  # Each refusal already has its log line.
        except Exception as exc:  # The one broad except: one structured line, then fail.
            write_line(
                error_record(
                    "preprocessor error",
                    exc,
                    now=now,
                    extra={"lambda_request_id": lambda_request_id},
                )
            )
            raise

    def _handle_record(
        self,
        record: S3ObjectRecord,
        signers: Signers,
        now: datetime,
        lambda_request_id: str | None,
    ) -> tuple[dict[str, Any], CRLCheckError | None]:
        """Process one record and write its log line; return its summary and refusal, if any."""
        started = time.monotonic()
        base = {
            "bucket": record.bucket,
            "key": record.key,
            "version_id": record.version_id,
            "lambda_request_id": lambda_request_id,
        }
        if not record.created:
            write_line(
                {"level": "INFO", "message": "skipped", "event_name": record.event_name, **base}
            )
            return {**base, "outcome": "skipped"}, None
        try:
            fields = self._process(record, signers, now)
        except CRLCheckError as exc:
            line = {
                "level": "ERROR",
                "message": "refused",
                "time": _iso(now),
                **exc.log_fields(),
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
        summary = {**base, "outcome": fields["outcome"], "document_key": fields["document_key"]}
        return summary, None

    def _process(self, record: S3ObjectRecord, signers: Signers, now: datetime) -> dict[str, Any]:
        """Handle one record; return its log fields. Raises CRLCheckError on refusal."""
        settings, client = self.settings, self.client
        out_key = document_key(record.key, settings.output_prefix, format=settings.document_format)
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
            allow_delta=True,
            format=settings.document_format,
        )
        info = plan.revset.info
        fields: dict[str, Any] = {
            "document_key": out_key,
            "document_format": settings.document_format,
            "issuer": info.issuer,
            "crl_number": str(info.crl_number) if info.crl_number is not None else None,
            "this_update": _iso(info.this_update),
            "next_update": _iso(info.next_update),
            "entries": len(plan.revset),
        }
        if plan.action == "publish":
            fields["document_etag"] = write_document(
                client,
                record.bucket,
                out_key,
                plan.document,
                content_type=document_media_type(settings.document_format),
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
        prefix = settings.document_prefix
        if prefix is not None and out_key.startswith(prefix):
            etag = fields.get("document_etag") or (published.etag if published else None)
            if etag is not None:
                entry = CatalogEntry.of(out_key, etag, info)
                fields["catalog"] = update_catalog(
                    client, record.bucket, catalog_key(prefix), entry, now=now
                )
        return fields


# A catalog write lost to a concurrent preprocessor (412) is retried from a fresh read, after a
# short random pause that grows with each loss (so racing runs spread out instead of colliding
# again).
CATALOG_ATTEMPTS: Final = 20
CATALOG_BACKOFF_SECONDS: Final = 0.02


def update_catalog(
    client: S3Client, bucket: str, key: str, entry: CatalogEntry, *, now: datetime
) -> str:
    """Record ``entry`` in the catalog at ``key`` with conditional writes; return what happened.

    Read-modify-write: read the catalog and its ETag, add the entry
    (:meth:`crlcheck.catalog.Catalog.with_entry`), write it back only if the catalog still has
    that ETag (``IfMatch``; ``IfNoneMatch: *`` to create it). A lost race reads again, so two
    preprocessors publishing at once both land their entries.

    Returns:
        ``"added"`` or ``"current"`` (the catalog already had it, or a newer entry).

    Raises:
        CatalogUpdateError: The catalog cannot be read as one, or every attempt lost a race.
    """
    for attempt in range(CATALOG_ATTEMPTS):
        if attempt:
            pause = CATALOG_BACKOFF_SECONDS * min(2**attempt, 50)
            time.sleep(random.uniform(0, pause))  # noqa: S311 (jitter, not a secret)
        stored = read_document(client, bucket, key)
        try:
            catalog = load_catalog(stored.body) if stored is not None else Catalog()
        except CRLCheckError as exc:
            raise CatalogUpdateError(
                f"the catalog s3://{bucket}/{key} cannot be read ({exc.message}); the document "
                "was published but is not catalogued. Repair or delete the catalog, then upload "
                "the CRLs under its prefix again"
            ) from exc
        updated = catalog.with_entry(entry)
        if updated is None:
            return "current"
        try:
            write_document(
                client,
                bucket,
                key,
                dump_catalog(updated, generated_at=now),
                replaces=stored.etag if stored is not None else None,
            )
        except StorageError as exc:
            if exc.retryable:
                continue
            raise CatalogUpdateError(f"cannot write the catalog: {exc.message}") from exc
        return "added"
    raise CatalogUpdateError(
        f"the catalog s3://{bucket}/{key} changed {CATALOG_ATTEMPTS} times while it was updated"
    )


def preprocessor_from_environ(
    environ: Mapping[str, str] | None = None,
    *,
    make_s3_client: Callable[[], S3Client] | None = None,
) -> Callable[[object, object], dict[str, Any]]:
    """The Lambda entry point: a handler built from the environment on its first call.

    A build that fails (bad settings) logs one line and raises, so the invocation fails and
    is retried; it is tried again on the next invocation.

    Args:
        environ: The variables to read; ``os.environ`` by default.
        make_s3_client: Creates the S3 client; boto3 with the preprocessor's config by default.
    """

    def build() -> PreprocessorHandler:
        settings = PreprocessorSettings.from_environ(environ)
        client = (
            make_s3_client() if make_s3_client is not None else make_client(PREPROCESSOR_CONFIG)
        )
        return PreprocessorHandler(settings, client)

    return lazy_handler(build, name="preprocessor")
