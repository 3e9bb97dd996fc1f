"""Downloading CRLs from HTTP distribution points: conditional, bounded, redirects checked.

Many CAs (AD CS, Vault, public CAs) publish CRLs at ``http://`` distribution points rather than
into S3. :func:`download` fetches one with the validators of the last download
(``If-None-Match``, ``If-Modified-Since``), so an unchanged CRL costs a 304 and no body; bounds
the body (``Content-Length`` first, then the bytes actually read), the time (each socket
operation, and the whole download), and the redirects (at most ``max_redirects``, ``http`` and
``https`` only, each hop's scheme checked before it is followed). What it returns is bytes, not
trusted: the caller hands them to :func:`crlcheck.load_crl` and :func:`crlcheck.verify_crl`
(``crlcheck fetch`` runs ``preprocess`` on each).
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Final

from crlcheck import __version__
from crlcheck.errors import CRLCheckError

__all__ = ["FetchError", "FetchLimits", "Fetched", "Validators", "crl_file_name", "download"]

_SCHEMES: Final = frozenset({"http", "https"})
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_CHUNK: Final = 64 << 10


class FetchError(CRLCheckError):
    """A CRL could not be downloaded.

    Attributes:
        url: The URL that failed (the last hop of a redirect chain).
        status: The HTTP status, when the server answered.
    """

    reason = "crl_fetch_failed"

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server said identifies the last download (sent back as conditions)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Bounds of one download.

    Attributes:
        max_bytes: Largest body accepted (a 1M-entry CRL is about 40 MB).
        timeout: Seconds for the whole download, and for each socket operation.
        max_redirects: Redirects followed at most.
    """

    max_bytes: int = 128 << 20
    timeout: float = 60.0
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of :func:`download`.

    Attributes:
        body: The CRL bytes, or None when the server answered 304 Not Modified.
        url: The URL the answer came from (after redirects).
        validators: The validators to send next time.
    """

    body: bytes | None
    url: str
    validators: Validators


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by :func:`download` itself, one checked hop at a time."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def crl_file_name(url: str) -> str:
    """The file (or S3 object) name a CRL downloaded from ``url`` is stored under.

    The rule: the last segment of the URL's path, percent-decoded; every character other than
    an ASCII letter, digit, ``.``, ``_`` or ``-`` replaced by ``_``; leading dots removed; a
    final ``.crl`` (any case) written ``.crl``, or added when absent. The query and fragment
    are ignored. So ``http://pki.example.com/CertEnroll/Example%20CA.CRL`` becomes
    ``Example_CA.crl``, and ``http://ca.example.com/crl?id=1`` becomes ``crl.crl``. The suffix
    is lowercase because S3 event filters and IAM resource patterns on ``*.crl`` are
    case-sensitive.

    Raises:
        ValueError: The path has no last segment to name the file after (``http://host/``).
    """
    segment = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in segment)
    safe = safe.lstrip(".")
    if safe.lower().endswith(".crl"):
        safe = safe[:-4]
    if not safe:
        raise ValueError(f"cannot name a CRL after {url!r}: its path has no file name")
    return safe + ".crl"


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirects())


def _check_scheme(url: str) -> None:
    if urllib.parse.urlsplit(url).scheme.lower() not in _SCHEMES:
        raise FetchError(f"not an http(s) URL: {url!r}", url=url)


def download(
    url: str,
    validators: Validators = Validators(),
    limits: FetchLimits = FetchLimits(),
    *,
    opener: urllib.request.OpenerDirector | None = None,
) -> Fetched:
    """Download the CRL at ``url`` unless it still has ``validators`` (see the module notes).

    Raises:
        FetchError: Not http(s), too many redirects, an HTTP error status, a body over
            ``max_bytes``, the time limit passed, or a network error.
    """
    opener = opener or _opener()
    deadline = time.monotonic() + limits.timeout
    current = url
    for _hop in range(limits.max_redirects + 1):
        _check_scheme(current)
        request = urllib.request.Request(current, headers=_conditions(validators))  # noqa: S310
        try:
            response = opener.open(request, timeout=limits.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 304:
                return Fetched(None, current, validators)
            if exc.code in _REDIRECTS and exc.headers.get("Location"):
                current = urllib.parse.urljoin(current, exc.headers["Location"])
                continue
            raise FetchError(f"{current}: HTTP {exc.code}", url=current, status=exc.code) from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"{current}: {reason}", url=current) from exc
        with response:
            body = _read_bounded(response, current, limits, deadline)
            headers = response.headers
        return Fetched(
            body,
            current,
            Validators(headers.get("ETag"), headers.get("Last-Modified")),
        )
    raise FetchError(f"{url}: more than {limits.max_redirects} redirects", url=current)


def _conditions(validators: Validators) -> dict[str, str]:
    headers = {"User-Agent": f"crlcheck/{__version__}", "Accept-Encoding": "identity"}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _read_bounded(response: Any, url: str, limits: FetchLimits, deadline: float) -> bytes:
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > limits.max_bytes:
        raise FetchError(
            f"{url}: {length} bytes, over the limit of {limits.max_bytes}", url=url, status=200
        )
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: not downloaded within {limits.timeout} s", url=url)
            chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limits.max_bytes:
                raise FetchError(f"{url}: over the limit of {limits.max_bytes} bytes", url=url)
            chunks.append(chunk)
    except (OSError, ValueError, http.client.HTTPException) as exc:  # Timeouts, truncation.
        raise FetchError(f"{url}: {exc}", url=url) from exc
    return b"".join(chunks)
