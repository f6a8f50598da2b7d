"""Alert-triggered investigations end to end: the real functions on the local host (HTTP triggers
with function keys, queues on Azurite), the emulator's ARM and Logs Ingestion over TLS."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

import function_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import LocalHost
from emulator.stack import Emulator
from shared import runtime
from tests.queues import raw_queue
from tests.test_investigation_payload import BAD, JSON, sample

ROOT = Path(__file__).resolve().parent.parent
SUB = "00000000-0000-0000-0000-000000000000"
DB = f"/subscriptions/{SUB}/resourceGroups/ContosoRG/providers/Microsoft.Compute/virtualMachines/Database0"
INVESTIGATIONS = "Custom-NetworkWatcherInvestigation"
CHECKS = "Custom-NetworkWatcherCheck"


@pytest.fixture
def stack(emu: Emulator, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    suffix = uuid.uuid4().hex[:8]
    env = provision(azurite.connection_string, suffix) | {
        "TARGETS_PATH": str(ROOT / "targets.sample.yaml"), "TOPOLOGY_SCHEDULE": "0 */30 * * * *"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    emu.arm.lro.operation_seconds = 0.2
    runtime.reset()
    host = LocalHost(function_app.app, retry_visibility_s=0)
    assert host.tick("topology") == 0 and host.invocations[-1].ok, "the topology inventory could not be built"
    url, server = host.serve_http()
    emu.arm_server.clear_requests()
    yield {"host": host, "url": url, "key": host.function_keys["default"], "azurite": azurite, "env": env}
    server.shutdown()
    runtime.reset()


def post(stack: dict[str, Any], payload: Any, *, content_type: str | None = JSON, key: str | None = None,
         raw: bytes | None = None) -> requests.Response:
    headers = {"x-functions-key": key if key is not None else stack["key"]}
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = raw if raw is not None else json.dumps(payload).encode()
    return requests.post(f"{stack['url']}/api/investigations", data=body, headers=headers, timeout=10)


def get(stack: dict[str, Any], investigation: str) -> requests.Response:
    return requests.get(f"{stack['url']}/api/investigations/{investigation}",
                        headers={"x-functions-key": stack["key"]}, timeout=10)


def urgent_messages(stack: dict[str, Any]) -> list[dict[str, Any]]:
    queue = raw_queue(stack["azurite"], stack["env"]["URGENT_QUEUE"])
    return [json.loads(base64.b64decode(m.content)) for m in queue.peek_messages(max_messages=32)]


def complete(stack: dict[str, Any], investigation: str, timeout_s: float = 60) -> dict[str, Any]:
    def done() -> bool:
        return bool(get(stack, investigation).json().get("status") == "completed")
    assert stack["host"].run_until(done, timeout_s=timeout_s, timers={"ingest": 0.5}), get(stack, investigation).text
    body: dict[str, Any] = get(stack, investigation).json()
    return body


def test_an_alert_on_database0_names_the_rule_and_the_hop(emu: Emulator, stack: dict[str, Any]) -> None:
    alert = sample()
    started = time.perf_counter()
    answer = post(stack, alert)
    took_ms = (time.perf_counter() - started) * 1000
    print(f"webhook answered {answer.status_code} in {took_ms:.0f} ms")
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["targets"] == ["app-to-db-port80", "app-nexthop-db"]
    # Nothing ran yet: the request path touched no ARM endpoint.
    assert emu.arm_server.requests == []
    queued = urgent_messages(stack)
    assert sorted(m["checkId"] for m in queued) == sorted(accepted["checkIds"])
    alert_id = alert["data"]["essentials"]["alertId"]
    assert {(m["trigger"], m["correlationId"], m["priority"]) for m in queued} == {("alert", alert_id, "high")}
    # The bundle of the connectivity target: its own check and IP flow both ways; the stored nextHop
    # target of the same path (also involved) stands for the next hop it would add.
    names = [m.get("inline", {}).get("name", m.get("target")) for m in queued]
    assert sorted(names) == sorted(["app-to-db-port80", "app-to-db-port80.flow-out", "app-to-db-port80.flow-in",
                                    "app-nexthop-db"])
    [flow_in] = [m["inline"] for m in queued if m.get("inline", {}).get("name") == "app-to-db-port80.flow-in"]
    assert (flow_in["vm"].rsplit("/", 1)[1], flow_in["direction"], flow_in["local"], flow_in["remote"]) == (
        "Database0", "Inbound", {"ip": "10.1.4.4", "port": 80}, {"ip": "10.1.1.4", "port": "*"})

    result = complete(stack, accepted["investigationId"])
    summary = result["summary"]
    assert (summary["Verdict"], summary["RuleName"], summary["BlockingHop"]) == ("Blocked", "UserRule_Port80",
                                                                                "10.1.3.4")
    assert "UserRule_Port80" in summary["Summary"] and "10.1.3.4" in summary["Summary"]
    assert summary["ChecksTotal"] == len(accepted["checkIds"]) and summary["ChecksMissing"] == 0
    # Data first: one summary row in Log Analytics, and a check row per check, correlated to the alert.
    [row] = emu.ingestion.rows_of(INVESTIGATIONS)
    assert row["InvestigationId"] == accepted["investigationId"] and row["AlertId"] == alert_id
    correlated = [r for r in emu.ingestion.rows_of(CHECKS) if r["CorrelationId"] == alert_id]
    assert sorted(r["CheckId"] for r in correlated) == sorted(accepted["checkIds"])
    assert {r["Trigger"] for r in correlated} == {"alert"}


def test_six_identical_deliveries_create_one_investigation(emu: Emulator, stack: dict[str, Any]) -> None:
    answers = [post(stack, sample()) for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 6
    ids = {a.json()["investigationId"] for a in answers}
    assert len(ids) == 1
    assert [a.json()["duplicate"] for a in answers] == [False] + [True] * 5
    checks = answers[0].json()["checkIds"]
    assert len(urgent_messages(stack)) == len(checks)
    complete(stack, ids.pop())
    assert emu.arm.posts == len(checks)  # each check started once
    assert len(emu.ingestion.rows_of(INVESTIGATIONS)) == 1


@pytest.mark.parametrize(("name", "targets"), [
    ("metric-alert.json", ["app-to-db-port80", "app-nexthop-db"]),
    ("log-search-alert.json", ["app-to-db-port80", "app-nexthop-db"]),  # by configuration item Database0
    ("activity-log-alert.json", ["app-to-db-port80", "app-nexthop-db"]),
])
def test_microsoft_samples_enqueue_the_right_bundles(stack: dict[str, Any], name: str, targets: list[str]) -> None:
    answer = post(stack, sample(name))
    assert answer.status_code == 202, answer.text
    assert answer.json()["targets"] == targets
    queued = urgent_messages(stack)
    assert {m.get("target") for m in queued if "target" in m} == set(targets)
    assert len(queued) == len(answer.json()["checkIds"])


def test_an_alert_on_a_subnet_nsg_matches_through_the_inventory(stack: dict[str, Any]) -> None:
    """dbNsg is on Database0's subnet: no target names it, the inventory links them."""
    alert = sample()
    nsg = f"/subscriptions/{SUB}/resourceGroups/ContosoRG/providers/Microsoft.Network/networkSecurityGroups/dbNsg"
    alert["data"]["essentials"]["alertTargetIDs"] = [nsg.lower()]
    alert["data"]["essentials"]["configurationItems"] = ["dbNsg"]
    answer = post(stack, alert)
    assert answer.status_code == 202, answer.text
    assert "app-to-db-port80" in answer.json()["targets"]


def test_resolved_alerts_are_acknowledged_and_start_nothing(emu: Emulator, stack: dict[str, Any]) -> None:
    alert = sample()
    alert["data"]["essentials"]["monitorCondition"] = "Resolved"
    answer = post(stack, alert)
    assert (answer.status_code, answer.json()["status"]) == (200, "ignored")
    assert urgent_messages(stack) == [] and emu.arm_server.requests == []


def test_an_alert_on_an_unrelated_resource_is_acknowledged(stack: dict[str, Any]) -> None:
    alert = sample()
    alert["data"]["essentials"]["alertTargetIDs"] = [f"/subscriptions/{SUB}/resourcegroups/other/providers/"
                                                     "microsoft.storage/storageaccounts/unrelated"]
    alert["data"]["essentials"]["configurationItems"] = []
    answer = post(stack, alert)
    assert (answer.status_code, answer.json()["status"]) == (200, "unmatched")
    assert urgent_messages(stack) == []


def test_simple_form_by_target_name(stack: dict[str, Any]) -> None:
    answer = post(stack, {"targets": ["app-out-443"], "requestId": "deploy-42"})
    assert answer.status_code == 202, answer.text
    again = post(stack, {"targets": ["app-out-443"], "requestId": "deploy-42"})
    assert again.json()["investigationId"] == answer.json()["investigationId"] and again.json()["duplicate"]
    result = complete(stack, answer.json()["investigationId"])
    assert result["summary"]["Verdict"] == "Healthy" and result["summary"]["Trigger"] == "request"


def test_unknown_targets_are_refused(emu: Emulator, stack: dict[str, Any]) -> None:
    answer = post(stack, {"targets": ["app-out-443", "no-such-target"]})
    assert answer.status_code == 422 and "no-such-target" in answer.json()["error"]["message"]
    unknown = post(stack, {"resourceId": f"/subscriptions/{SUB}/resourceGroups/x/providers/Microsoft.Compute/"
                                         "virtualMachines/nobody"})
    assert unknown.status_code == 422
    assert urgent_messages(stack) == [] and emu.arm_server.requests == []


def test_invalid_payloads_over_http_enqueue_nothing_and_reach_no_arm(emu: Emulator, stack: dict[str, Any]) -> None:
    for case, body, content_type, status, _ in BAD:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        answer = post(stack, None, raw=raw, content_type=content_type)
        assert answer.status_code == status, (case, answer.text)
        assert answer.json()["error"]["message"], case
    assert urgent_messages(stack) == []
    assert emu.arm_server.requests == []


def test_function_keys_are_required(stack: dict[str, Any]) -> None:
    assert post(stack, sample(), key="").status_code == 401
    assert post(stack, sample(), key="wrong").status_code == 401
    assert requests.get(f"{stack['url']}/api/investigations/inv-{'0' * 24}", timeout=10).status_code == 401
    assert urgent_messages(stack) == []


def test_get_answers_404_and_400(stack: dict[str, Any]) -> None:
    assert get(stack, "inv-" + "0" * 24).status_code == 404
    assert get(stack, "x" * 10).status_code == 400


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Counter.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def test_links_in_the_payload_are_never_fetched(stack: dict[str, Any]) -> None:
    _Counter.hits = []
    listener = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{listener.server_address[1]}"
    try:
        alert = sample("log-search-alert.json")
        criteria = alert["data"]["alertContext"]["condition"]["allOf"][0]
        for key in ("linkToSearchResultsUI", "linkToFilteredSearchResultsUI", "linkToSearchResultsAPI",
                    "linkToFilteredSearchResultsAPI"):
            criteria[key] = f"{local}/{key}"
        criteria["dimensions"].append({"name": "link", "value": f"{local}/dimension"})
        alert["data"]["essentials"]["description"] = f"see {local}/description"
        answer = post(stack, alert)
        assert answer.status_code == 202, answer.text
        complete(stack, answer.json()["investigationId"])
    finally:
        listener.shutdown()
    assert _Counter.hits == []


def test_a_corrupt_inventory_falls_back_to_the_targets_own_ids(stack: dict[str, Any]) -> None:
    runtime.topology_store().container.get_blob_client("topology.json").upload_blob(b"{not json", overwrite=True)
    answer = post(stack, sample())  # Database0 is app-to-db-port80's destination by id: still matched
    assert answer.status_code == 202, answer.text
    assert "app-to-db-port80" in answer.json()["targets"]
    alert = sample()
    nsg = f"/subscriptions/{SUB}/resourceGroups/ContosoRG/providers/Microsoft.Network/networkSecurityGroups/dbNsg"
    alert["data"]["essentials"].update(alertTargetIDs=[nsg], configurationItems=[],
                                       alertId=alert["data"]["essentials"]["alertId"][:-4] + "ffff")
    assert post(stack, alert).json()["status"] == "unmatched"  # only the inventory links the NSG


def test_an_alert_on_a_transit_appliance_finds_the_paths_that_crossed_it(emu: Emulator,
                                                                        stack: dict[str, Any]) -> None:
    """auNsg sits on the audit appliance's NIC, which app-to-db-port80's path crosses (the route
    tables send it there) but neither end names: its latest result's hops link them."""
    alert = sample()
    nsg = f"/subscriptions/{SUB}/resourceGroups/ContosoRG/providers/Microsoft.Network/networkSecurityGroups/auNsg"
    alert["data"]["essentials"].update(alertTargetIDs=[nsg.lower()], configurationItems=[])
    assert post(stack, alert).json()["status"] == "unmatched"  # no result yet: nothing says the path crosses it
    requests_queue = raw_queue(stack["azurite"], stack["env"]["REQUESTS_QUEUE"])
    body = json.dumps({"version": 1, "target": "app-to-db-port80", "checkId": "sweep-1"})
    requests_queue.send_message(base64.b64encode(body.encode()).decode())
    assert stack["host"].run_until(lambda: len(emu.ingestion.rows_of(CHECKS)) == 1, timeout_s=30,
                                   timers={"ingest": 0.5})
    stack["host"].tick("ingest")
    alert["data"]["essentials"]["alertId"] = alert["data"]["essentials"]["alertId"][:-4] + "aaaa"
    answer = post(stack, alert)
    assert answer.status_code == 202, answer.text
    assert answer.json()["targets"] == ["app-to-db-port80"]
