"""The one text form crlcheck writes for times: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_utc"]


def format_utc(value: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC (seconds, no fraction).

    Not ``strftime("%Y")``: glibc writes year 1 as ``"1"``, which no reader of this form accepts.
    """
    if value.tzinfo is not UTC:  # Clocks here are UTC already: skip the conversion.
        value = value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z"
    )
