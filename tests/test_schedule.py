from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from shared.schedule import check_id, is_due, minute_of, slot_offset

T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


def _due_minutes(name: str, interval_s: int, minutes: int) -> list[int]:
    return [m for m in range(minutes) if is_due(name, interval_s, T0 + dt.timedelta(minutes=m))]


@pytest.mark.parametrize("interval_s", [60, 120, 300, 3600, 86_400])
def test_each_target_is_due_once_per_interval(interval_s: int) -> None:
    period = interval_s // 60
    for name in ("app-to-db", "b", "ünïcode target"):
        due = _due_minutes(name, interval_s, period * 3)
        assert len(due) == 3
        assert due[1] - due[0] == due[2] - due[1] == period


def test_one_minute_targets_are_due_every_minute() -> None:
    assert _due_minutes("x", 60, 10) == list(range(10))


def test_a_thousand_five_minute_targets_spread_over_five_minutes() -> None:
    per_minute = Counter(m for i in range(1000) for m in _due_minutes(f"target-{i}", 300, 5))
    assert sum(per_minute.values()) == 1000
    assert set(per_minute) == set(range(5))
    assert max(per_minute.values()) < 260  # ~200 each; never all at once


def test_offset_is_stable_and_within_the_interval() -> None:
    assert slot_offset("app-to-db", 300) == slot_offset("app-to-db", 300)
    assert all(0 <= slot_offset(f"t{i}", 3600) < 60 for i in range(200))


@pytest.mark.parametrize("interval_s", [0, 59, 90, 86_460, -60])
def test_intervals_outside_a_minute_to_a_day_or_not_whole_minutes_are_refused(interval_s: int) -> None:
    with pytest.raises(ValueError, match="interval"):
        is_due("x", interval_s, T0)


def test_check_id_is_the_same_for_any_time_within_the_slot_minute() -> None:
    a = check_id("app-to-db", T0 + dt.timedelta(seconds=1))
    b = check_id("app-to-db", T0 + dt.timedelta(seconds=59, microseconds=999))
    assert a == b
    assert a != check_id("app-to-db", T0 + dt.timedelta(minutes=1))
    assert a != check_id("app-to-dc", T0)
    # the same UTC minute seen from another timezone is the same slot
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert check_id("app-to-db", T0.astimezone(tokyo)) == a


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        minute_of(dt.datetime(2026, 11, 22, 10, 0))
