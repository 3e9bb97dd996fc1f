"""Lambda settings: the one place crlcheck reads environment variables.

Each function's settings are a frozen dataclass built once per container by ``from_environ``,
which validates every value, so a misconfiguration is one clear :class:`SettingsError` at the
first invocation instead of odd behaviour later. The variable names match ``template.yaml``.

Authorizer:

=================================  =========  ====================================================
variable                           default    meaning
=================================  =========  ====================================================
``CRLCHECK_BUCKET``                required   bucket holding the documents
``CRLCHECK_DOCUMENT_KEYS``         (one of)   comma-separated document keys, one per CRL issuer
``CRLCHECK_DOCUMENT_PREFIX``       (one of)   prefix whose catalog lists the documents (lazy)
``CRLCHECK_CACHE_MAX_MB``          (memory/2) memory budget of loaded sets (catalog mode)
``CRLCHECK_REVALIDATE_SECONDS``    ``0``      minimum seconds between revalidations of a document
``CRLCHECK_STALE_GRACE_SECONDS``   ``0``      seconds past nextUpdate a CRL may still allow
``CRLCHECK_RESPONSE_FORMAT``       ``policy`` ``policy`` (IAM policy) or ``simple`` (HTTP API 2.0)
``CRLCHECK_CHAIN_KEY``             (none)     PEM bundle of intermediates to check above the leaf
``CRLCHECK_PRELOAD``               ``false``  ``true``: build the handler and load the documents
                                              during init (for SnapStart), not on the first request
=================================  =========  ====================================================

Preprocessor:

=================================  =========  ====================================================
variable                           default    meaning
=================================  =========  ====================================================
``CRLCHECK_TRUSTSTORE_KEY``        required   key of the PEM bundle of CRL signer certificates
``CRLCHECK_TRUSTSTORE_BUCKET``     (event's)  bucket of the truststore
``CRLCHECK_OUTPUT_PREFIX``         ``""``     prefix for documents; empty: next to the CRL
``CRLCHECK_CLOCK_SKEW_SECONDS``    ``300``    how far in the future a CRL's thisUpdate may be
``CRLCHECK_ALLOW_SHA1``            ``false``  ``true``: accept SHA-1-signed CRLs (legacy CAs only)
``CRLCHECK_DOCUMENT_PREFIX``       (none)     keep the catalog of the documents under it
``CRLCHECK_DOCUMENT_FORMAT``       ``json``   ``json`` (version 1) or ``binary`` (version 2)
=================================  =========  ====================================================

Fetcher (CRLs from HTTP distribution points, :mod:`crlcheck.aws.fetcher`):

=================================  =========  ====================================================
variable                           default    meaning
=================================  =========  ====================================================
``CRLCHECK_FETCH_URLS``            required   comma-separated ``http``/``https`` URLs of CRLs
``CRLCHECK_BUCKET``                required   bucket the CRLs are written to
``CRLCHECK_FETCH_PREFIX``          ``crls/``  key prefix: a CRL goes to ``<prefix><name>.crl``
``CRLCHECK_FETCH_MAX_MB``          ``128``    largest CRL downloaded, in MiB (1-1024)
``CRLCHECK_FETCH_TIMEOUT_SECONDS`` ``60``     time limit of one download (more than 0, up to 900)
``CRLCHECK_FETCH_MAX_REDIRECTS``   ``5``      redirects followed at most (0-10)
=================================  =========  ====================================================

Every ``*_SECONDS`` value is a finite number from 0 to :data:`MAX_SECONDS` (10 years): far
beyond any sensible grace, skew or interval, and far inside what ``timedelta`` and the time
arithmetic on a CRL's dates can hold, so a mistyped ``1e300`` is a :class:`SettingsError` naming
the variable, not an ``OverflowError`` on every invocation. Booleans are ``true`` or ``false``
(any case; empty means the default).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from crlcheck.codec import DEFAULT_FORMAT, FORMATS, DocumentFormat
from crlcheck.errors import SettingsError
from crlcheck.fetch import FetchLimits, crl_file_name
from crlcheck.revset import DEFAULT_CLOCK_SKEW

__all__ = [
    "MAX_SECONDS",
    "AuthorizerSettings",
    "FetcherSettings",
    "PreprocessorSettings",
    "ResponseFormat",
    "SettingsError",
]

ResponseFormat = Literal["policy", "simple"]

# S3 bucket naming rules, simplified: 3-63 characters of lowercase letters, digits, dots and
# hyphens, starting and ending with a letter or digit.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_MAX_KEY_BYTES = 1024  # S3's limit on key length.
MAX_SECONDS = 10 * 365 * 24 * 3600  # The largest *_SECONDS value: 10 years (see module notes).


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set", variable=name)
    return value


def _bucket(value: str, name: str) -> str:
    if not _BUCKET_RE.match(value):
        raise SettingsError(f"{name}={value!r} is not a valid S3 bucket name", variable=name)
    return value


def _key(value: str, name: str) -> str:
    if len(value.encode("utf-8")) > _MAX_KEY_BYTES:
        raise SettingsError(f"{name}: key {value[:40]!r}... is too long for S3", variable=name)
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r} is not a number of seconds", variable=name) from None
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise SettingsError(
            f"{name}={text!r} must be a number of seconds from 0 to {MAX_SECONDS} (10 years)",
            variable=name,
        )
    return value


def _prefix(env: Mapping[str, str], name: str) -> str | None:
    """A key prefix ("crls/"), or None when unset; "" is not a prefix here."""
    text = env.get(name, "").strip()
    if not text:
        return None
    if text.startswith("/"):
        raise SettingsError(f"{name}={text!r} must not start with '/'", variable=name)
    return _key(text, name)


def _megabytes(env: Mapping[str, str], name: str) -> int:
    """A memory budget in MiB; by default half the function's memory (or 256 outside Lambda)."""
    text = env.get(name, "").strip()
    if not text:
        memory = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "").strip()
        return max(int(memory) // 2, 16) if memory.isdecimal() else 256
    if not text.isdecimal() or not 1 <= int(text) <= 10240:
        raise SettingsError(
            f"{name}={text!r} must be a whole number of MiB, 1-10240", variable=name
        )
    return int(text)


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    text = env.get(name, "").strip()
    if not text:
        return default
    if text.lower() not in ("true", "false"):
        raise SettingsError(f"{name}={text!r} must be 'true' or 'false'", variable=name)
    return text.lower() == "true"


@dataclass(frozen=True, slots=True)
class AuthorizerSettings:
    """Settings of the authorizer function.

    Attributes:
        bucket: The bucket holding the documents.
        document_keys: The document keys, one per CRL issuer.
        revalidate_seconds: Minimum seconds between two revalidations of a loaded document.
        stale_grace: How long past nextUpdate a CRL may still allow.
        response_format: ``"policy"``, or ``"simple"`` for HTTP API payload 2.0 events.
        document_prefix: With a catalog (:mod:`crlcheck.catalog`), the prefix it lists; then
            ``document_keys`` is empty and documents are loaded per request.
        cache_max_bytes: The memory budget of loaded sets in catalog mode.
        chain_key: Key (in ``bucket``) of a PEM bundle of intermediate CA certificates whose
            revocation is checked too (:mod:`crlcheck.chain`); None checks the leaf only.
        preload: Build the handler and load the documents during the function's init (so that
            a SnapStart snapshot holds them), not on the first request.
    """

    bucket: str
    document_keys: tuple[str, ...]
    revalidate_seconds: float = 0.0
    document_prefix: str | None = None
    cache_max_bytes: int = 256 << 20
    stale_grace: timedelta = timedelta(0)
    response_format: ResponseFormat = "policy"
    chain_key: str | None = None
    preload: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> AuthorizerSettings:
        """Read and validate the authorizer settings.

        Args:
            environ: The variables to read; ``os.environ`` by default.

        Raises:
            SettingsError: A variable is missing or invalid.
        """
        env = _environ(environ)
        bucket = _bucket(_required(env, "CRLCHECK_BUCKET"), "CRLCHECK_BUCKET")
        raw_keys = env.get("CRLCHECK_DOCUMENT_KEYS", "").strip()
        prefix = _prefix(env, "CRLCHECK_DOCUMENT_PREFIX")
        if bool(raw_keys) == (prefix is not None):
            raise SettingsError(
                "set exactly one of CRLCHECK_DOCUMENT_KEYS (a fixed list) and "
                "CRLCHECK_DOCUMENT_PREFIX (a catalog)",
                variable="CRLCHECK_DOCUMENT_KEYS",
            )
        keys = tuple(k.strip() for k in raw_keys.split(",")) if raw_keys else ()
        if not all(keys):
            raise SettingsError(
                "CRLCHECK_DOCUMENT_KEYS has an empty entry", variable="CRLCHECK_DOCUMENT_KEYS"
            )
        if len(set(keys)) != len(keys):
            raise SettingsError(
                "CRLCHECK_DOCUMENT_KEYS lists a key twice", variable="CRLCHECK_DOCUMENT_KEYS"
            )
        for key in keys:
            _key(key, "CRLCHECK_DOCUMENT_KEYS")
        chain_key = env.get("CRLCHECK_CHAIN_KEY", "").strip()
        response_format = env.get("CRLCHECK_RESPONSE_FORMAT", "").strip() or "policy"
        if response_format not in ("policy", "simple"):
            raise SettingsError(
                f"CRLCHECK_RESPONSE_FORMAT={response_format!r} must be 'policy' or 'simple'",
                variable="CRLCHECK_RESPONSE_FORMAT",
            )
        return cls(
            bucket=bucket,
            document_keys=keys,
            document_prefix=prefix,
            cache_max_bytes=_megabytes(env, "CRLCHECK_CACHE_MAX_MB") << 20,
            revalidate_seconds=_seconds(env, "CRLCHECK_REVALIDATE_SECONDS", 0.0),
            stale_grace=timedelta(seconds=_seconds(env, "CRLCHECK_STALE_GRACE_SECONDS", 0.0)),
            response_format="simple" if response_format == "simple" else "policy",
            chain_key=_key(chain_key, "CRLCHECK_CHAIN_KEY") if chain_key else None,
            preload=_flag(env, "CRLCHECK_PRELOAD", default=False),
        )


@dataclass(frozen=True, slots=True)
class PreprocessorSettings:
    """Settings of the preprocessor function.

    Attributes:
        truststore_key: Key of the PEM bundle of certificates that may sign CRLs.
        truststore_bucket: Bucket of the truststore; None means the bucket of each event record.
        output_prefix: Prefix of document keys; empty writes each document next to its CRL.
        clock_skew: How far in the future a CRL's thisUpdate may be.
        allow_sha1: Accept CRLs signed with a SHA-1-based algorithm (legacy CAs only).
        document_prefix: Documents written under this prefix are listed in its catalog.
        document_format: The format of the documents written (docs/FORMAT.md); it also sets
            their suffix, ``.cache.json`` or ``.cache.bin``.
    """

    truststore_key: str
    truststore_bucket: str | None = None
    output_prefix: str = ""
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    allow_sha1: bool = False
    document_prefix: str | None = None
    document_format: DocumentFormat = DEFAULT_FORMAT

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> PreprocessorSettings:
        """Read and validate the preprocessor settings.

        Args:
            environ: The variables to read; ``os.environ`` by default.

        Raises:
            SettingsError: A variable is missing or invalid.
        """
        env = _environ(environ)
        prefix = env.get("CRLCHECK_OUTPUT_PREFIX", "").strip()
        truststore_bucket = env.get("CRLCHECK_TRUSTSTORE_BUCKET", "").strip()
        if prefix.startswith("/"):
            raise SettingsError(
                f"CRLCHECK_OUTPUT_PREFIX={prefix!r} must not start with '/'",
                variable="CRLCHECK_OUTPUT_PREFIX",
            )
        return cls(
            truststore_key=_key(
                _required(env, "CRLCHECK_TRUSTSTORE_KEY"), "CRLCHECK_TRUSTSTORE_KEY"
            ),
            truststore_bucket=(
                _bucket(truststore_bucket, "CRLCHECK_TRUSTSTORE_BUCKET")
                if truststore_bucket
                else None
            ),
            output_prefix=_key(prefix, "CRLCHECK_OUTPUT_PREFIX"),
            clock_skew=timedelta(
                seconds=_seconds(
                    env, "CRLCHECK_CLOCK_SKEW_SECONDS", DEFAULT_CLOCK_SKEW.total_seconds()
                )
            ),
            allow_sha1=_flag(env, "CRLCHECK_ALLOW_SHA1", default=False),
            document_prefix=_prefix(env, "CRLCHECK_DOCUMENT_PREFIX"),
            document_format=_document_format(env),
        )


def _document_format(env: Mapping[str, str]) -> DocumentFormat:
    name = "CRLCHECK_DOCUMENT_FORMAT"
    value = env.get(name, "").strip() or DEFAULT_FORMAT
    for known in FORMATS:
        if value == known:
            return known
    raise SettingsError(
        f"{name}={value!r} must be one of {', '.join(repr(f) for f in FORMATS)}", variable=name
    )


# An S3 object's user metadata is at most 2 KB in all; the fetcher keeps the source URL there.
_MAX_URL = 1024
_MAX_LAMBDA_SECONDS = 900  # Lambda's longest timeout: no download may take longer.


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdecimal() or not low <= int(text) <= high:
        raise SettingsError(
            f"{name}={text!r} must be a whole number from {low} to {high}", variable=name
        )
    return int(text)


def _url(url: str, name: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket.
        hostname = None
    if hostname is None or parts.scheme not in ("http", "https"):
        raise SettingsError(f"{name}: {url[:80]!r} is not an http(s) URL", variable=name)
    # Credentials in a URL would be logged and kept in object metadata: a distribution point
    # is public by definition (RFC 5280 §4.2.1.13), so there is no reason to have them.
    if parts.username is not None or parts.password is not None:
        raise SettingsError(f"{name}: a URL must not carry credentials (user@)", variable=name)
    if len(url) > _MAX_URL or not (url.isascii() and url.isprintable()) or " " in url:
        raise SettingsError(
            f"{name}: {url[:80]!r} must be printable ASCII without spaces, "
            f"at most {_MAX_URL} characters (percent-encode the rest)",
            variable=name,
        )
    return url


@dataclass(frozen=True, slots=True)
class FetcherSettings:
    """Settings of the fetcher function (CRLs from HTTP distribution points).

    Attributes:
        urls: The CRL URLs, in order.
        bucket: The bucket the CRLs are written to.
        prefix: Key prefix; the CRL of ``url`` goes to ``prefix + crl_file_name(url)``.
        limits: Size, time and redirect bounds of each download.
    """

    urls: tuple[str, ...]
    bucket: str
    prefix: str = "crls/"
    limits: FetchLimits = dataclasses.field(default_factory=FetchLimits)

    def key(self, url: str) -> str:
        """The key the CRL of ``url`` is written to (:func:`crlcheck.fetch.crl_file_name`)."""
        return self.prefix + crl_file_name(url)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> FetcherSettings:
        """Read and validate the fetcher settings.

        Args:
            environ: The variables to read; ``os.environ`` by default.

        Raises:
            SettingsError: A variable is missing or invalid, or two URLs would be written to
                the same key.
        """
        env = _environ(environ)
        name = "CRLCHECK_FETCH_URLS"
        urls = tuple(u.strip() for u in _required(env, name).split(","))
        if not all(urls):
            raise SettingsError(f"{name} has an empty entry", variable=name)
        if len(set(urls)) != len(urls):
            raise SettingsError(f"{name} lists a URL twice", variable=name)
        prefix = _prefix(env, "CRLCHECK_FETCH_PREFIX")
        settings = cls(
            urls=tuple(_url(u, name) for u in urls),
            bucket=_bucket(_required(env, "CRLCHECK_BUCKET"), "CRLCHECK_BUCKET"),
            prefix="crls/" if prefix is None else prefix,
            limits=FetchLimits(
                max_bytes=_whole(env, "CRLCHECK_FETCH_MAX_MB", 128, 1, 1024) << 20,
                timeout=_timeout(env, "CRLCHECK_FETCH_TIMEOUT_SECONDS", 60.0),
                max_redirects=_whole(env, "CRLCHECK_FETCH_MAX_REDIRECTS", 5, 0, 10),
            ),
        )
        keys: dict[str, str] = {}
        for url in settings.urls:
            try:
                key = _key(settings.key(url), name)
            except ValueError as exc:
                raise SettingsError(f"{name}: {exc}", variable=name) from None
            if key in keys:
                raise SettingsError(
                    f"{name}: {keys[key]!r} and {url!r} would both be written to {key!r} "
                    "(the name comes from the URL's last path segment)",
                    variable=name,
                )
            keys[key] = url
        return settings


def _timeout(env: Mapping[str, str], name: str, default: float) -> float:
    value = _seconds(env, name, default)
    if not 0 < value <= _MAX_LAMBDA_SECONDS:
        raise SettingsError(
            f"{name}={value!r} must be more than 0 and at most {_MAX_LAMBDA_SECONDS} seconds",
            variable=name,
        )
    return value
