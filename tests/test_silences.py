"""Silences: one-off windows and recurring ones, across midnight, week ends and DST changes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from shared.alerts.silences import active_silence, is_active, is_silenced
from shared.target_list import parse_target
from shared.targets import WEEKDAYS, Recurring, Silence, Window

VM = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ContosoRG/providers/Microsoft.Compute"
      "/virtualMachines/MultiTierApp0")


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


ONE_OFF = Window(utc("2026-12-05T19:00:00Z"), utc("2026-12-06T01:00:00Z"))
# Saturday 22:00 to Sunday 02:00 in Berlin (UTC+1 in winter, UTC+2 in summer)
SATURDAY_NIGHT = Recurring(("Sat",), dt.time(22), dt.time(2), "Europe/Berlin")
LUNCH = Recurring(("Mon", "Tue", "Wed", "Thu", "Fri"), dt.time(12), dt.time(12, 30))
ALL_DAY_SUNDAY = Recurring(("Sun",), dt.time(0), dt.time(0), "Asia/Tokyo")
# 02:00-03:00 local does not exist in Berlin on 2026-03-29; 02:00-03:00 happens twice on 2026-10-25.
NIGHTLY_BERLIN = Recurring(WEEKDAYS, dt.time(1, 30), dt.time(3, 30), "Europe/Berlin")


@pytest.mark.parametrize(("silence", "at", "active"), [
    # one-off: start included, end excluded
    (ONE_OFF, "2026-12-05T18:59:59.999Z", False),
    (ONE_OFF, "2026-12-05T19:00:00Z", True),
    (ONE_OFF, "2026-12-05T20:00:00+01:00", True),  # the same instant as 19:00Z
    (ONE_OFF, "2026-12-06T00:59:59Z", True),
    (ONE_OFF, "2026-12-06T01:00:00Z", False),
    # recurring across midnight: Saturday 2026-12-05, Berlin = UTC+1
    (SATURDAY_NIGHT, "2026-12-05T20:59:00Z", False),
    (SATURDAY_NIGHT, "2026-12-05T21:00:00Z", True),  # 22:00 Saturday in Berlin
    (SATURDAY_NIGHT, "2026-12-05T23:30:00Z", True),  # Sunday 00:30 in Berlin: yesterday's occurrence
    (SATURDAY_NIGHT, "2026-12-06T00:59:00Z", True),
    (SATURDAY_NIGHT, "2026-12-06T01:00:00Z", False),  # Sunday 02:00 in Berlin
    (SATURDAY_NIGHT, "2026-12-06T21:30:00Z", False),  # Sunday 22:30: not a Saturday
    (SATURDAY_NIGHT, "2026-12-04T21:30:00Z", False),  # Friday 22:30
    (SATURDAY_NIGHT, "2026-07-04T20:00:00Z", True),  # summer: UTC+2, so 22:00 Berlin is 20:00Z
    (SATURDAY_NIGHT, "2026-07-04T21:00:00+02:00", False),
    # the same day, UTC by default
    (LUNCH, "2026-12-07T12:00:00Z", True),  # Monday
    (LUNCH, "2026-12-07T12:30:00Z", False),
    (LUNCH, "2026-12-07T13:15:00+01:00", True),  # 12:15Z
    (LUNCH, "2026-12-06T12:10:00Z", False),  # Sunday
    # from == to: the whole day, by the day in the silence's zone (Tokyo is UTC+9)
    (ALL_DAY_SUNDAY, "2026-12-05T14:59:59Z", False),  # Saturday 23:59:59 in Tokyo
    (ALL_DAY_SUNDAY, "2026-12-05T15:00:00Z", True),  # Sunday 00:00 in Tokyo
    (ALL_DAY_SUNDAY, "2026-12-06T14:59:59Z", True),
    (ALL_DAY_SUNDAY, "2026-12-06T15:00:00Z", False),
    # DST: spring forward (01:30 CET = 00:30Z to 03:30 CEST = 01:30Z: one hour shorter)
    (NIGHTLY_BERLIN, "2026-03-29T00:29:00Z", False),
    (NIGHTLY_BERLIN, "2026-03-29T00:30:00Z", True),
    (NIGHTLY_BERLIN, "2026-03-29T01:29:00Z", True),
    (NIGHTLY_BERLIN, "2026-03-29T01:30:00Z", False),
    # fall back (01:30 CEST = 23:30Z to 03:30 CET = 02:30Z: one hour longer)
    (NIGHTLY_BERLIN, "2026-10-24T23:29:00Z", False),
    (NIGHTLY_BERLIN, "2026-10-24T23:30:00Z", True),
    (NIGHTLY_BERLIN, "2026-10-25T02:29:00Z", True),
    (NIGHTLY_BERLIN, "2026-10-25T02:30:00Z", False),
])
def test_is_active(silence: Silence, at: str, active: bool) -> None:
    assert is_active(silence, dt.datetime.fromisoformat(at)) is active


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_active(ONE_OFF, dt.datetime(2026, 12, 5, 20))


def test_a_targets_own_and_the_global_silences_both_apply() -> None:
    target = parse_target({"name": "t", "kind": "connectivity", "source": VM,
                           "destination": {"address": "10.1.4.4", "port": 80},
                           "silences": [{"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "from": "12:00",
                                         "to": "12:30"}]})
    assert target.silences == (LUNCH,)
    monday_lunch, saturday_night = utc("2026-12-07T12:10:00Z"), utc("2026-12-05T22:00:00Z")
    assert is_silenced(target, (), monday_lunch)
    assert not is_silenced(target, (), saturday_night)
    assert is_silenced(target, (SATURDAY_NIGHT,), saturday_night)
    assert not is_silenced(dataclasses.replace(target, silences=()), (SATURDAY_NIGHT,), monday_lunch)
    assert active_silence((LUNCH, ONE_OFF, SATURDAY_NIGHT), utc("2026-12-05T21:30:00Z")) == ONE_OFF
    assert active_silence((LUNCH,), saturday_night) is None
