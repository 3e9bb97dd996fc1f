"""AWS Lambda fetcher: download CRLs from HTTP distribution points into the bucket.

Handler: ``fetcher.handler``, run on a schedule by EventBridge (see template.yaml; settings in
:mod:`crlcheck.aws.settings`, the workflow in :mod:`crlcheck.aws.fetcher`). It writes
``<prefix><name>.crl``; the preprocessor, triggered by that write, verifies and publishes it.
The handler built on the first invocation is the only module-level state: it survives warm
invocations.
"""

from __future__ import annotations

from typing import Any

from crlcheck.aws.fetcher import fetcher_from_environ

_handler = fetcher_from_environ()


def handler(event: object, context: object) -> dict[str, Any]:
    """Lambda entry point: fetch every configured CRL; raises if any URL failed."""
    return _handler(event, context)
