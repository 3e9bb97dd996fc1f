"""Lambda entry points that build their handler on the first invocation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from crlcheck.aws.logs import error_record, write_line

__all__ = ["Handler", "lazy_handler"]

Handler = Callable[[object, object], dict[str, Any]]


def lazy_handler(build: Callable[[], Handler], *, name: str) -> Handler:
    """A handler that calls ``build()`` on its first invocation and keeps what it returns.

    Settings are read (and clients created) at the first invocation, not at import, so a
    misconfiguration is one structured log line (``"<name> error"``) and a failed invocation,
    and the build is tried again on the next one.

    Args:
        build: Makes the real handler (from settings).
        name: The function's name in the log line (``preprocessor``, ``fetcher``).
    """
    built: list[Handler] = []
    lock = threading.Lock()

    def handler(event: object, context: object) -> dict[str, Any]:
        if not built:
            with lock:
                if not built:
                    try:
                        built.append(build())
                    except Exception as exc:
                        request_id = getattr(context, "aws_request_id", None)
                        write_line(
                            error_record(
                                f"{name} error",
                                exc,
                                now=datetime.now(UTC),
                                extra={"lambda_request_id": request_id},
                            )
                        )
                        raise
        return built[0](event, context)

    return handler
