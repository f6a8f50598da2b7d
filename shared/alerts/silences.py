"""Is a target silenced at a given instant? Silences come from the target list
(``shared/target_list/`` reads them): the target's own and the list's global ones.

A one-off ``Window`` covers ``[start, end)``. A ``Recurring`` silence covers, on each of its days,
``from`` up to ``to`` wall-clock time in its zone, ``to`` being on the next day when it is at or
before ``from``; so each occurrence lasts at most a day (23 or 25 hours across a DST change).
Wall-clock times that a DST change skips or repeats read as zoneinfo reads them with ``fold=0``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from shared.targets import WEEKDAYS, Recurring, Silence, Target, Window


def _recurring_active(silence: Recurring, at: dt.datetime) -> bool:
    zone = ZoneInfo(silence.time_zone)
    today = at.astimezone(zone).date()
    # An occurrence lasts at most a day, so only the one starting today or yesterday can cover ``at``.
    for day in (today - dt.timedelta(days=1), today):
        if WEEKDAYS[day.weekday()] not in silence.days:
            continue
        end_day = day if silence.end > silence.start else day + dt.timedelta(days=1)
        start = dt.datetime.combine(day, silence.start, tzinfo=zone)
        end = dt.datetime.combine(end_day, silence.end, tzinfo=zone)
        # Compare in UTC: aware datetimes sharing a tzinfo compare as wall clocks, ignoring DST.
        if start.astimezone(dt.UTC) <= at.astimezone(dt.UTC) < end.astimezone(dt.UTC):
            return True
    return False


def is_active(silence: Silence, at: dt.datetime) -> bool:
    """True if ``silence`` covers the instant ``at`` (timezone-aware)."""
    if at.tzinfo is None:
        raise ValueError("a timezone-aware time is required")
    if isinstance(silence, Window):
        return silence.start <= at < silence.end
    return _recurring_active(silence, at)


def active_silence(silences: Iterable[Silence], at: dt.datetime) -> Silence | None:
    """The first of ``silences`` that covers ``at``, for logs that say why nothing was sent."""
    return next((s for s in silences if is_active(s, at)), None)


def is_silenced(target: Target, global_silences: Iterable[Silence], at: dt.datetime) -> bool:
    """True if the target's own silences or the list's global ones cover ``at``."""
    return active_silence((*target.silences, *global_silences), at) is not None
