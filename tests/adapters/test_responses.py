"""crlcheck.responses: deny by default, context values safe to echo."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crlcheck import Decision, Reason
from crlcheck._text import _UNSAFE
from crlcheck.aws.responses import (
    MAX_CONTEXT_VALUE,
    decision_context,
    decision_response,
    policy_response,
    sanitize,
    simple_response,
)

ARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/hello"


def _effect(response: dict[str, object]) -> str:
    document = response["policyDocument"]
    assert isinstance(document, dict)
    (statement,) = document["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    effect: str = statement["Effect"]
    return effect


def test_policy_response_denies_by_default() -> None:
    response = policy_response(resource=ARN)
    assert _effect(response) == "Deny"
    assert response["principalId"] == "unknown"
    assert response["context"] == {}
    assert response["policyDocument"]["Version"] == "2012-10-17"
    assert response["policyDocument"]["Statement"][0]["Resource"] == ARN


def test_simple_response_denies_by_default() -> None:
    assert simple_response() == {"isAuthorized": False, "context": {}}


@pytest.mark.parametrize("truthy", [1, "yes", [1]])
def test_only_true_allows(truthy: object) -> None:
    """A truthy non-bool (a bug upstream) must not turn into an allow."""
    assert _effect(policy_response(resource=ARN, allow=truthy)) == "Deny"  # type: ignore[arg-type]
    assert simple_response(allow=truthy)["isAuthorized"] is False  # type: ignore[arg-type]


def test_allow() -> None:
    assert _effect(policy_response(resource=ARN, allow=True, principal_id="01")) == "Allow"
    assert simple_response(allow=True)["isAuthorized"] is True


def test_context_drops_none_and_keeps_scalars() -> None:
    context = {"a": None, "b": 1, "c": True, "d": 1.5, "e": "text", "f": b"bytes"}
    response = simple_response(context=context)
    assert response["context"] == {"b": 1, "c": True, "d": 1.5, "e": "text", "f": "b'bytes'"}


@pytest.mark.parametrize(
    "attack",
    [
        "CN=evil\r\nX-Injected: 1",
        "CN=evil\nSet-Cookie: a=b",
        "CN=evil\u2028X-Injected: 1",
        "CN=evil\x00\x1b[31m",
        "CN=\u202eevil",
        "CN=\ud800lone surrogate",
    ],
)
def test_header_injection_does_not_pass(attack: str) -> None:
    response = policy_response(resource=ARN, principal_id=attack, context={"issuer": attack})
    for value in (response["principalId"], response["context"]["issuer"]):
        assert "\r" not in value
        assert "\n" not in value
        assert "\u2028" not in value
        assert "\x00" not in value
        assert "\u202e" not in value
        assert "\ud800" not in value
        value.encode("utf-8")  # No lone surrogates left.


def test_long_values_are_capped() -> None:
    value = sanitize("x" * 10_000)
    assert len(value) == MAX_CONTEXT_VALUE
    assert value.endswith("...")
    assert sanitize("short") == "short"


def test_non_ascii_printable_text_is_kept() -> None:
    assert sanitize("CN=Müller Gmbh, O=Société") == "CN=Müller Gmbh, O=Société"


@given(st.text(), st.integers(min_value=4, max_value=500))
def test_sanitize_output_is_always_safe(text: str, limit: int) -> None:
    value = sanitize(text, limit)
    assert len(value) <= limit
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value)
    assert "\u2028" not in value
    assert "\u2029" not in value
    value.encode("utf-8")


def _sanitize_by_regex(text: str, limit: int) -> str:
    """sanitize without its fast path for short printable ASCII (what it did before)."""
    text = _UNSAFE.sub("?", text)
    return text if len(text) <= limit else text[: max(limit - 3, 1)] + "..."


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)), st.integers(min_value=4, max_value=40))
def test_sanitize_fast_path_changes_nothing(text: str, limit: int) -> None:
    # Short printable ASCII is returned as it is; everything else still goes through the regex.
    assert sanitize(text, limit) == _sanitize_by_regex(text, limit)


@pytest.mark.parametrize(
    "text",
    ["a" * 256, "a" * 257, "x\x7f", "x\x00", "tab\there", "\x1b[31m", "ok \u2028", "\ufeffBOM"],
)
def test_sanitize_fast_path_boundaries(text: str) -> None:
    assert sanitize(text) == _sanitize_by_regex(text, MAX_CONTEXT_VALUE)


def test_decision_context_for_a_revocation() -> None:
    decision = Decision(
        False,
        Reason.REVOKED,
        "certificate is revoked",
        serial=-1,
        issuer="CN=Test CA",
        crl_number=2**100,
        revocation_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        revocation_reason="keyCompromise",
    )
    assert decision_context(decision) == {
        "reason": "revoked",
        "serial": "-01",
        "issuer": "CN=Test CA",
        "crl_number": str(2**100),
        "revocation_reason": "keyCompromise",
    }


def test_decision_context_without_certificate_details() -> None:
    context = decision_context(Decision.deny(Reason.BAD_REQUEST, "no certificate"))
    assert context == {"reason": "bad_request"}


@pytest.mark.parametrize("simple", [False, True])
@pytest.mark.parametrize(
    "decision",
    [
        Decision(
            False,
            Reason.REVOKED,
            "m",
            serial=-(2**1100),
            issuer="CN=x\r\ny" * 40,
            crl_number=2**900,
            revocation_reason="keyCompromise\n",
        ),
        Decision(True, Reason.NOT_REVOKED, "m", serial=5, issuer="CN=Test CA", crl_number=1),
        Decision(True, Reason.NOT_REVOKED, "m"),  # allowed, no serial (never made, but safe)
        Decision.deny(Reason.BAD_REQUEST, "no certificate"),
    ],
)
def test_decision_response_is_what_the_builders_make(decision: Decision, simple: bool) -> None:
    # The reference: the public builders over the to_dict() view (the route before the template).
    view = decision.to_dict()
    context = {
        name: view[name]
        for name in ("reason", "serial", "issuer", "crl_number", "revocation_reason")
    }
    if simple:
        expected = simple_response(allow=decision.allowed, context=context)
    else:
        principal = view["serial"] if view["serial"] is not None else "unknown"
        expected = policy_response(
            resource="arn:x", principal_id=principal, allow=decision.allowed, context=context
        )
    assert decision_response(decision, resource="arn:x", simple=simple) == expected
    assert decision_context(decision) == expected["context"]
