"""function_app.py as the host sees it (bindings), and its handlers over Azurite and the emulator."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import azure.functions as func
import pytest
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

import function_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import registered_functions
from emulator.stack import Emulator
from shared import runtime
from shared.results import CheckResult

ROOT = Path(__file__).resolve().parent.parent


def test_bindings_are_what_the_host_needs() -> None:
    functions = {f.get_function_name(): json.loads(f.get_function_json())
                 for f in registered_functions(function_app.app)}
    assert set(functions) == {"sweep", "check_requests", "check_urgent_requests", "check_steps", "ingest", "topology",
                              "investigate", "investigation"}
    topology = functions["topology"]["bindings"][0]
    assert (topology["schedule"], topology.get("runOnStartup")) == ("%TOPOLOGY_SCHEDULE%", False)
    for name, route, method in (("investigate", "investigations", "POST"),
                                ("investigation", "investigations/{id}", "GET")):
        trigger = functions[name]["bindings"][0]
        assert (trigger["type"], trigger["route"], trigger["methods"], trigger["authLevel"]) == (
            "httpTrigger", route, [method], "FUNCTION")
    [ingest] = functions["ingest"]["bindings"]
    assert (ingest["type"], ingest["schedule"]) == ("timerTrigger", "%INGEST_SCHEDULE%")
    sweep = {b["type"]: b for b in functions["sweep"]["bindings"]}
    assert sweep["timerTrigger"]["schedule"] == "%TIMER_SCHEDULE%"
    assert sweep["timerTrigger"].get("runOnStartup") is False
    assert (sweep["queue"]["queueName"], sweep["queue"]["direction"]) == ("%REQUESTS_QUEUE%", "OUT")
    for name, queue in (("check_requests", "%REQUESTS_QUEUE%"), ("check_urgent_requests", "%URGENT_QUEUE%"),
                        ("check_steps", "%POLLS_QUEUE%")):
        [trigger] = functions[name]["bindings"]
        assert (trigger["type"], trigger["queueName"], trigger["connection"]) == ("queueTrigger", queue,
                                                                                  "NwcheckStorage")


@pytest.fixture
def app_env(emu: Emulator, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, QueueClient]]:
    suffix = uuid.uuid4().hex[:8]
    env = provision(azurite.connection_string, suffix) | {"TARGETS_PATH": str(ROOT / "targets.sample.yaml")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    queues = {}
    for kind in ("requests", "polls", "results"):
        name = env[f"{kind.upper()}_QUEUE"]
        queues[kind] = QueueClient.from_connection_string(
            azurite.connection_string, name, message_encode_policy=TextBase64EncodePolicy(),
            message_decode_policy=TextBase64DecodePolicy())
        queues[f"{kind}-poison"] = QueueClient.from_connection_string(
            azurite.connection_string, f"{name}-poison", message_decode_policy=TextBase64DecodePolicy())
    runtime.reset()
    yield queues
    runtime.reset()


def _deliver(queue: QueueClient, handler, limit: int = 32) -> int:
    """Hand every visible message to the handler, as the host would; delete it when it returns."""
    handled = 0
    for message in queue.receive_messages(max_messages=limit, visibility_timeout=30):
        handler(func.QueueMessage(id=message.id, body=message.content.encode()))
        queue.delete_message(message)
        handled += 1
    return handled


def test_requests_become_one_result_each_through_the_queues(emu: Emulator,
                                                            app_env: dict[str, QueueClient]) -> None:
    emu.arm.lro.operation_seconds, emu.arm.lro.retry_after_s = 1.0, 2
    names = ["app-to-db-port80", "app-to-13.107.21.200", "app-to-bing", "internet-in-3389", "app-nexthop-db"]
    for name in names:
        app_env["requests"].send_message(json.dumps({"version": 1, "target": name, "checkId": f"c-{name}"}))
    assert _deliver(app_env["requests"], function_app.check_requests) == len(names)
    # Each check now waits as a step message that becomes visible after Retry-After: no one sleeps.
    assert list(app_env["polls"].receive_messages()) == []
    results: dict[str, CheckResult] = {}
    deadline = time.monotonic() + 30
    while len(results) < len(names) and time.monotonic() < deadline:
        _deliver(app_env["polls"], function_app.check_steps)
        for message in app_env["results"].receive_messages(max_messages=32):
            result = CheckResult.from_message(json.loads(message.content))
            results[result.check_id] = result
            app_env["results"].delete_message(message)
        time.sleep(0.2)
    assert sorted(results) == sorted(f"c-{n}" for n in names)
    assert results["c-app-to-db-port80"].finding.rule_name == "UserRule_Port80"
    assert results["c-app-to-db-port80"].finding.blocking_hop == "10.1.3.4"
    assert results["c-app-to-13.107.21.200"].finding.issue_type == "UserDefinedRoute"
    assert results["c-internet-in-3389"].finding.status == "Deny" and results["c-internet-in-3389"].healthy
    assert all(r.polls >= 1 for r in results.values())


def test_malformed_request_goes_to_poison_with_its_reason_and_reaches_no_arm(
        emu: Emulator, app_env: dict[str, QueueClient]) -> None:
    app_env["requests"].send_message('{"version": 1, "target": "app-to-bing", "location": "https://evil"}')
    assert _deliver(app_env["requests"], function_app.check_requests) == 1
    [poison] = app_env["requests-poison"].receive_messages()
    record = json.loads(poison.content)
    assert "unknown field(s) ['location']" in record["reason"]
    assert '"location"' in record["message"]
    assert emu.arm_server.requests == []


def test_last_delivery_of_a_failing_message_records_an_error_result(
        emu: Emulator, app_env: dict[str, QueueClient], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("storage is on fire")

    monkeypatch.setattr(runtime.Pipeline, "accept", broken)
    body = json.dumps({"version": 1, "target": "app-to-bing", "checkId": "c-1"}).encode()
    with pytest.raises(RuntimeError):
        runtime.handle_request(body, "m1", 1)
    assert list(app_env["results"].receive_messages()) == []  # not yet: the host will retry
    with pytest.raises(RuntimeError):
        runtime.handle_request(body, "m1", runtime.max_dequeue_count())
    [message] = app_env["results"].receive_messages()
    result = CheckResult.from_message(json.loads(message.content))
    assert (result.check_id, result.finding.status, result.finding.error_code) == ("c-1", "Error", "StepFailed")
    assert "storage is on fire" in (result.finding.error_message or "")
