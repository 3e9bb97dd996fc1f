"""AWS Lambda authorizer: allow an mTLS client certificate unless a fresh CRL revokes it.

Handler: ``authorizer.handler`` (see template.yaml; settings in :mod:`crlcheck.aws.settings`,
the workflow in :mod:`crlcheck.aws.authorizer`). The handler built on the first invocation is
the only module-level state: it survives warm invocations.
"""

from __future__ import annotations

from typing import Any

import crlcheck.aws.s3  # noqa: F401 (imported during init, not on the first request)
from crlcheck.aws.authorizer import authorizer_from_environ

_handler = authorizer_from_environ()


def handler(event: object, context: object) -> dict[str, Any]:
    """Lambda entry point: an IAM policy (or simple) response. Never raises."""
    return _handler(event, context)
