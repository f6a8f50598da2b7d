"""Alerts on check results: per-target state, silences, and an outbox that loses no event.

- ``state``: the pure state machine. ``evaluate(state, result, settings, now=, silenced=)`` gives
  the next state and the Fired / Resolved / Reminder events; its docstring has the rules.
- ``silences``: whether a target is silenced (maintenance windows from the target list).
- ``store``: ``AlertStore`` keeps each target's state in Azure Table storage, written with ETag
  concurrency together with the events it raised (an outbox), and ``deliver`` hands those events
  to every channel until all of them took it: senders (alerts queue, webhooks) get the events to
  notify, recorders (Log Analytics) get every event, those held back by a silence included.

Wiring, after a result is ingested (data first, notifications second), results of one target in
the order they completed (an older result than one already applied is ignored)::

    silenced = is_silenced(target, target_list.silences, now)
    store.apply(result, target.alert, now=now, silenced=silenced)   # the events it raised
    store.deliver([to_queue, *webhooks], recorders=[to_log_analytics])  # again on a timer: retries
"""

from __future__ import annotations

from shared.alerts.silences import active_silence, is_active, is_silenced
from shared.alerts.state import SEVERITY, AlertEvent, AlertState, evaluate

__all__ = ["SEVERITY", "AlertEvent", "AlertState", "active_silence", "evaluate", "is_active", "is_silenced"]
