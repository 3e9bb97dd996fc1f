"""The one sanitiser: text that is safe in a response context, a header or a log line."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MAX_TEXT", "sanitize"]

MAX_TEXT: Final = 256

# C0 and C1 controls (CR, LF, NUL, ESC, NEL...), lone surrogates (which JSON encoders refuse),
# zero-width and bidirectional format characters, line/paragraph separators, BOM, specials.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ud800-\udfff\ufeff\ufff9-\ufffb]"
)


def sanitize(value: object, limit: int = MAX_TEXT) -> str:
    """Make a value safe to echo into a response context, a header or a log line.

    Args:
        value: Any value; non-strings are converted with ``str``.
        limit: Maximum length of the result, in characters (at least 4).

    Returns:
        The text with unsafe characters replaced by ``?``, truncated to ``limit`` characters
        (ending in ``...`` when it was cut).
    """
    text = value if type(value) is str else str(value)
    # Printable ASCII holds none of the unsafe characters (C0 controls and DEL are not
    # printable); most values are such short text and are returned as they are.
    if len(text) <= limit and text.isascii() and text.isprintable():
        return text
    text = _UNSAFE.sub("?", text)
    if len(text) > limit:
        text = text[: max(limit - 3, 1)] + "..."
    return text
