"""crlcheck.logs: one JSON line per record, valid embedded metric format, nothing unsafe."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest

from crlcheck import Decision, Reason, load_document
from crlcheck.aws.events import parse_authorizer_event
from crlcheck.aws.logs import NAMESPACE, decision_record, emf, error_record, write_line
from crlcheck.cache import RefreshFailure, RefreshReport
from tests.pki import CA, NOW, T0
from tests.serverless import load_event, make_document


def _line(record: dict[str, Any]) -> dict[str, Any]:
    stream = io.StringIO()
    write_line(record, stream)
    text = stream.getvalue()
    assert text.endswith("\n")
    assert text.count("\n") == 1  # One record, one line.
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _check_emf(record: dict[str, Any]) -> dict[str, str]:
    """Check the EMF rules we rely on; return {metric name: unit}."""
    aws = record["_aws"]
    assert isinstance(aws["Timestamp"], int)
    units: dict[str, str] = {}
    for directive in aws["CloudWatchMetrics"]:
        assert directive["Namespace"] == NAMESPACE
        for dimension_set in directive["Dimensions"]:
            for name in dimension_set:
                assert isinstance(record[name], str)  # Dimension values are root members.
        for metric in directive["Metrics"]:
            assert isinstance(record[metric["Name"]], int | float)
            units[metric["Name"]] = metric["Unit"]
    return units


def test_write_line_sanitises_strings() -> None:
    record = _line({"a": "x\r\ny", "b": ["\ud800", {"c\n": "z" * 5000}], "t": NOW, "n": None})
    assert record["a"] == "x??y"
    assert record["b"][0] == "?"
    assert len(record["b"][1]["c?"]) == 1024
    assert record["t"] == "2026-01-15T00:00:00Z"
    assert record["n"] is None


def test_emf_members() -> None:
    members = emf(
        NOW,
        [("Decisions", 1, "Count")],
        dimensions={"Outcome": "deny"},
        dimension_sets=(("Outcome",),),
    )
    record = _line(members)
    assert _check_emf(record) == {"Decisions": "Count"}
    assert record["_aws"]["Timestamp"] == int(NOW.timestamp() * 1000)
    assert record["Outcome"] == "deny"


def test_decision_record(ca: CA) -> None:
    pem = ca.issue_cert("logged", serial=0xABCD).pem
    event = parse_authorizer_event(load_event("rest-request-mtls.json", pem))
    revset = load_document(make_document(ca, ca.make_crl([0xABCD], number=3), now=NOW))
    decision = Decision(
        False,
        Reason.REVOKED,
        "certificate is revoked",
        serial=0xABCD,
        issuer="CN=x\r\nInjected: 1",
        crl_number=3,
        revocation_date=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
        revocation_reason="keyCompromise",
    )
    report = RefreshReport(
        checked=("a", "b"),
        reloaded=("a",),
        failures=(
            RefreshFailure("b", "store_unavailable", "SlowDown", retryable=True, kept=True),
            RefreshFailure(
                "c", "document_invalid", "bad", retryable=False, kept=True, stage="load"
            ),
        ),
    )
    record = _line(
        decision_record(
            decision, now=NOW, event=event, report=report, sets=[revset], extra={"duration_ms": 1.5}
        )
    )
    assert _check_emf(record) == {
        "Decisions": "Count",
        "Reloads": "Count",
        "S3Errors": "Count",
        "CRLAgeSeconds": "Seconds",
    }
    assert record["Outcome"] == "deny"
    assert record["Reason"] == "revoked"
    assert (record["Decisions"], record["Reloads"], record["S3Errors"]) == (1, 1, 1)
    assert record["CRLAgeSeconds"] == (NOW - T0).total_seconds()
    assert record["serial"] == "ABCD"
    assert record["issuer"] == "CN=x??Injected: 1"
    assert record["crl_number"] == "3"
    assert record["revocation_date"] == "2025-12-01T00:00:00Z"
    assert record["event_kind"] == "rest"
    assert record["request_id"] == "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    assert record["documents"]["failures"][0]["key"] == "b"
    assert record["duration_ms"] == 1.5
    assert record["level"] == "INFO"
    text = json.dumps(record)
    assert "BEGIN CERTIFICATE" not in text
    assert pem.decode().splitlines()[1] not in text


@pytest.mark.parametrize("with_sets", [True, False])
def test_decision_record_metrics_are_what_emf_makes(ca: CA, with_sets: bool) -> None:
    # decision_record builds its EMF members directly; they must be what emf() makes for the
    # Decisions directive and the store directive, merged, with the members in the same order.
    revset = load_document(make_document(ca, ca.make_crl([1], number=3), now=NOW))
    sets = [revset] if with_sets else []
    report = RefreshReport(checked=("a",), reloaded=("a",), failures=())
    decision = Decision(True, Reason.NOT_REVOKED, "certificate is not revoked", serial=5)
    record = decision_record(decision, now=NOW, report=report, sets=sets, extra={"x": 1})
    decisions = emf(
        NOW,
        [("Decisions", 1, "Count")],
        dimensions={"Outcome": "allow", "Reason": "not_revoked"},
        dimension_sets=(("Outcome",), ("Reason",)),
    )
    store: list[tuple[str, float, str]] = [("Reloads", 1, "Count"), ("S3Errors", 0, "Count")]
    if with_sets:
        store.append(("CRLAgeSeconds", (NOW - T0).total_seconds(), "Seconds"))
    second = emf(NOW, store)
    expected = {**decisions, **second}
    expected["_aws"] = {
        "Timestamp": decisions["_aws"]["Timestamp"],
        "CloudWatchMetrics": decisions["_aws"]["CloudWatchMetrics"]
        + second["_aws"]["CloudWatchMetrics"],
    }
    assert list(record)[-len(expected) :] == list(expected)
    assert {k: record[k] for k in expected} == expected
    assert _line(record)["_aws"] == expected["_aws"]


def test_write_line_cleans_every_container_type() -> None:
    class Text(str):
        pass

    record = _line(
        {
            "tuple": ("a\n", 1),
            "subclass": Text("b\r"),
            "nested": {"k\u2028": [{"v": "\x1b"}]},
            "number": 2.5,
            "flag": True,
            "other": Reason.REVOKED,
            "object": ValueError("c\n"),
        }
    )
    assert record["tuple"] == ["a?", 1]
    assert record["subclass"] == "b?"
    assert record["nested"] == {"k?": [{"v": "?"}]}
    assert (record["number"], record["flag"], record["other"]) == (2.5, True, "revoked")
    assert record["object"] == "c?"


def test_decision_record_without_sets_has_no_age() -> None:
    record = _line(decision_record(Decision.deny(Reason.STORE_UNAVAILABLE, "x"), now=NOW))
    units = _check_emf(record)
    assert "CRLAgeSeconds" not in units
    assert record["level"] == "ERROR"
    assert record["Reloads"] == 0


def test_error_record() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError as exc:
        record = _line(error_record("failed", exc, now=NOW, extra={"k": "v"}))
    assert record["level"] == "ERROR"
    assert record["error_type"] == "ValueError"
    assert record["error"] == "boom?second line"
    assert any("raise ValueError" in line for line in record["traceback"])
    assert record["k"] == "v"


def test_decision_record_is_the_line_the_full_cleaning_makes(ca: CA) -> None:
    # decision_record sanitises only the untrusted members and write_line then serialises the
    # record as it is: the line must be what cleaning every string of the record would give.
    hostile = "x\r\nInjected: 1\u2028\x1b[31m" + "é" * 2000
    pem = ca.issue_cert("logged", serial=0xABCD).pem
    raw = load_event("rest-request-mtls.json", pem)
    raw["methodArn"] = hostile
    raw["requestContext"]["requestId"] = hostile
    raw["requestContext"]["identity"]["sourceIp"] = hostile
    event = parse_authorizer_event(raw)
    revset = load_document(make_document(ca, ca.make_crl([0xABCD], number=3), now=NOW))
    decision = Decision(
        False,
        Reason.REVOKED,
        hostile,
        serial=-(2**2000),
        issuer=hostile,
        crl_number=3,
        revocation_date=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
        revocation_reason=hostile,
        certificate=hostile,
    )
    report = RefreshReport(
        checked=(hostile,),
        reloaded=(hostile,),
        failures=(RefreshFailure(hostile, hostile, hostile, retryable=True, kept=True),),
        unusable=(hostile,),
    )
    extra = {hostile: hostile, "nested": {"k": [hostile, 1.5]}, "n": None}
    record = decision_record(
        decision, now=NOW, event=event, report=report, sets=[revset], extra=extra
    )
    fast, full = io.StringIO(), io.StringIO()
    write_line(record, fast)
    write_line(dict(record), full)  # A plain dict: every string goes through the cleaning.
    assert fast.getvalue() == full.getvalue()
    line = json.loads(fast.getvalue())
    assert line["issuer"].startswith("x??Injected: 1??[31m")
    assert line["detail"] == line["issuer"] == line["resource"] == line["source_ip"]
    assert "\n" not in fast.getvalue()[:-1]
