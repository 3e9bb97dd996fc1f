"""The one text form crlcheck writes for times: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

__all__ = ["format_utc"]


def format_utc(value: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC (seconds, no fraction).

    Not ``strftime("%Y")``: glibc writes year 1 as ``"1"``, which no reader of this form accepts.
    """
    if value.tzinfo is not UTC:  # Clocks here are UTC already: skip the conversion.
        value = value.astimezone(UTC)
    if value.microsecond:
        value = value.replace(microsecond=0)
    return _format_seconds(value)


# Formatting costs ~1 µs, and the same few times come back on every request (a CRL's
# thisUpdate and nextUpdate, the current second): a small memo of a pure function.
@functools.lru_cache(maxsize=256)
def _format_seconds(value: datetime) -> str:
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z"
    )
