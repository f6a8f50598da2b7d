"""Every emulator fault, through the real functions on the local host: each ends in its defined
outcome, and the accounting holds: checks accepted = results + poison messages."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.queue import QueueClient

import function_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import LocalHost
from emulator.httpserver import Reply, Request, RunningServer
from emulator.stack import Emulator
from shared import runtime
from shared.results import CheckResult

ROOT = Path(__file__).resolve().parent.parent
VMS = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ContosoRG/providers/Microsoft.Compute/" \
      "virtualMachines"


class _Recorder:
    name = "recorder"

    def handle(self, request: Request) -> Reply:
        return Reply(200, b"{}")


@pytest.fixture
def stack(emu: Emulator, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    suffix = uuid.uuid4().hex[:8]
    env = provision(azurite.connection_string, suffix) | {
        "TARGETS_PATH": str(ROOT / "targets.sample.yaml"), "MAX_ATTEMPTS": "3", "BACKOFF_BASE_S": "1", "MAX_POLLS": "3"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    queues = {}
    for kind in ("requests", "polls", "results"):
        name = env[f"{kind.upper()}_QUEUE"]
        queues[kind] = QueueClient.from_connection_string(azurite.connection_string, name)
        queues[f"{kind}-poison"] = QueueClient.from_connection_string(azurite.connection_string, f"{name}-poison")
    emu.arm.lro.operation_seconds, emu.arm.lro.retry_after_s = 0.3, 1
    runtime.reset()
    yield {"host": LocalHost(function_app.app, retry_visibility_s=0), "queues": queues}
    runtime.reset()


def _send(stack: dict[str, Any], messages: list[Any]) -> None:
    for message in messages:
        text = message if isinstance(message, str) else json.dumps(message)
        stack["queues"]["requests"].send_message(base64.b64encode(text.encode()).decode())


def _account(stack: dict[str, Any], accepted: int, timeout_s: float = 40) -> tuple[dict[str, CheckResult], list]:
    results: dict[str, CheckResult] = {}
    poison: list[dict[str, Any]] = []

    def drained() -> bool:
        for name, sink in (("results", None), ("requests-poison", poison), ("polls-poison", poison)):
            queue = stack["queues"][name]
            for message in queue.receive_messages(max_messages=32):
                data = json.loads(base64.b64decode(message.content))
                if sink is None:
                    result = CheckResult.from_message(data)
                    assert result.check_id not in results, f"two results for {result.check_id}"
                    results[result.check_id] = result
                else:
                    sink.append(data)
                queue.delete_message(message)
        return len(results) + len(poison) >= accepted

    assert stack["host"].run_until(drained, timeout_s=timeout_s), (results, poison)
    stack["host"].run_until(lambda: False, timeout_s=1.5)  # nothing more may come
    drained()
    assert len(results) + len(poison) == accepted  # nothing lost, nothing doubled
    assert all(p.get("reason") for p in poison)
    return results, poison


def _request(target: str | dict[str, Any], check_id: str = "c-1") -> dict[str, Any]:
    key = "target" if isinstance(target, str) else "inline"
    return {"version": 1, key: target, "checkId": check_id}


def _inline(vm: str) -> dict[str, Any]:
    return {"name": f"from-{vm}", "kind": "connectivity", "source": f"{VMS}/{vm}",
            "destination": {"address": "https://bing.com"}}


@pytest.mark.parametrize(("fault", "target", "status", "code"), [
    ({"kind": "status", "status": 429, "code": "SubscriptionRequestsThrottled", "count": 2}, "app-to-bing",
     "Reachable", None),
    ({"kind": "status", "status": 500, "count": None}, "app-to-bing", "Error", "InternalServerError"),
    ({"kind": "status", "status": 503, "code": "ServiceUnavailable", "count": None}, "app-to-bing", "Error",
     "ServiceUnavailable"),
    ({"kind": "reset", "count": None}, "app-to-bing", "Error", "ConnectionError"),
    ({"kind": "reset", "count": 1}, "app-to-bing", "Reachable", None),
    ({"kind": "malformed_json", "operation": "poll"}, "app-to-bing", "Error", "InvalidArmResponse"),
    ({"kind": "no_location"}, "app-to-bing", "Error", "MissingLocation"),
    ({"kind": "never_complete"}, "app-to-bing", "Timeout", "Timeout"),
    ({"kind": "status", "status": 404, "code": "NotFound"}, "app-to-bing", "Error", "NotFound"),
    ({"kind": "status", "status": 403, "code": "AuthorizationFailed"}, "app-to-bing", "Error",
     "AuthorizationFailed"),
    (None, _inline("MultiTierApp1"), "Error", "NetworkWatcherAgentNotInstalled"),
    (None, _inline("MultiTierApp2"), "Error", "VmNotRunning"),
    (None, _inline("MultiTierApp3"), "Unknown", None),  # agent stopped: could not tell
], ids=["429-then-ok", "500", "503", "reset", "reset-once", "malformed-json", "no-location", "never-completes",
        "404", "403", "agent-missing", "deallocated", "agent-stopped"])
def test_each_fault_ends_in_its_outcome(emu: Emulator, stack: dict[str, Any], fault: dict[str, Any] | None,
                                       target: Any, status: str, code: str | None) -> None:
    if fault is not None:
        emu.faults.add(service="arm", **{"operation": "connectivityCheck", **fault})
    _send(stack, [_request(target)])
    results, poison = _account(stack, accepted=1)
    assert poison == []
    finding = results["c-1"].finding
    assert (finding.status, finding.error_code) == (status, code)
    assert results["c-1"].healthy is None or status == "Reachable"  # faults never look like a verdict


def test_foreign_location_gets_no_request_and_no_token(emu: Emulator, stack: dict[str, Any]) -> None:
    recorder = RunningServer(_Recorder(), emu.tls.server_context())
    try:
        evil = (f"{recorder.url}/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Network/"
                "locations/westcentralus/operationResults/x?api-version=2024-05-01")
        emu.faults.add(service="arm", kind="foreign_location", operation="connectivityCheck", location=evil)
        _send(stack, [_request("app-to-bing")])
        results, _ = _account(stack, accepted=1)
        assert results["c-1"].finding.error_code == "UnsafeLocation"
        assert recorder.requests == []
    finally:
        recorder.stop()


def test_a_mixed_batch_accounts_for_every_check(emu: Emulator, stack: dict[str, Any]) -> None:
    emu.faults.add(service="arm", kind="status", status=503, operation="connectivityCheck", count=3)
    good = [_request(name, f"c-{i}") for i, name in enumerate(
        ["app-to-db-port80", "app-to-13.107.21.200", "app-to-bing", "app-to-blob", "app-out-443",
         "internet-in-3389", "app-nexthop-db"])]
    bad = ["not json", json.dumps({"version": 2, "target": "x"}), json.dumps(_request("no-such-target", "c-x")),
           json.dumps({"version": 1, "target": "app-to-bing", "location": "https://evil.example"})]
    _send(stack, [*good, *bad])
    results, poison = _account(stack, accepted=len(good) + len(bad))
    assert len(results) == len(good) and len(poison) == len(bad)
    reasons = " | ".join(p["reason"] for p in poison)
    for words in ("not JSON", "version", "no target named 'no-such-target'", "unknown field(s) ['location']"):
        assert words in reasons
    assert all(p["message"] for p in poison)  # the original message is kept for replay
