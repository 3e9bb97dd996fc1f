"""The scheduled fetcher: CRLs from HTTP distribution points into the bucket.

Many CAs (AD CS, Vault, public CAs) publish CRLs at ``http://`` distribution points rather than
into S3. An EventBridge schedule runs this handler; for each URL of ``CRLCHECK_FETCH_URLS`` it

1. reads the current object ``<prefix><name>.crl`` with ``HeadObject`` (name:
   :func:`crlcheck.fetch.crl_file_name`): the validators of the last download (the server's
   ``ETag`` and ``Last-Modified``), the SHA-256 of the bytes and the URL they came from, kept in
   the object's user metadata (``x-amz-meta-crlcheck-etag``, ``-last-modified``, ``-sha256``,
   ``-url``);
2. downloads the CRL with :func:`crlcheck.fetch.download`: conditionally (``If-None-Match``,
   ``If-Modified-Since``; the validators are sent only when they came from this same URL, so a
   URL changed in the configuration is downloaded in full), within the size and time limits,
   following at most the configured number of ``http``/``https`` redirects;
3. writes nothing on a 304, nor when the bytes have the SHA-256 of the current object; otherwise
   writes them with one conditional ``PutObject`` (``IfMatch`` the ETag read in step 1, or
   ``IfNoneMatch: *``; :func:`crlcheck.aws.s3.write_document`), so two overlapping runs cannot
   interleave a read and a write.

The fetcher does **not** verify the CRL: bytes from the network are untrusted, and the object it
writes is only a candidate. The S3 trigger on ``*.crl`` runs the preprocessor, which verifies the
CRL against the truststore, refuses rollbacks and publishes the document
(:mod:`crlcheck.aws.preprocessor`). A distribution point that serves garbage therefore never
reaches the authorizer; it shows up as the preprocessor's ``refused`` line and alarm.

Each URL gives one JSON log line with an embedded ``Fetched`` metric (``Outcome``: ``updated``,
``unchanged`` or ``failed``). Every URL is attempted; when any failed, the invocation raises
:class:`~crlcheck.errors.FetchesFailedError` afterwards, so Lambda's ``Errors`` metric (and the
template's alarm on it) shows it, while the CRLs that were fetched stay written.

A download is also bounded by the invocation's remaining time (less a reserve for the write):
a URL that would start with no time left fails with its own log line rather than the function
being cut off by its timeout without one.

:class:`FetcherHandler` is built from settings and an S3 client; :func:`fetcher_from_environ` is
what ``lambdas/fetcher.py`` calls.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from crlcheck._time import format_utc
from crlcheck.aws._lazy import lazy_handler
from crlcheck.aws.logs import emf, error_record, write_line
from crlcheck.aws.s3 import FETCHER_CONFIG, ObjectHead, make_client, read_head, write_document
from crlcheck.aws.settings import FetcherSettings
from crlcheck.errors import CRLCheckError, FetchesFailedError
from crlcheck.fetch import FetchError, FetchLimits, Validators, download

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["CRL_MEDIA_TYPE", "FetcherHandler", "fetcher_from_environ"]

CRL_MEDIA_TYPE: Final = "application/pkix-crl"  # RFC 2585 §4.2.

# The user metadata the fetcher keeps on each CRL object (x-amz-meta-<name>).
META_ETAG: Final = "crlcheck-etag"
META_LAST_MODIFIED: Final = "crlcheck-last-modified"
META_SHA256: Final = "crlcheck-sha256"
META_URL: Final = "crlcheck-url"

# Seconds of the invocation kept for the write after a download (a 128 MiB PutObject).
_WRITE_RESERVE: Final = 10.0
# A download is not started with less time than this.
_MIN_DOWNLOAD: Final = 1.0
# Validators longer than this, or not printable ASCII, are not kept (S3 metadata is ASCII,
# 2 KB in all); the next download is then unconditional.
_MAX_VALIDATOR: Final = 256


def _metric(now: datetime, outcome: str) -> dict[str, Any]:
    return emf(
        now,
        [("Fetched", 1, "Count")],
        dimensions={"Outcome": outcome},
        dimension_sets=(("Outcome",),),
    )


def _keepable(value: str | None) -> str | None:
    if value is None or len(value) > _MAX_VALIDATOR:
        return None
    return value if value.isascii() and value.isprintable() else None


def _validators(url: str, head: ObjectHead | None) -> Validators:
    """The conditions to send: only those the current object got from this same URL."""
    if head is None or head.metadata.get(META_URL) != url:
        return Validators()
    meta = head.metadata
    return Validators(meta.get(META_ETAG) or None, meta.get(META_LAST_MODIFIED) or None)


class FetcherHandler:
    """A Lambda fetcher handler: ``handler(event, context)`` returns a summary.

    Args:
        settings: The fetcher settings.
        client: The S3 client.
        clock: The wall clock, for log lines and metrics.
    """

    def __init__(
        self,
        settings: FetcherSettings,
        client: S3Client,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.client = client
        self._clock = clock

    def __call__(self, event: object, context: object) -> dict[str, Any]:
        """Fetch every configured CRL (the scheduled event itself is not read).

        Returns:
            A summary, one entry per URL.

        Raises:
            FetchesFailedError: One or more URLs failed (each logged with its reason), after
                every URL was attempted.
            Exception: Anything unexpected outside the per-URL work, after one log line.
        """
        now = self._clock()
        lambda_request_id = getattr(context, "aws_request_id", None)
        try:
            results = [
                self._handle_url(url, now, context, lambda_request_id) for url in self.settings.urls
            ]
            failed = tuple((r["url"], r["reason"]) for r in results if r["outcome"] == "failed")
            if failed:
                raise FetchesFailedError(
                    f"{len(failed)} of {len(results)} CRL(s) not fetched: "
                    + ", ".join(f"{url} ({reason})" for url, reason in failed),
                    failures=failed,
                )
            return {"urls": results}
        except FetchesFailedError:
            raise  # Each failure already has its log line.
        except Exception as exc:  # One structured line, then fail.
            write_line(
                error_record(
                    "fetcher error", exc, now=now, extra={"lambda_request_id": lambda_request_id}
                )
            )
            raise

    def _limits(self, context: object) -> FetchLimits:
        """The download limits, the timeout cut to what is left of the invocation."""
        limits = self.settings.limits
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(remaining):
            return limits
        left = remaining() / 1000 - _WRITE_RESERVE
        return dataclasses.replace(limits, timeout=min(limits.timeout, left))

    def _handle_url(
        self, url: str, now: datetime, context: object, lambda_request_id: str | None
    ) -> dict[str, Any]:
        """Fetch one URL and write its log line; return its summary."""
        started = time.monotonic()
        key = self.settings.key(url)
        base = {
            "url": url,
            "bucket": self.settings.bucket,
            "key": key,
            "lambda_request_id": lambda_request_id,
        }
        try:
            limits = self._limits(context)
            if limits.timeout < _MIN_DOWNLOAD:
                left = limits.timeout + _WRITE_RESERVE
                raise FetchError(
                    f"{url}: not downloaded, the invocation has {left:.1f} s left (raise the "
                    "function's timeout, or lower CRLCHECK_FETCH_TIMEOUT_SECONDS)",
                    url=url,
                )
            fields = self._process(url, key, limits)
        # The broad except lives here, in the handler: one URL's failure, whatever it is, is
        # logged and counted, and the other URLs are still fetched.
        except Exception as exc:
            error = (
                exc.log_fields()
                if isinstance(exc, CRLCheckError)
                else error_record("failed", exc, now=now)
            )
            reason = error.get("reason") or error.get("error_type") or "error"
            hop = error.pop("url", url)  # A FetchError names the hop that failed.
            if hop != url:
                error["failed_url"] = hop
            line = {
                **error,
                "level": "ERROR",
                "message": "failed",
                "time": format_utc(now),
                **base,
                "reason": reason,
                "duration_ms": round((time.monotonic() - started) * 1000, 3),
            }
            write_line({**line, **_metric(now, "failed")})
            return {**base, "outcome": "failed", "reason": reason}
        line = {
            "level": "INFO",
            "message": fields["outcome"],
            "time": format_utc(now),
            **fields,
            **base,
            "duration_ms": round((time.monotonic() - started) * 1000, 3),
        }
        write_line({**line, **_metric(now, fields["outcome"])})
        return {**base, "outcome": fields["outcome"]}

    def _process(self, url: str, key: str, limits: FetchLimits) -> dict[str, Any]:
        """Fetch one URL into ``key``; return its log fields. Raises on failure."""
        bucket = self.settings.bucket
        head = read_head(self.client, bucket, key)
        validators = _validators(url, head)
        fetched = download(url, validators, limits)
        fields: dict[str, Any] = {"conditional": validators != Validators()}
        if fetched.url != url:
            fields["redirected_to"] = fetched.url
        if fetched.body is None:
            return {**fields, "outcome": "unchanged", "not_modified": True}
        digest = hashlib.sha256(fetched.body).hexdigest()
        fields.update(not_modified=False, bytes=len(fetched.body), sha256=digest)
        if head is not None and head.metadata.get(META_SHA256) == digest:
            return {**fields, "outcome": "unchanged"}
        metadata = {META_URL: url, META_SHA256: digest}
        for name, value in (
            (META_ETAG, fetched.validators.etag),
            (META_LAST_MODIFIED, fetched.validators.last_modified),
        ):
            kept = _keepable(value)
            if kept is not None:
                metadata[name] = kept
        fields["object_etag"] = write_document(
            self.client,
            bucket,
            key,
            fetched.body,
            replaces=head.etag if head is not None else None,
            metadata=metadata,
            content_type=CRL_MEDIA_TYPE,
        )
        return {**fields, "outcome": "updated"}


def fetcher_from_environ(
    environ: Mapping[str, str] | None = None,
    *,
    make_s3_client: Callable[[], S3Client] | None = None,
) -> Callable[[object, object], dict[str, Any]]:
    """The Lambda entry point: a handler built from the environment on its first call.

    A build that fails (bad settings) logs one line and raises, so the invocation fails (and
    the Errors alarm fires); it is tried again on the next invocation.

    Args:
        environ: The variables to read; ``os.environ`` by default.
        make_s3_client: Creates the S3 client; boto3 with the fetcher's config by default.
    """

    def build() -> FetcherHandler:
        settings = FetcherSettings.from_environ(environ)
        client = make_s3_client() if make_s3_client is not None else make_client(FETCHER_CONFIG)
        return FetcherHandler(settings, client)

    return lazy_handler(build, name="fetcher")
