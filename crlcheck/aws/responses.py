"""Lambda authorizer responses, deny by default.

Two formats exist (see the API Gateway documentation on Lambda authorizer output):

* the **IAM policy** response, which every API type accepts::

    {"principalId": "...",
     "policyDocument": {"Version": "2012-10-17",
                        "Statement": [{"Action": "execute-api:Invoke",
                                       "Effect": "Allow" | "Deny",
                                       "Resource": "<methodArn or routeArn>"}]},
     "context": {...}}

* the **simple** response, only for HTTP APIs with payload format 2.0 and simple responses
  enabled: ``{"isAuthorized": true | false, "context": {...}}``.

Both builders deny unless told ``allow=True``. ``context`` values reach the backend (and can be
mapped into request headers), so they are restricted to strings, numbers and booleans, and every
string is passed through :func:`sanitize`: control characters (CR and LF above all), Unicode line
separators and format characters are replaced by ``?`` and the length is capped, so a crafted
certificate name cannot inject a header or a log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from crlcheck._text import sanitize
from crlcheck.decision import Decision

__all__ = [
    "MAX_CONTEXT_VALUE",
    "ContextValue",
    "decision_context",
    "policy_response",
    "sanitize",
    "simple_response",
]

ContextValue = str | int | float | bool

MAX_CONTEXT_VALUE: Final = 256


def _clean_context(context: Mapping[str, object] | None) -> dict[str, ContextValue]:
    clean: dict[str, ContextValue] = {}
    for key, value in (context or {}).items():
        if value is None:
            continue  # API Gateway rejects null context values; leave the key out.
        key = sanitize(key, 64)
        if isinstance(value, bool | int | float):
            clean[key] = value
        else:
            clean[key] = sanitize(value, MAX_CONTEXT_VALUE)
    return clean


def policy_response(
    *,
    resource: str,
    principal_id: str = "unknown",
    allow: bool = False,
    context: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Build an IAM policy authorizer response (REST APIs and HTTP APIs).

    Args:
        resource: The ``methodArn``/``routeArn`` the statement applies to (``"*"`` when the
            event had none: a Deny on everything is still a deny).
        principal_id: The caller's identity as logged by API Gateway.
        allow: True to allow; the default is to deny.
        context: Values passed to the backend; ``None`` values are dropped and strings
            sanitised.

    Returns:
        The response dict, ready to return from the handler.
    """
    return {
        "principalId": sanitize(principal_id, 128) or "unknown",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allow is True else "Deny",
                    "Resource": resource,
                }
            ],
        },
        "context": _clean_context(context),
    }


def simple_response(
    *, allow: bool = False, context: Mapping[str, object] | None = None
) -> dict[str, Any]:
    """Build an HTTP API simple authorizer response (payload format 2.0 only).

    Args:
        allow: True to allow; the default is to deny.
        context: As for :func:`policy_response`.

    Returns:
        ``{"isAuthorized": ..., "context": {...}}``.
    """
    return {"isAuthorized": allow is True, "context": _clean_context(context)}


def decision_context(decision: Decision) -> dict[str, ContextValue]:
    """The ``context`` of a response for ``decision``: reason and certificate details.

    Serials are openssl-style hex text (:func:`crlcheck.format_serial`) and CRL numbers decimal
    text: both can exceed what a JSON number holds exactly.
    """
    view = decision.to_dict()
    return _clean_context({name: view[name] for name in _CONTEXT_FIELDS})


# The members of Decision.to_dict() a response carries to the backend.
_CONTEXT_FIELDS: Final = ("reason", "serial", "issuer", "crl_number", "revocation_reason")
