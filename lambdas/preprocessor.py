"""AWS Lambda preprocessor: turn each uploaded CRL into its crlcheck document.

Handler: ``preprocessor.handler``, triggered by S3 ``ObjectCreated`` events on ``*.crl`` (see
template.yaml; settings in :mod:`crlcheck.aws.settings`, the workflow in
:mod:`crlcheck.aws.preprocessor`). The handler built on the first invocation is the only
module-level state: it survives warm invocations.
"""

from __future__ import annotations

from typing import Any

from crlcheck.aws.preprocessor import preprocessor_from_environ

_handler = preprocessor_from_environ()


def handler(event: object, context: object) -> dict[str, Any]:
    """Lambda entry point: preprocess every CRL of an S3 event; raises if any was refused."""
    return _handler(event, context)
