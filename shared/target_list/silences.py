"""Silences (maintenance windows) in the target list: one-off (start, end) or recurring (days,
from, to), with their time zones; ``silence_to_dict`` writes one back in the file's format."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache
from typing import Any, cast

from shared.target_list.document import _show
from shared.target_list.patterns import (
    CLOCK,
    DATE_TIME,
    MAX_SILENCES,
    RECURRING_KEYS,
    TIME_ZONE,
    UTC_OFFSET,
    WINDOW_KEYS,
)
from shared.target_list.reader import _Check, _join
from shared.targets import WEEKDAYS, Recurring, Silence, Window


@cache
def _known_zones() -> frozenset[str]:
    # The installed IANA database's names; never a path such as "localtime" or "posixrules".
    return frozenset(zoneinfo.available_timezones())


def _time_zone(c: _Check, path: str, value: Any) -> str | None:
    text = c.matching(path, value, TIME_ZONE, "must be an IANA time zone name such as Europe/Berlin or UTC",
                      max_len=64)
    if text is not None and text not in _known_zones():
        c.bad(path, f"is not a known time zone; use an IANA name such as Europe/Berlin or UTC (got {_show(text)})")
        return None
    return text


def _quote_hint(value: Any) -> str:
    # Unquoted in YAML, 2026-12-05T20:00:00+01:00 is read as a date and 22:00 as the number 1320.
    return "; quote it in YAML" if isinstance(value, dt.date | int) and not isinstance(value, bool) else ""


def _instant(c: _Check, path: str, value: Any, zone: str | None) -> dt.datetime | None:
    """A one-off silence's start or end: an offset in the text, or wall-clock time in ``zone``."""
    text = c.string(path, value, max_len=40) if isinstance(value, str) else None
    match = re.fullmatch(rf"({DATE_TIME})({UTC_OFFSET})?", text or "")
    if match is None:
        if text is not None or not isinstance(value, str):
            c.bad(path, "must be a date and time such as '2026-12-05T20:00:00+01:00' "
                        f"(got {_show(value)}){_quote_hint(value)}")
        return None
    if zone is not None and match[2]:
        c.bad(path, f"must not have a UTC offset when the silence names a timeZone (got {_show(text)})")
        return None
    if zone is None and not match[2]:
        c.bad(path, f"needs a UTC offset such as +01:00 or Z, or a timeZone on the silence (got {_show(text)})")
        return None
    try:
        when = dt.datetime.fromisoformat(cast(str, text))
        # fold=0: an ambiguous or skipped wall-clock time (a DST change) reads as the earlier offset.
        return (when.replace(tzinfo=zoneinfo.ZoneInfo(zone)) if zone else when).astimezone(dt.UTC)
    except (ValueError, OverflowError):  # 2026-02-30; or year 9999 pushed past the calendar by its offset
        c.bad(path, f"is not a valid date and time (got {_show(text)})")
        return None


def _clock(c: _Check, path: str, value: Any) -> dt.time | None:
    if isinstance(value, str) and re.fullmatch(CLOCK, value):
        return dt.time(int(value[:2]), int(value[3:]))
    c.bad(path, f"must be a time of day such as '22:00' (got {_show(value)}){_quote_hint(value)}")
    return None


def _days(c: _Check, path: str, value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        c.bad(path, f"must be a list of days from {', '.join(WEEKDAYS)} (got {_show(value)})")
        return None
    if not value:
        c.bad(path, "must name at least one day; leave it out for every day")
        return None
    before = len(c.problems)
    for i, day in enumerate(value):
        if c.choice(f"{path}[{i}]", day, WEEKDAYS) is not None and value.index(day) != i:
            c.bad(f"{path}[{i}]", f"lists {day} twice")
    return tuple(d for d in WEEKDAYS if d in value) if len(c.problems) == before else None


def _silence(c: _Check, path: str, value: Any) -> Silence | None:
    """One silence: one-off (start, end) or recurring (days, from, to), told apart by their keys."""
    if not isinstance(value, dict):
        c.bad(path, f"must be a mapping (got {_show(value)})")
        return None
    one_off, recurring = ("start" in value or "end" in value), any(k in value for k in ("days", "from", "to"))
    if one_off and recurring:
        c.bad(path, "is either one-off (start, end) or recurring (days, from, to), not both")
        return None
    before = len(c.problems)
    keys, required = (RECURRING_KEYS, ("from", "to")) if recurring else (WINDOW_KEYS, ("start", "end"))
    raw = c.mapping(path, value, keys, required=required)
    assert raw is not None
    zone = _time_zone(c, _join(path, "timeZone"), raw["timeZone"]) if "timeZone" in raw else None
    reason = c.string(_join(path, "reason"), raw["reason"]) if "reason" in raw else None
    if "timeZone" in raw and zone is None:
        return None  # the times cannot be read without their zone
    if recurring:
        days = _days(c, _join(path, "days"), raw["days"]) if "days" in raw else WEEKDAYS
        start = _clock(c, _join(path, "from"), raw["from"]) if "from" in raw else None
        end = _clock(c, _join(path, "to"), raw["to"]) if "to" in raw else None
        if len(c.problems) > before or days is None or start is None or end is None:
            return None
        return Recurring(days=days, start=start, end=end, time_zone=zone or "UTC", reason=reason)
    begin = _instant(c, _join(path, "start"), raw["start"], zone) if "start" in raw else None
    finish = _instant(c, _join(path, "end"), raw["end"], zone) if "end" in raw else None
    if begin is not None and finish is not None and finish <= begin:
        c.bad(_join(path, "end"), "must be after start")
    if len(c.problems) > before or begin is None or finish is None:
        return None
    return Window(start=begin, end=finish, reason=reason)


def _silences(c: _Check, path: str, value: Any) -> tuple[Silence, ...]:
    """The valid silences of ``value``; each bad one is a problem in ``c``."""
    if not isinstance(value, list):
        c.bad(path, f"must be a list of silences (got {_show(value)})")
        return ()
    if len(value) > MAX_SILENCES:
        c.bad(path, f"must have at most {MAX_SILENCES} silences (got {len(value)})")
        return ()
    found = (_silence(c, f"{path}[{i}]", item) for i, item in enumerate(value))
    return tuple(s for s in found if s is not None)


def silence_to_dict(silence: Silence) -> dict[str, Any]:
    """A silence in the file's own format; ``_silence`` reads it back equal."""
    data: dict[str, Any]
    if isinstance(silence, Window):
        data = {"start": silence.start.isoformat().replace("+00:00", "Z"),
                "end": silence.end.isoformat().replace("+00:00", "Z")}
    else:
        data = {"days": list(silence.days), "from": silence.start.strftime("%H:%M"),
                "to": silence.end.strftime("%H:%M"), "timeZone": silence.time_zone}
    if silence.reason is not None:
        data["reason"] = silence.reason
    return data
