"""What the retries of the arXiv fetcher and the LLM client share: reading a server's ``Retry-After``, and
telling a host name that does not resolve (never worth retrying) from a passing failure."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or an HTTP date); None if absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: the caller falls back to its own back-off
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def is_name_resolution_failure(exc: BaseException) -> bool:
    """Whether a failure comes from looking up a host name (``socket.gaierror``) somewhere down its chain.

    A typo in a URL or no network at all: retrying does not mend it, it only keeps the user
    waiting. HTTP clients wrap the lookup's error (requests in urllib3's, openai in httpx's):
    arguments, ``reason`` and causes are followed.
    """
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        if isinstance(error, socket.gaierror):
            return True
        seen.add(id(error))
        pending += [error.__cause__, error.__context__, getattr(error, "reason", None), *error.args]
    return False
