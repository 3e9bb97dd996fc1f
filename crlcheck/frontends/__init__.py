"""Front doors beyond API Gateway: ASGI and WSGI middleware and an HTTP decision endpoint.

Each translates its request into ``(certificate, now)``, calls
:meth:`crlcheck.service.Authorizer.check`, and turns the decision into its response: 403 with
a JSON reason for a deny. Documents come from a directory (revalidated with a ``stat`` on every
request, reloaded when a file changes) or from S3, as the Lambda authorizer reads them.

None of this imports a web framework or server: the middleware are plain ASGI and WSGI
callables, and waitress is imported only when :func:`serve` runs.
"""

from __future__ import annotations

from crlcheck.frontends._directory import DirectoryDocumentSource
from crlcheck.frontends._door import (
    RequestError,
    certificate_from_header,
    directory_authorizer,
    s3_authorizer,
)
from crlcheck.frontends.asgi import ASGIMiddleware
from crlcheck.frontends.endpoint import DecisionEndpoint, ServerLimits, serve
from crlcheck.frontends.wsgi import WSGIMiddleware

__all__ = [
    "ASGIMiddleware",
    "DecisionEndpoint",
    "DirectoryDocumentSource",
    "RequestError",
    "ServerLimits",
    "WSGIMiddleware",
    "certificate_from_header",
    "directory_authorizer",
    "s3_authorizer",
    "serve",
]
