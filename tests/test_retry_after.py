from __future__ import annotations

import datetime as dt

import pytest

from shared.retry_after import retry_after_seconds

NOW = dt.datetime(2026, 11, 22, 10, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("10", 10), ("1", 1), (" 7 ", 7), ("0", 1), ("300", 300), ("301", 300), ("999999999999", 300),
        (None, 10), ("", 10), ("   ", 10), ("-5", 10), ("1.5", 10), ("soon", 10), ("0x10", 10), ("\u0661\u0665", 10),
        ("Sun, 22 Nov 2026 10:00:30 GMT", 30), ("Sun, 22 Nov 2026 09:59:00 GMT", 1),
        ("Sun, 22 Nov 2026 11:00:00 GMT", 300), ("Sunday, 22-Nov-26 10:00:05 GMT", 5),
        ("Sun Nov 22 10:00:20 2026", 20), ("Sun, 32 Nov 2026 10:00:30 GMT", 10),
    ],
)
def test_retry_after_seconds(header: str | None, seconds: int) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def test_bounds_and_default_are_parameters() -> None:
    assert retry_after_seconds(None, default=3) == 3
    assert retry_after_seconds("100", maximum=60) == 60
    assert retry_after_seconds("0", minimum=2) == 2
