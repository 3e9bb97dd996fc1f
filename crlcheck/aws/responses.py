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
from crlcheck.serial import format_serial

__all__ = [
    "MAX_CONTEXT_VALUE",
    "ContextValue",
    "decision_context",
    "decision_response",
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
    return _policy(resource, principal_id, allow is True, _clean_context(context))


def _policy(
    resource: str, principal_id: str, allow: bool, context: dict[str, ContextValue]
) -> dict[str, Any]:
    """The policy template, filled in: only the principal, the effect, the resource and the
    (already clean) context vary from one response to the next."""
    return {
        "principalId": sanitize(principal_id, 128) or "unknown",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allow else "Deny",
                    "Resource": resource,
                }
            ],
        },
        "context": context,
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


def decision_response(decision: Decision, *, resource: str, simple: bool = False) -> dict[str, Any]:
    """The response for ``decision``: a policy on ``resource``, or a simple response.

    What :func:`policy_response` (principal: the serial, or ``"unknown"``) or
    :func:`simple_response` give with :func:`decision_context`, without cleaning the context
    twice.

    Args:
        decision: The decision; only ``decision.allowed is True`` allows.
        resource: The ``methodArn``/``routeArn`` (policy responses).
        simple: True for the simple response (HTTP API payload 2.0 with simple responses).
    """
    context = decision_context(decision)
    if simple:
        return {"isAuthorized": decision.allowed is True, "context": context}
    principal = format_serial(decision.serial) if decision.serial is not None else "unknown"
    return _policy(resource, principal, decision.allowed is True, context)


def decision_context(decision: Decision) -> dict[str, ContextValue]:
    """The ``context`` of a response for ``decision``: reason and certificate details.

    Serials are openssl-style hex text (:func:`crlcheck.format_serial`) and CRL numbers decimal
    text: both can exceed what a JSON number holds exactly. The members are those of
    :meth:`Decision.to_dict` named in ``_CONTEXT_FIELDS``, in that order, None left out, every
    value sanitised; read from the decision directly (to_dict formats dates a context does not
    carry).
    """
    context: dict[str, ContextValue] = {
        "reason": sanitize(decision.reason.value, MAX_CONTEXT_VALUE)
    }
    if decision.serial is not None:
        context["serial"] = sanitize(format_serial(decision.serial), MAX_CONTEXT_VALUE)
    if decision.issuer is not None:
        context["issuer"] = sanitize(decision.issuer, MAX_CONTEXT_VALUE)
    if decision.crl_number is not None:
        context["crl_number"] = sanitize(str(decision.crl_number), MAX_CONTEXT_VALUE)
    if decision.revocation_reason is not None:
        context["revocation_reason"] = sanitize(decision.revocation_reason, MAX_CONTEXT_VALUE)
    return context


# The members of Decision.to_dict() a response carries to the backend.
_CONTEXT_FIELDS: Final = ("reason", "serial", "issuer", "crl_number", "revocation_reason")
