"""Alerts end to end on the seed scenario: real functions on the local host, Azurite, the
emulator's ARM and Logs Ingestion. Results are ingested first; alerts follow from them."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import function_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import LocalHost
from emulator.stack import Emulator
from shared import runtime
from shared.alerts import AlertEvent
from tests.queues import raw_queue

ROOT = Path(__file__).resolve().parent.parent
# The sample, plus a flow that should be allowed and is denied (NSG appNsg lets port 80 in only
# from the VNet): out of the box, a Deny where Allow is expected fires.
VM = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ContosoRG/providers/Microsoft.Compute/" \
     "virtualMachines/MultiTierApp0"
EXTRA = f"""
  - name: internet-in-80
    kind: ipFlow
    vm: {VM}
    direction: Inbound
    protocol: TCP
    local: {{ip: 10.1.1.4, port: 80}}
    remote: {{ip: 203.0.113.10, port: 50000}}
    expect: Allow
"""



@pytest.fixture
def stack(emu: Emulator, azurite: Azurite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    targets = tmp_path / "targets.yaml"
    targets.write_text(re.sub(r"interval: \w+", "interval: 1m", (ROOT / "targets.sample.yaml").read_text()) + EXTRA)
    suffix = uuid.uuid4().hex[:8]
    env = provision(azurite.connection_string, suffix) | {"TARGETS_PATH": str(targets)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    emu.arm.lro.operation_seconds = 0.2
    runtime.reset()
    yield {"host": LocalHost(function_app.app, retry_visibility_s=0), "azurite": azurite, "suffix": suffix}
    runtime.reset()


NAMES = ["app-to-db-port80", "app-to-13.107.21.200", "app-to-bing", "app-to-blob", "app-out-443",
         "internet-in-3389", "app-nexthop-db", "internet-in-80"]


def _sweep(stack: dict, emu: Emulator, round_: int) -> None:
    """One round of every target, as a sweep would send it (a new slot: new check ids)."""
    requests = raw_queue(stack["azurite"], runtime.queue_name("requests"))
    for name in NAMES:
        body = json.dumps({"version": 1, "target": name, "checkId": f"r{round_}-{name}", "trigger": "schedule"})
        requests.send_message(base64.b64encode(body.encode()).decode())
    expected = len(NAMES) * (round_ + 1)
    rows = lambda: emu.ingestion.rows_of("Custom-NetworkWatcherCheck")  # noqa: E731
    assert stack["host"].run_until(lambda: len(rows()) >= expected, timeout_s=60, timers={"ingest": 0.5})
    stack["host"].tick("ingest")  # deliver what the last results raised


def _events(stack: dict) -> list[AlertEvent]:
    queue = raw_queue(stack["azurite"], runtime.queue_name("alerts"))
    out = []
    while batch := list(queue.receive_messages(max_messages=32)):
        for message in batch:
            out.append(AlertEvent.from_message(json.loads(base64.b64decode(message.content))))
            queue.delete_message(message)
    return out


def _by(events: list[AlertEvent], kind: str) -> dict[str, AlertEvent]:
    found: dict[str, Any] = {}
    for event in events:
        if event.kind == kind:
            assert event.target not in found, f"two {kind} events for {event.target}"
            found[event.target] = event
    return found


def test_alerts_fire_once_name_the_cause_and_resolve_once(emu: Emulator, stack: dict) -> None:
    _sweep(stack, emu, 0)
    assert _events(stack) == []  # one unhealthy result is not an alert (failure threshold 2)
    _sweep(stack, emu, 1)
    fired = _by(_events(stack), "Fired")
    assert set(fired) == {"app-to-db-port80", "app-to-13.107.21.200", "internet-in-80"}
    db = fired["app-to-db-port80"]
    assert (db.blocking_hop, db.rule_name, db.status, db.expected) == ("10.1.3.4", "UserRule_Port80", "Unreachable",
                                                                         "Reachable")
    assert db.check_ids == ("r0-app-to-db-port80", "r1-app-to-db-port80")
    assert fired["app-to-13.107.21.200"].route_type == "User"
    assert fired["app-to-13.107.21.200"].issue_type == "UserDefinedRoute"
    assert fired["internet-in-80"].rule_name == "defaultSecurityRules/DefaultInboundDenyAll"
    # Also in Log Analytics, for Azure Monitor alert rules:
    rows = emu.ingestion.rows_of("Custom-NetworkWatcherAlert")
    assert sorted((r["TargetName"], r["EventKind"]) for r in rows) == sorted((t, "Fired") for t in fired)

    _sweep(stack, emu, 2)
    assert _events(stack) == []  # still failing: no second Fired before the repeat interval

    emu.change_network(lambda n: n.remove_security_rule("auNsg", "Port80"))  # the fix
    _sweep(stack, emu, 3)
    _sweep(stack, emu, 4)
    resolved = _by(_events(stack), "Resolved")
    assert set(resolved) == {"app-to-db-port80"}
    _sweep(stack, emu, 5)
    assert _events(stack) == []  # resolved once
