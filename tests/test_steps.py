"""The internal step message: a round trip, and a clear reason for every malformed one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.messages import BadMessage
from shared.steps import Step, parse_step
from shared.target_list import parse_target
from shared.targets import WatcherRef

VM = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ContosoRG/providers/Microsoft.Compute/" \
     "virtualMachines/MultiTierApp0"
TARGET = parse_target({"name": "app-to-db", "kind": "connectivity", "source": VM,
                       "destination": {"address": "10.1.4.4", "port": 80}})
STEP = Step(step="poll", check_id="s-20261122T1000Z-abc", target=TARGET, trigger="schedule", correlation_id=None,
            scheduled="2026-11-22T10:00:00.000Z", reply_to=None,
            watcher=WatcherRef("00000000-0000-0000-0000-000000000000", "NetworkWatcherRG",
                               "NetworkWatcher_westcentralus"),
            started="2026-11-22T10:00:01.000Z", deadline="2026-11-22T10:15:01.000Z", attempt=0, polls=2,
            location="https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
                     "Microsoft.Network/locations/westcentralus/operationResults/x?api-version=2024-05-01")


def test_round_trip() -> None:
    assert parse_step(json.dumps(STEP.to_message())) == STEP
    start = STEP.next(step="start", location=None, watcher=None, polls=0, attempt=3)
    assert parse_step(json.dumps(start.to_message())) == start


def _with(**changes: Any) -> str:
    message = STEP.to_message()
    message.update(changes)
    return json.dumps({k: v for k, v in message.items() if v != "DROP"})


@pytest.mark.parametrize(("body", "reason"), [
    ("nope", "not JSON"),
    ("[1]", "JSON object"),
    (_with(version=2), "version"),
    (_with(version="DROP"), "version"),
    (_with(step="sleep"), "step"),
    (_with(checkId=""), "checkId"),
    (_with(checkId="a b"), "checkId"),
    (_with(target={"name": "x"}), "target"),
    (_with(target="app-to-db"), "target"),
    (_with(trigger="cron"), "trigger"),
    (_with(watcher={"subscription": "x", "resourceGroup": "rg", "name": "nw"}), "watcher"),
    (_with(watcher={"name": "nw"}), "watcher"),
    (_with(started="yesterday"), "started"),
    (_with(deadline="DROP"), "deadline"),
    (_with(attempt=-1), "attempt"),
    (_with(attempt=True), "attempt"),
    (_with(polls=10**6), "polls"),
    (_with(location="DROP"), "location"),
    (_with(location="x" * 5000), "location"),
    (_with(extra=1), "unknown field"),
])
def test_malformed_steps_are_refused_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(BadMessage, match=reason):
        parse_step(body)


@given(st.dictionaries(st.sampled_from(sorted(STEP.to_message())), st.none() | st.integers() | st.text(max_size=10)))
def test_any_mutation_is_a_step_or_a_bad_message(changes: dict[str, Any]) -> None:
    try:
        parse_step(_with(**changes))
    except BadMessage:
        pass
