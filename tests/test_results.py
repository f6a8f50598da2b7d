"""CheckResult: health, duration, and the JSON message form with its validation."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.results import (
    MAX_TEXT,
    CheckResult,
    Finding,
    Hop,
    Issue,
    error_finding,
    format_utc,
    parse_utc,
    timeout_finding,
)

VM = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ContosoRG/providers/Microsoft.Compute"
      "/virtualMachines/MultiTierApp0")
WATCHER = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/NetworkWatcherRG/providers"
           "/Microsoft.Network/networkWatchers/NetworkWatcher_westcentralus")
BLOCKED = Finding(
    status="Unreachable", probes_sent=100, probes_failed=100,
    hops=(Hop("Source", "10.1.1.4", "appNic0", (), ("b",), "a"),
          Hop("VirtualAppliance", "10.1.3.4", "auNic",
              (Issue("Outbound", "Error", "NetworkSecurityRule", (("RuleName", "UserRule_Port80"),)),), (), "b")),
    rule_name="UserRule_Port80", blocking_hop="10.1.3.4", issue_type="NetworkSecurityRule",
)


def result(finding: Finding = BLOCKED, **changes: Any) -> CheckResult:
    base = CheckResult(
        check_id="app-to-db@2026-11-22T10:00Z", target="app-to-db", kind="connectivity", trigger="schedule",
        correlation_id=None, expected="Reachable", finding=finding, scheduled="2026-11-22T10:00:00.000Z",
        started="2026-11-22T10:00:00.123Z", completed="2026-11-22T10:00:03.223Z", polls=3, network_watcher=WATCHER,
        source_resource_id=VM, destination="Database0", port=80, protocol="Tcp", direction=None,
    )
    return dataclasses.replace(base, **changes)


# --------------------------------------------------------------------------- health and duration


@pytest.mark.parametrize(("status", "expected", "healthy"), [
    ("Reachable", "Reachable", True),
    ("Unreachable", "Reachable", False),
    ("Unreachable", "Unreachable", True),  # a path that must stay closed
    ("Degraded", "Reachable", False),
    ("Deny", "Deny", True),
    ("Allow", "Deny", False),
    ("VirtualAppliance", "VirtualAppliance", True),
    ("Internet", "VirtualAppliance", False),
    ("Unknown", "Reachable", None),
    ("Unknown", "Unknown", None),
    ("Error", "Reachable", None),
    ("Timeout", "Allow", None),
])
def test_healthy(status: str, expected: str, healthy: bool | None) -> None:
    assert result(Finding(status=status), expected=expected).healthy is healthy


@pytest.mark.parametrize(("started", "completed", "ms"), [
    ("2026-11-22T10:00:00.123Z", "2026-11-22T10:00:03.223Z", 3100),
    ("2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z", 0),
    ("2026-11-22T10:00:00.000+00:00", "2026-11-22T10:01:00.0005Z", 60000),
    ("2026-11-22T23:59:59.900Z", "2026-11-23T00:00:00.100Z", 200),
    ("2026-11-22T10:00:01.000Z", "2026-11-22T10:00:00.000Z", 0),  # skewed clocks never go negative
])
def test_duration_ms(started: str, completed: str, ms: int) -> None:
    assert result(started=started, completed=completed).duration_ms == ms


def test_utc_times() -> None:
    when = dt.datetime(2026, 11, 22, 11, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert format_utc(when) == "2026-11-22T10:00:00.123Z"
    assert parse_utc("2026-11-22T10:00:00.123Z") == when.replace(microsecond=123000)
    for bad in ("2026-11-22T10:00:00", "2026-11-22T10:00:00+01:00", "yesterday"):
        with pytest.raises(ValueError):
            parse_utc(bad)
    with pytest.raises(ValueError, match="timezone"):
        format_utc(dt.datetime(2026, 11, 22))  # naive: refused


def test_error_and_timeout_findings() -> None:
    assert error_finding("AuthorizationFailed", "no access") == Finding(
        status="Error", error_code="AuthorizationFailed", error_message="no access")
    assert timeout_finding("no result after 300 s") == Finding(
        status="Timeout", error_code="Timeout", error_message="no result after 300 s")
    assert len(error_finding("x" * 5000, "y" * 5000).error_message or "") == MAX_TEXT


# --------------------------------------------------------------------------- message round trip

ROUND_TRIP = [
    result(),
    result(Finding("Reachable", 1, 0, 7, 100, 0)),
    result(Finding("Allow", rule_name="defaultSecurityRules/AllowInternetOutBound"), kind="ipFlow", port=443,
           protocol="TCP", direction="Outbound", expected="Allow", destination="13.107.21.200"),
    result(Finding("VirtualAppliance", next_hop_ip="10.1.2.4", route_table_id="System Route"), kind="nextHop",
           port=None, protocol=None, expected="VirtualAppliance"),
    result(error_finding("SubscriptionRequestsThrottled", "try later"), trigger="queue", correlation_id="c-1",
           scheduled=None, network_watcher=None, destination=None),
    result(timeout_finding("deadline"), trigger="alert", polls=0),
    result(Finding("Unreachable", hops=(Hop("Source", None, None),), hops_omitted=42)),
]


@pytest.mark.parametrize("original", ROUND_TRIP, ids=lambda r: r.finding.status)
def test_message_round_trip(original: CheckResult) -> None:
    message = original.to_message()
    assert message["version"] == 1
    assert CheckResult.from_message(message) == original
    assert CheckResult.from_message(json.loads(json.dumps(message))) == original


def test_message_form() -> None:
    message = result().to_message()
    assert message["finding"]["hops"][1]["issues"][0] == {
        "origin": "Outbound", "severity": "Error", "type": "NetworkSecurityRule",
        "context": [["RuleName", "UserRule_Port80"]]}
    assert message["started"] == "2026-11-22T10:00:00.123Z"
    assert "healthy" not in message  # derived, so never stored


def test_message_may_leave_out_finding_defaults() -> None:
    message = result().to_message()
    message["finding"] = {"status": "Reachable"}
    assert CheckResult.from_message(message).finding == Finding("Reachable")


NAMES = st.text(min_size=1, max_size=10)
OPTIONAL = st.none() | st.text(max_size=10)
COUNTS = st.none() | st.integers(0, 2**31 - 1)
ISSUES = st.builds(Issue, OPTIONAL, OPTIONAL, NAMES, st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)),
                                                                max_size=2).map(tuple))
HOPS = st.builds(Hop, NAMES, OPTIONAL, OPTIONAL, st.lists(ISSUES, max_size=2).map(tuple),
                 st.lists(st.text(max_size=5), max_size=2).map(tuple), OPTIONAL)
FINDINGS = st.builds(Finding, NAMES, COUNTS, COUNTS, COUNTS, COUNTS, COUNTS, st.lists(HOPS, max_size=3).map(tuple),
                     OPTIONAL, OPTIONAL, OPTIONAL, OPTIONAL, OPTIONAL, OPTIONAL, OPTIONAL, OPTIONAL,
                     st.integers(0, 1000))
TIMES = st.datetimes(min_value=dt.datetime(2000, 1, 1), timezones=st.just(dt.UTC)).map(format_utc)


@given(finding=FINDINGS, kind=st.sampled_from(["connectivity", "ipFlow", "nextHop"]), started=TIMES,
       completed=TIMES, scheduled=st.none() | TIMES, port=st.none() | st.integers(0, 65535),
       correlation=OPTIONAL, polls=st.integers(0, 10_000))
def test_any_result_round_trips(finding: Finding, kind: str, started: str, completed: str, scheduled: str | None,
                                port: int | None, correlation: str | None, polls: int) -> None:
    original = result(finding, kind=kind, started=started, completed=completed, scheduled=scheduled, port=port,
                      correlation_id=correlation, polls=polls)
    assert CheckResult.from_message(json.loads(json.dumps(original.to_message()))) == original
    assert original.duration_ms >= 0


# --------------------------------------------------------------------------- malformed messages


def changed(path: str, value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    """A good message with the field at ``path`` ("finding.hops.1.issues.0.type") set or removed."""
    message = copy.deepcopy(result().to_message())
    *parents, last = path.split(".")
    node: Any = message
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if delete:
        del node[key]
    else:
        node[key] = value
    return message


MALFORMED: list[tuple[Any, str]] = [
    (None, "message: must be an object"),
    ([], "message: must be an object"),
    ("{}", "message: must be an object"),
    (changed("version", delete=True), "version: is required"),
    (changed("version", 2), "version: must be 1"),
    (changed("version", "1"), "version: must be 1"),
    (changed("version", True), "version: must be 1"),
    (changed("surprise", 1), "surprise: unknown field"),
    (changed("check_id", delete=True), "check_id: is required"),
    (changed("check_id", ""), "check_id: must be a non-empty string"),
    (changed("target", 5), "target: must be a non-empty string"),
    (changed("kind", "traceroute"), "kind: must be one of"),
    (changed("trigger", None), "trigger: must be a non-empty string"),
    (changed("correlation_id", delete=True), "correlation_id: is required"),
    (changed("correlation_id", 7), "correlation_id: must be a string or null"),
    (changed("expected", None), "expected: must be a non-empty string"),
    (changed("scheduled", "soon"), "scheduled: must be an ISO-8601 UTC time"),
    (changed("started", None), "started: must be an ISO-8601 UTC time"),
    (changed("started", "2026-11-22T10:00:00"), "started: must be an ISO-8601 UTC time"),
    (changed("completed", "2026-11-22T11:00:00+01:00"), "completed: must be an ISO-8601 UTC time"),
    (changed("polls", -1), "polls: must be an integer"),
    (changed("polls", 1.0), "polls: must be an integer"),
    (changed("polls", None), "polls: must be an integer"),
    (changed("port", 70000), "port: must be an integer 0..65535"),
    (changed("port", "80"), "port: must be an integer 0..65535"),
    (changed("direction", ["Inbound"]), "direction: must be a string or null"),
    (changed("finding", None), "finding: must be an object"),
    (changed("finding.status", delete=True), "finding.status: is required"),
    (changed("finding.status", ""), "finding.status: must be a non-empty string"),
    (changed("finding.healthy", True), "finding.healthy: unknown field"),
    (changed("finding.probes_sent", True), "finding.probes_sent: must be an integer"),
    (changed("finding.latency_avg_ms", "1"), "finding.latency_avg_ms: must be an integer"),
    (changed("finding.hops_omitted", -3), "finding.hops_omitted: must be an integer"),
    (changed("finding.rule_name", 1), "finding.rule_name: must be a string or null"),
    (changed("finding.hops", {}), "finding.hops: must be a list"),
    (changed("finding.hops.0", "Source"), "finding.hops[0]: must be an object"),
    (changed("finding.hops.0.type", delete=True), "finding.hops[0].type: is required"),
    (changed("finding.hops.0.address", 10), "finding.hops[0].address: must be a string or null"),
    (changed("finding.hops.0.next_hop_ids", [1]), "finding.hops[0].next_hop_ids[0]: must be a string"),
    (changed("finding.hops.1.issues", "none"), "finding.hops[1].issues: must be a list"),
    (changed("finding.hops.1.issues.0.type", None), "finding.hops[1].issues[0].type: must be a non-empty string"),
    (changed("finding.hops.1.issues.0.context.0", {"key": "RuleName", "value": "R"}),
     "finding.hops[1].issues[0].context[0]: must be a [key, value] pair"),
    (changed("finding.hops.1.issues.0.context.0", ["RuleName"]),
     "finding.hops[1].issues[0].context[0]: must be a [key, value] pair"),
    (changed("finding.hops.1.issues.0.extra", 1), "finding.hops[1].issues[0].extra: unknown field"),
]


@pytest.mark.parametrize(("message", "error"), MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_messages(message: Any, error: str) -> None:
    with pytest.raises(ValueError) as raised:
        CheckResult.from_message(message)
    assert str(raised.value).startswith(error)
