"""Which targets are due in a given minute, and the stable id of each scheduled check.

Each target runs every ``interval`` minutes at a stable offset derived from its name, so a thousand
5-minute targets spread over five minutes instead of firing together. The check id is derived from
the target and the slot, so a repeated or past-due timer run for the same minute yields the same
ids (and the requests stage drops the duplicates).
"""

from __future__ import annotations

import datetime as dt
import hashlib

MIN_INTERVAL_S = 60
MAX_INTERVAL_S = 86_400
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _minutes(interval_s: int) -> int:
    if interval_s % 60 or not MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S:
        raise ValueError(f"interval must be whole minutes from 1 minute to a day, not {interval_s} s")
    return interval_s // 60


def slot_offset(target_name: str, interval_s: int) -> int:
    """The target's stable offset, in minutes, within its interval."""
    digest = hashlib.sha256(target_name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % _minutes(interval_s)


def minute_of(when: dt.datetime) -> dt.datetime:
    """``when`` (timezone-aware) floored to its UTC minute."""
    if when.tzinfo is None:
        raise ValueError("a timezone-aware time is required")
    return when.astimezone(dt.UTC).replace(second=0, microsecond=0)


def is_due(target_name: str, interval_s: int, minute: dt.datetime) -> bool:
    """Whether the target's slot starts in this minute."""
    index = int((minute_of(minute) - _EPOCH).total_seconds()) // 60
    return (index - slot_offset(target_name, interval_s)) % _minutes(interval_s) == 0


def check_id(target_name: str, slot: dt.datetime) -> str:
    """Stable id of the scheduled check of ``target_name`` in the slot starting at ``slot``."""
    stamp = minute_of(slot).strftime("%Y%m%dT%H%MZ")
    digest = hashlib.sha256(f"{target_name}\n{stamp}".encode()).hexdigest()[:16]
    return f"s-{stamp}-{digest}"
