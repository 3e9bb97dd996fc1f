"""Structured JSON log lines and CloudWatch embedded metrics (EMF), without dependencies.

Each line written by :func:`write_line` is one JSON object on one line. In Lambda, stdout goes to
CloudWatch Logs as one log event per line; a line whose ``_aws`` member follows the embedded
metric format is also turned into metrics by CloudWatch, so the authorizer writes ONE line per
decision that is both the decision's log record and its metrics (namespace ``crlcheck``):

==================  ========  ======================  =========================================
metric              unit      dimensions              value
==================  ========  ======================  =========================================
``Decisions``       Count     Outcome; Reason         1 per decision (Outcome ``allow``/``deny``)
``Reloads``         Count     (none)                  documents reloaded for this request
``S3Errors``        Count     (none)                  failed document reads for this request
``CRLAgeSeconds``   Seconds   (none)                  age of the oldest loaded CRL (thisUpdate)
``Preprocessed``    Count     Outcome                 1 per S3 record (published/unchanged/refused)
``Fetched``         Count     Outcome                 1 per fetched URL (updated/unchanged/failed)
==================  ========  ======================  =========================================

Strings are passed through :func:`crlcheck._text.sanitize` (no control characters, capped
length) before encoding, and the certificate PEM is never part of a record.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TextIO

import orjson

from crlcheck._text import sanitize
from crlcheck._time import format_utc
from crlcheck.aws.events import AuthorizerEvent
from crlcheck.cache import RefreshReport
from crlcheck.decision import Decision
from crlcheck.errors import Reason
from crlcheck.revset import RevocationSet

__all__ = [
    "NAMESPACE",
    "Metric",
    "decision_record",
    "emf",
    "error_record",
    "write_line",
]

NAMESPACE: Final = "crlcheck"
_MAX_STRING = 1024

Metric = tuple[str, float, str]
"""``(name, value, unit)`` of one metric, e.g. ``("Decisions", 1, "Count")``."""


class _Sanitised(dict[str, Any]):
    """A record whose every string :func:`decision_record` has sanitised or made itself.

    :func:`write_line` serialises it as it is, in one ``orjson.dumps``: the untrusted members
    (the issuer, the detail, the event's fields, failure messages, ``extra``) were passed
    through :func:`sanitize` with the limits :func:`_clean` applies, and the rest (constant
    keys, reason codes, hex serials, decimal numbers, UTC times, the EMF block) holds nothing to
    sanitise. The record is then the same JSON, member for member, as :func:`_clean` would
    make of it, at a fraction of the cost (~88 strings are not walked on every request).
    Whoever adds a member to such a record after :func:`decision_record` must sanitise it.
    """


class _Constant(dict[str, Any]):
    """A member :mod:`crlcheck.logs` builds from its own constant strings and numbers only.

    :func:`_clean` passes it through as it is: there is nothing in it to sanitise, and the EMF
    block of every decision record is most of the record's strings.
    """


def _clean(value: object) -> object:
    # Exact types first (the records are made of plain dicts, lists, strings and numbers).
    kind = type(value)
    if kind is str:
        return sanitize(value, _MAX_STRING)
    if value is None or kind is int or kind is bool or kind is float or kind is _Constant:
        return value
    if kind is dict:
        clean: dict[str, object] = {}
        for key, item in value.items():  # type: ignore[attr-defined]
            # Most keys and values are short printable ASCII, which sanitize returns as they
            # are: test that here and save the calls (a record has ~60 strings).
            if not (type(key) is str and len(key) <= 128 and key.isascii() and key.isprintable()):
                key = sanitize(key, 128)
            if type(item) is str and len(item) <= _MAX_STRING and item.isascii():
                clean[key] = item if item.isprintable() else sanitize(item, _MAX_STRING)
            else:
                clean[key] = _clean(item)
        return clean
    if isinstance(value, Mapping):
        return {sanitize(k, 128): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bool | int | float | datetime):
        return value
    return sanitize(value, _MAX_STRING)


def write_line(record: Mapping[str, object], stream: TextIO | None = None) -> None:
    """Write ``record`` as one JSON line (strings sanitised) to ``stream`` (stdout by default)."""
    out = sys.stdout if stream is None else stream
    payload = record if type(record) is _Sanitised else _clean(record)
    line = orjson.dumps(payload, option=orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE)
    out.write(line.decode("utf-8"))
    out.flush()


def emf(
    timestamp: datetime,
    metrics: Iterable[Metric],
    *,
    dimensions: Mapping[str, str] | None = None,
    dimension_sets: Sequence[Sequence[str]] = ((),),
) -> dict[str, Any]:
    """The members that make a log record carry embedded metrics.

    Args:
        timestamp: The metrics' timestamp (aware datetime).
        metrics: ``(name, value, unit)`` triples; all share ``dimension_sets``.
        dimensions: Dimension values, by name (they become members of the record).
        dimension_sets: Which dimension combinations to publish; ``((),)`` publishes the
            metrics without dimensions.

    Returns:
        A dict to merge into the log record (``_aws`` plus the metric and dimension members).
    """
    metrics = list(metrics)
    members: dict[str, Any] = dict(dimensions or {})
    members.update({name: value for name, value, _unit in metrics})
    members["_aws"] = {
        "Timestamp": int(timestamp.timestamp() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": NAMESPACE,
                "Dimensions": [list(s) for s in dimension_sets],
                "Metrics": [{"Name": name, "Unit": unit} for name, _value, unit in metrics],
            }
        ],
    }
    return members


def _iso(value: datetime | None) -> str | None:
    return None if value is None else format_utc(value)


def decision_record(
    decision: Decision,
    *,
    now: datetime,
    event: AuthorizerEvent | None = None,
    report: RefreshReport | None = None,
    sets: Sequence[RevocationSet] = (),
    extra: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The log record (with EMF metrics) of one authorizer decision.

    Args:
        decision: The decision.
        now: The decision time.
        event: The parsed event, when it parsed.
        report: What the cache refresh before the decision did, if it ran.
        sets: The revocation sets the decision was made against (for ``CRLAgeSeconds``).
        extra: More members (e.g. the Lambda request id, the duration).

    Returns:
        The record for :func:`write_line`.
    """
    failures = report.failures if report is not None else ()
    store_errors = sum(1 for f in failures if f.stage == "fetch")
    severe = decision.reason in (Reason.STORE_UNAVAILABLE, Reason.INTERNAL_ERROR)
    view = decision.to_dict()
    # The members of the view that carry outside text; the others are made by to_dict() from
    # numbers, dates and the Reason enum.
    for name in _UNTRUSTED_VIEW_MEMBERS:
        value = view[name]
        if value is not None:
            view[name] = _text(value)
    view["detail"] = _text(view.pop("message"))
    record = _Sanitised(level="ERROR" if severe else "INFO", message="decision", time=_iso(now))
    record.update(view)
    if event is not None:
        record["event_kind"] = event.kind.value
        record["resource"] = _text(event.resource_arn)
        record["request_id"] = _text(event.request_id)
        record["source_ip"] = _text(event.source_ip)
    if report is not None:
        record["documents"] = {
            "checked": len(report.checked),
            "reloaded": [_text(key) for key in report.reloaded],
            "unusable": [_text(key) for key in report.unusable],
            "failures": [
                {
                    "key": _text(f.key),
                    "reason": _text(f.reason),
                    "message": _text(f.message),
                    "kept": f.kept,
                }
                for f in failures
            ],
        }
    if extra:
        cleaned = _clean(dict(extra))
        assert isinstance(cleaned, dict)  # noqa: S101 (a dict cleans into a dict)
        record.update(cleaned)
    # The members that emf() would make for the Decisions directive and for the store one,
    # merged, in the same order; built directly: the EMF block is made of constants only.
    record["Outcome"] = "allow" if decision.allowed else "deny"
    record["Reason"] = decision.reason.value
    record["Decisions"] = 1
    record["_aws"] = _Constant(
        Timestamp=int(now.timestamp() * 1000),
        CloudWatchMetrics=list(_EMF_WITH_AGE if sets else _EMF_WITHOUT_AGE),
    )
    record["Reloads"] = len(report.reloaded) if report is not None else 0
    record["S3Errors"] = store_errors
    if sets:
        oldest = min(s.info.this_update for s in sets)
        record["CRLAgeSeconds"] = max((now - oldest).total_seconds(), 0.0)
    return record


def _text(value: object) -> str | None:
    """An untrusted member, sanitised as :func:`_clean` would (None stays None)."""
    if value is None:
        return None
    if type(value) is str and len(value) <= _MAX_STRING and value.isascii():
        return value if value.isprintable() else sanitize(value, _MAX_STRING)
    return sanitize(value, _MAX_STRING)


# Decision.to_dict() members that can hold outside text (the issuer's and the chain's names, a
# revocation reason given by the caller); "message" is handled apart (it becomes "detail").
_UNTRUSTED_VIEW_MEMBERS: Final = ("issuer", "revocation_reason", "certificate")


def _emf_directives(with_age: bool) -> tuple[_Constant, ...]:
    store_metrics = [{"Name": "Reloads", "Unit": "Count"}, {"Name": "S3Errors", "Unit": "Count"}]
    if with_age:
        store_metrics.append({"Name": "CRLAgeSeconds", "Unit": "Seconds"})
    return (
        _Constant(
            Namespace=NAMESPACE,
            Dimensions=[["Outcome"], ["Reason"]],
            Metrics=[{"Name": "Decisions", "Unit": "Count"}],
        ),
        _Constant(Namespace=NAMESPACE, Dimensions=[[]], Metrics=store_metrics),
    )


# The CloudWatchMetrics directives of a decision record, built once: constants only, shared by
# every record (each record gets its own list of them; the directives are never modified).
_EMF_WITH_AGE: Final = _emf_directives(True)
_EMF_WITHOUT_AGE: Final = _emf_directives(False)


def error_record(
    message: str,
    exc: BaseException,
    *,
    now: datetime,
    extra: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """A log record for an exception: its type, message and the last lines of its traceback.

    A traceback shows source lines and exception messages, never local variables, so the
    certificate PEM does not end up in it.
    """
    lines = [
        line.rstrip()
        for chunk in traceback.format_exception(exc)
        for line in chunk.splitlines()
        if line.strip()
    ]
    record: dict[str, Any] = {
        "level": "ERROR",
        "message": message,
        "time": _iso(now),
        "error_type": type(exc).__name__,
        "error": str(exc),
        "traceback": lines[-40:],
    }
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        record["error_reason"] = reason
    record.update(extra or {})
    return record
