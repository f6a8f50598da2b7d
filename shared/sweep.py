"""The timer sweep: one check request per target due in this minute."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.messages import VERSION
from shared.results import format_utc
from shared.schedule import check_id, is_due, minute_of
from shared.target_list import TargetList


def due_requests(targets: TargetList, when: dt.datetime) -> list[dict[str, Any]]:
    """Requests for the targets due in ``when``'s minute; the same minute always gives the same ids."""
    minute = minute_of(when)
    return [{"version": VERSION, "target": t.name, "checkId": check_id(t.name, minute), "trigger": "schedule",
             "scheduled": format_utc(minute)}
            for t in targets.targets if is_due(t.name, t.interval_s, minute)]
