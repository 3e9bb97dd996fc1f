"""What every front door in this package shares: where the certificate comes from, one locked
:class:`~crlcheck.service.Authorizer`, the response body and headers, and the log line.

A front door translates its request into ``(certificate, now)``, calls
:meth:`Door.decide`, and turns the :class:`~crlcheck.Decision` into its response; the decision
workflow itself is :meth:`crlcheck.service.Authorizer.check`, never repeated here.

Where the certificate comes from
--------------------------------
Either from the connection (the ASGI TLS extension, or ``SSL_CLIENT_CERT`` under mod_wsgi), or
from ONE request header that a proxy in front sets from the TLS connection it terminated: ALB
mTLS passthrough's ``X-Amzn-Mtls-Clientcert``, nginx's ``$ssl_client_escaped_cert``, Envoy's
``%DOWNSTREAM_PEER_CERT%``, all URL-encoded PEM. A header is read only when it is configured,
and then it is the only source: whoever can reach the application without passing the proxy
can send any header, so trusting one is the operator's statement that the proxy is the only way
in and that it overwrites the header. A header that arrives twice (a proxy that appends instead
of overwriting, plus the client's own) is refused rather than guessed at.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

from crlcheck._text import sanitize
from crlcheck._time import format_utc
from crlcheck.cache import CatalogCache, DocumentSource, RevocationCache
from crlcheck.decision import Decision
from crlcheck.errors import CertificateParseError, CRLCheckError, Reason
from crlcheck.frontends._directory import DirectoryDocumentSource
from crlcheck.revset import DEFAULT_CLOCK_SKEW, Validity
from crlcheck.service import Authorizer

__all__ = [
    "MAX_CERTIFICATE_HEADER",
    "Door",
    "RequestError",
    "certificate_from_header",
    "decision_body",
    "decision_headers",
    "directory_authorizer",
    "s3_authorizer",
]

logger = logging.getLogger("crlcheck.frontends")

# A client certificate chain, URL-encoded (about 3x its PEM size), fits many times over.
MAX_CERTIFICATE_HEADER: Final = 64 << 10

_PEM_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]{1,65536}?-----END CERTIFICATE-----"
)

# The members of Decision.to_dict() a response carries (the same as the Lambda's context):
# the message is left out, as it may name documents and files of the server.
_BODY_FIELDS: Final = ("allowed", "reason", "serial", "issuer", "crl_number", "revocation_reason")


class RequestError(CRLCheckError):
    """The request carries no usable client certificate (missing, repeated or oversized header,
    no TLS connection information)."""

    reason = "bad_request"
    deny_reason = Reason.BAD_REQUEST


def certificate_from_header(values: Sequence[str], name: str) -> str:
    """The client certificate from the values of a trusted proxy header.

    Args:
        values: Every value the request has for the header (a WSGI server joins repeated
            headers with commas, which URL-encoded PEM never contains).
        name: The header's name, for messages.

    Returns:
        The first PEM certificate of the header: the client's own (ALB sends the chain, leaf
        first).

    Raises:
        RequestError: The header is missing, empty, repeated or longer than
            :data:`MAX_CERTIFICATE_HEADER`.
        CertificateParseError: It holds no PEM certificate.
    """
    if not values:
        raise RequestError(f"no client certificate: no {name} header")
    if len(values) > 1 or "," in values[0]:
        raise RequestError(f"the {name} header is repeated: refusing to choose one")
    value = values[0].strip()
    if not value:
        # nginx sends an empty $ssl_client_escaped_cert when the client sent no certificate.
        raise RequestError(f"no client certificate: the {name} header is empty")
    if len(value) > MAX_CERTIFICATE_HEADER:
        raise RequestError(f"the {name} header is over {MAX_CERTIFICATE_HEADER} characters")
    text = urllib.parse.unquote(value, encoding="ascii", errors="replace")
    if "-----BEGIN+CERTIFICATE" in text:
        # Form encoding (space as '+'): then a literal '+' of base64 was sent as %2B.
        text = urllib.parse.unquote_plus(value, encoding="ascii", errors="replace")
    match = _PEM_BLOCK.search(text)
    if match is None:
        raise CertificateParseError(f"the {name} header holds no URL-encoded PEM certificate")
    return match.group(0)


def decision_body(decision: Decision) -> bytes:
    """The JSON body of a response for ``decision``: ``allowed``, ``reason`` and the
    certificate's serial, issuer, CRL number and revocation reason (strings sanitised)."""
    view = decision.to_dict()
    return orjson.dumps(
        {k: sanitize(view[k]) if isinstance(view[k], str) else view[k] for k in _BODY_FIELDS}
    )


def decision_headers(decision: Decision) -> list[tuple[str, str]]:
    """Response headers for ``decision``: its reason and, when known, the serial (for nginx's
    ``auth_request_set`` and Envoy's ``allowed_upstream_headers``)."""
    headers = [("X-Crlcheck-Reason", decision.reason.value)]
    view = decision.to_dict()
    if view["serial"] is not None:
        headers.append(("X-Crlcheck-Serial", sanitize(view["serial"], 128)))
    return headers


class Door:
    """One :class:`Authorizer` shared by the threads of a server, and the log line per decision.

    A lock serialises :meth:`Authorizer.check`: the cache's refresh is not meant to run twice at
    once (two threads would both download a changed document), and a decision costs
    microseconds, so one at a time is far from being the bottleneck. While a large document is
    reloading, the requests behind it wait for it.

    Args:
        authorizer: Decides certificates (and owns the document cache).
        name: The front door's name, in log lines.
        clock: The wall clock decisions are made at.
    """

    def __init__(
        self,
        authorizer: Authorizer,
        *,
        name: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.authorizer = authorizer
        self.name = name
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    def decide(self, read_certificate: Callable[[], str]) -> Decision:
        """Read the certificate, check it now, log the decision. Never raises.

        Args:
            read_certificate: Returns the request's client certificate (PEM), or raises a
                :class:`CRLCheckError` (its ``deny_reason`` becomes the decision's reason).
        """
        now = self._clock()
        started = time.monotonic()
        record: dict[str, Any] = {"door": self.name}
        try:
            pem = read_certificate()
            with self._lock:
                verdict = self.authorizer.check(pem, now)
            decision = verdict.decision
            report = verdict.report
            if report.reloaded:
                record["reloaded"] = list(report.reloaded)
            if report.failures:
                record["failures"] = [
                    {"key": f.key, "reason": f.reason, "detail": f.message, "kept": f.kept}
                    for f in report.failures
                ]
        except CRLCheckError as exc:
            decision = Decision.deny(exc.deny_reason, exc.message)
        except Exception:  # The one broad except of a front door: log it, and deny.
            logger.exception("crlcheck %s: internal error", self.name)
            decision = Decision.deny(Reason.INTERNAL_ERROR, "internal error")
        record.update(decision.to_dict())
        record["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        logger.info("%s", _json_line(record))
        return decision

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Revalidate the documents; healthy when every one is loaded and its CRL is fresh.

        Returns:
            ``(healthy, details)``: details list each document's key, whether it is loaded, its
            CRL number, nextUpdate and freshness (with the authorizer's grace).
        """
        now = self._clock()
        cache = self.authorizer.cache
        if isinstance(cache, CatalogCache):
            # Documents are loaded per request: healthy once the catalog is.
            with self._lock:
                cache.refresh(time.monotonic())
            loaded = cache.catalog is not None
            catalog = {"key": cache.catalog_key, "loaded": loaded}
            return loaded, {"healthy": loaded, "documents": [catalog]}
        with self._lock:
            cache.refresh(time.monotonic())
            documents = cache.documents()
        healthy = True
        entries = []
        for key in cache.keys:
            cached = documents.get(key)
            if cached is None:
                healthy = False
                entries.append({"key": key, "loaded": False})
                continue
            info = cached.revset.info
            validity = info.validity(
                now, grace=self.authorizer.grace, clock_skew=self.authorizer.clock_skew
            )
            healthy = healthy and validity is Validity.FRESH
            entries.append(
                {
                    "key": key,
                    "loaded": True,
                    "crl_number": str(info.crl_number) if info.crl_number is not None else None,
                    "next_update": format_utc(info.next_update),
                    "validity": validity.value,
                }
            )
        return healthy, {"healthy": healthy, "documents": entries}


def _json_line(record: dict[str, Any]) -> str:
    clean = {k: sanitize(v, 1024) if isinstance(v, str) else v for k, v in record.items()}
    return orjson.dumps(clean, default=str).decode()


def directory_authorizer(
    directory: str | Path,
    keys: Iterable[str] | None = None,
    *,
    grace: timedelta = timedelta(0),
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    revalidate_seconds: float = 0.0,
) -> Authorizer:
    """An :class:`Authorizer` over documents in a directory, each revalidated with a ``stat``.

    Args:
        directory: Where the documents are (``crlcheck preprocess``/``fetch`` write them).
        keys: Their file names; by default every ``*.cache.json`` and ``*.cache.bin`` there,
            listed again at each revalidation, so a CA's document added later is used by a
            later request and one removed stops serving, with no restart.
        grace: How long past nextUpdate a CRL may still allow.
        clock_skew: How far before thisUpdate a CRL may already be used.
        revalidate_seconds: Minimum seconds between two revalidations of a document.

    Raises:
        ValueError: No keys were given and the directory holds no document.
    """
    directory = Path(directory)
    source = DirectoryDocumentSource(directory)
    if keys is not None:
        return _authorizer(source, keys, grace, clock_skew, revalidate_seconds)

    def discover() -> list[str]:
        return sorted(
            p.name for pattern in DOCUMENT_PATTERNS for p in directory.glob(pattern) if p.is_file()
        )

    if not discover():
        raise ValueError(f"no *.cache.json or *.cache.bin document in {str(directory)!r}")
    cache = RevocationCache.discovering(source, discover, revalidate_seconds=revalidate_seconds)
    return Authorizer(cache, grace=grace, clock_skew=clock_skew)


# The documents a directory serves when no keys are given: both formats' default names.
DOCUMENT_PATTERNS = ("*.cache.json", "*.cache.bin")


def s3_authorizer(
    bucket: str,
    keys: Iterable[str],
    *,
    grace: timedelta = timedelta(0),
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    revalidate_seconds: float = 0.0,
) -> Authorizer:
    """An :class:`Authorizer` over documents in S3, as the Lambda authorizer reads them.

    boto3 is imported here, on the first call (``pip install 'crlcheck[aws]'``); credentials
    and region come from the environment as usual for boto3. Each revalidation is a
    conditional ``GetObject``: behind a busy application, set ``revalidate_seconds``.
    """
    from crlcheck.aws.s3 import AUTHORIZER_CONFIG, S3DocumentSource, make_client

    source = S3DocumentSource(make_client(AUTHORIZER_CONFIG), bucket)
    return _authorizer(source, keys, grace, clock_skew, revalidate_seconds)


def _authorizer(
    source: DocumentSource,
    keys: Iterable[str],
    grace: timedelta,
    clock_skew: timedelta,
    revalidate_seconds: float,
) -> Authorizer:
    cache = RevocationCache(source, keys, revalidate_seconds=revalidate_seconds)
    return Authorizer(cache, grace=grace, clock_skew=clock_skew)
