"""Parse ``Retry-After`` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, clamped to a sane range.

ARM sends delta-seconds; an HTTP-date is legal too, so both are read. Missing, negative or
unreadable values get the default; huge ones are clamped so a bad header cannot park a check for
days, and tiny ones so a zero cannot turn polling into a busy loop.
"""

from __future__ import annotations

import datetime as dt
import email.utils

DEFAULT_S = 10
MIN_S = 1
MAX_S = 300


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None, default: int = DEFAULT_S,
                        minimum: int = MIN_S, maximum: int = MAX_S) -> int:
    """Seconds to wait before the next request, from a ``Retry-After`` header value."""
    if value is None or not value.strip():
        return default
    text = value.strip()
    if text.isascii() and text.isdigit():  # RFC 9110 DIGIT is ASCII only
        return max(minimum, min(maximum, int(text)))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return default
    if when.tzinfo is None:  # an HTTP-date is always GMT; "-0000" parses naive
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    seconds = int((when - now).total_seconds() + 0.999)
    return max(minimum, min(maximum, seconds))
