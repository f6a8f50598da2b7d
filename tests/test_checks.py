"""The check kinds: request bodies from Targets, and Findings from ARM's results.

Results come from three places: the emulator's network model (which returns what ARM returns for
the seed network), the literal JSON of Microsoft's walkthroughs and spec examples
(``tests/fixtures/arm_results``), and hand-made variants for the edges and malformed answers.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.network import Network, load_scenario, read_scenario_data
from emulator.seed_cases import DATABASE0, MULTI_TIER_APP0, REGION, SEED_CASES, SUBSCRIPTION
from shared.checks import CHECKS, InvalidArmResult
from shared.checks.connectivity import MAX_ITEMS
from shared.results import MAX_HOPS, MAX_TEXT, CheckResult, Finding, Hop, Issue
from shared.targets import KINDS, Connectivity, IpFlow, NextHop, Target

FIXTURES = Path(__file__).parent / "fixtures" / "arm_results"
VMS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ContosoRG/providers/Microsoft.Compute/virtualMachines"
NICS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ContosoRG/providers/Microsoft.Network/networkInterfaces"
APP_ROUTE_TABLE = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ContosoRG/providers/Microsoft.Network"
                   "/routeTables/appRouteTable")
SEED = load_scenario("seed")


def connectivity(name: str, source: str = MULTI_TIER_APP0, expect: str = "Reachable", **spec: Any) -> Target:
    return Target(name, "connectivity", source, Connectivity(**spec), expect)


def ip_flow(name: str, expect: str = "Allow", **spec: Any) -> Target:
    return Target(name, "ipFlow", MULTI_TIER_APP0, IpFlow(**spec), expect)


def next_hop(name: str, expect: str = "VirtualAppliance", **spec: Any) -> Target:
    return Target(name, "nextHop", MULTI_TIER_APP0, NextHop(**spec), expect)


# The seed cases of emulator/seed_cases.py, as targets.
SEED_TARGETS: dict[str, Target] = {
    "app-to-db-port80": connectivity("app-to-db-port80", expect="Unreachable", destination_resource_id=DATABASE0,
                                     port=80, source_port=0),
    "app-to-13.107.21.200": connectivity("app-to-13.107.21.200", destination_address="13.107.21.200", port=80,
                                         source_port=0),
    "app-to-bing": connectivity("app-to-bing", destination_address="https://bing.com", source_port=0),
    "app-to-blob": connectivity("app-to-blob", destination_address="https://build2017nwdiag360.blob.core.windows.net/",
                                source_port=0),
    "app-out-443": ip_flow("app-out-443", direction="Outbound", protocol="TCP", local_ip="10.1.1.4",
                           local_port="60000", remote_ip="13.107.21.200", remote_port="443"),
    "internet-in-3389": ip_flow("internet-in-3389", expect="Deny", direction="Inbound", protocol="TCP",
                                local_ip="10.1.1.4", local_port="3389", remote_ip="203.0.113.10",
                                remote_port="50000"),
    "app-nexthop-db": next_hop("app-nexthop-db", source_ip="10.1.1.4", destination_ip="10.1.4.4"),
}
ANY_CONNECTIVITY = SEED_TARGETS["app-to-bing"]
ANY_IP_FLOW = SEED_TARGETS["app-out-443"]
ANY_NEXT_HOP = SEED_TARGETS["app-nexthop-db"]
ANY_TARGET = {"connectivity": ANY_CONNECTIVITY, "ipFlow": ANY_IP_FLOW, "nextHop": ANY_NEXT_HOP}


def run(net: Network, target: Target) -> Finding:
    """What the pipeline does, minus HTTP: build the body, let ARM answer, read the answer."""
    kind = CHECKS[target.kind]
    operation = {"connectivityCheck": net.connectivity_check, "ipFlowVerify": net.ip_flow_verify,
                 "nextHop": net.next_hop}[kind.operation]
    return kind.finding(target, operation(SUBSCRIPTION, REGION, kind.request_body(target)))


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def summary(finding: Finding) -> dict[str, Any]:
    """The fields of a finding that are set, hops aside."""
    fields = {name: value for name, value in vars(finding).items() if name != "hops" and value is not None}
    if fields["hops_omitted"] == 0:
        del fields["hops_omitted"]
    return fields


def reachable(**extra: Any) -> dict[str, Any]:
    """A minimal Reachable connectivity result to vary."""
    return {"hops": [hop("Source", "10.1.1.4"), hop("Internet", "204.79.197.200")], "connectionStatus": "Reachable",
            "avgLatencyInMs": 1, "minLatencyInMs": 0, "maxLatencyInMs": 7, "probesSent": 100, "probesFailed": 0,
            **extra}


def hop(kind: str, address: str, *issues: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": kind, "id": f"id-{address}", "address": address, "resourceId": "Internet",
            "nextHopIds": [], "issues": list(issues), **extra}


def issue(kind: str, severity: str | None = "Error", **context: str) -> dict[str, Any]:
    data: dict[str, Any] = {"origin": "Outbound", "type": kind,
                            "context": [{"key": k, "value": v} for k, v in context.items()]}
    if severity is not None:
        data["severity"] = severity
    return data


def unreachable(*hops: dict[str, Any]) -> dict[str, Any]:
    return {"hops": list(hops), "connectionStatus": "Unreachable", "probesSent": 100, "probesFailed": 100}


# --------------------------------------------------------------------------- the registry


def test_one_kind_per_target_kind() -> None:
    assert set(CHECKS) == set(KINDS)
    assert {k: c.operation for k, c in CHECKS.items()} == {
        "connectivity": "connectivityCheck", "ipFlow": "ipFlowVerify", "nextHop": "nextHop"}


# --------------------------------------------------------------------------- request bodies


@pytest.mark.parametrize("case", SEED_CASES, ids=lambda c: c.name)
def test_request_body_is_the_seed_body(case: Any) -> None:
    target = SEED_TARGETS[case.name]
    assert CHECKS[target.kind].operation == case.operation
    assert CHECKS[target.kind].request_body(target) == case.body


NIC = f"{NICS}/appNic0"


@pytest.mark.parametrize(("target", "body"), [
    (connectivity("minimal", destination_address="10.1.4.4"),
     {"source": {"resourceId": MULTI_TIER_APP0}, "destination": {"address": "10.1.4.4", "port": 0}}),
    (connectivity("full", destination_address="bing.com", port=443, protocol="Https", source_port=50000),
     {"source": {"resourceId": MULTI_TIER_APP0, "port": 50000}, "destination": {"address": "bing.com", "port": 443},
      "protocol": "Https"}),
    (connectivity("by-id", destination_resource_id=DATABASE0, port=1433, protocol="Tcp"),
     {"source": {"resourceId": MULTI_TIER_APP0}, "destination": {"resourceId": DATABASE0, "port": 1433},
      "protocol": "Tcp"}),
    (ip_flow("nic", direction="Outbound", protocol="UDP", local_ip="10.1.1.4", local_port="*",
             remote_ip="8.8.8.8", remote_port="53-54", nic_resource_id=NIC),
     {"targetResourceId": MULTI_TIER_APP0, "direction": "Outbound", "protocol": "UDP", "localIPAddress": "10.1.1.4",
      "localPort": "*", "remoteIPAddress": "8.8.8.8", "remotePort": "53-54", "targetNicResourceId": NIC}),
    (next_hop("nic", source_ip="10.1.1.4", destination_ip="10.1.4.4", nic_resource_id=NIC),
     {"targetResourceId": MULTI_TIER_APP0, "sourceIPAddress": "10.1.1.4", "destinationIPAddress": "10.1.4.4",
      "targetNicResourceId": NIC}),
], ids=lambda v: v.name if isinstance(v, Target) else "")
def test_request_body(target: Target, body: dict[str, Any]) -> None:
    assert CHECKS[target.kind].request_body(target) == body


def test_request_body_of_another_kinds_target_is_a_bug() -> None:
    for kind, check in CHECKS.items():
        other = ANY_TARGET["nextHop" if kind == "connectivity" else "connectivity"]
        with pytest.raises(TypeError, match="spec"):
            check.request_body(other)


@pytest.mark.parametrize("spec", [Connectivity(port=80), Connectivity(destination_resource_id=DATABASE0,
                                                                       destination_address="10.1.4.4")])
def test_connectivity_needs_exactly_one_destination(spec: Connectivity) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        CHECKS["connectivity"].request_body(Target("t", "connectivity", MULTI_TIER_APP0, spec, "Reachable"))


# --------------------------------------------------------------------------- the seed network (emulator)

SEED_FINDINGS: dict[str, dict[str, Any]] = {
    "app-to-db-port80": dict(status="Unreachable", probes_sent=100, probes_failed=100, blocking_hop="10.1.3.4",
                             issue_type="NetworkSecurityRule", rule_name="UserRule_Port80"),
    "app-to-13.107.21.200": dict(status="Unreachable", probes_sent=100, probes_failed=100, blocking_hop="10.1.1.4",
                                 issue_type="UserDefinedRoute", route_type="User"),
    "app-to-bing": dict(status="Reachable", latency_avg_ms=1, latency_min_ms=0, latency_max_ms=7, probes_sent=100,
                        probes_failed=0),
    "app-to-blob": dict(status="Reachable", latency_avg_ms=1, latency_min_ms=0, latency_max_ms=7, probes_sent=100,
                        probes_failed=0),
    "app-out-443": dict(status="Allow", rule_name="defaultSecurityRules/AllowInternetOutBound"),
    "internet-in-3389": dict(status="Deny", rule_name="defaultSecurityRules/DefaultInboundDenyAll"),
    "app-nexthop-db": dict(status="VirtualAppliance", next_hop_ip="10.1.2.4", route_table_id=APP_ROUTE_TABLE),
}


@pytest.mark.parametrize("name", list(SEED_FINDINGS))
def test_seed_results_from_the_emulator(name: str) -> None:
    finding = run(SEED, SEED_TARGETS[name])
    assert summary(finding) == SEED_FINDINGS[name]


def test_seed_hops_from_the_emulator() -> None:
    finding = run(SEED, SEED_TARGETS["app-to-db-port80"])
    assert [(h.type, h.address) for h in finding.hops] == [
        ("Source", "10.1.1.4"), ("VirtualAppliance", "10.1.2.4"), ("VirtualAppliance", "10.1.3.4"),
        ("VnetLocal", "10.1.4.4")]
    assert finding.hops[0].resource_id == f"{NICS}/appNic0/ipConfigurations/ipconfig1"
    assert finding.hops[2].issues == (
        Issue("Outbound", "Error", "NetworkSecurityRule", (("RuleName", "UserRule_Port80"),)),)
    assert [h.next_hop_ids for h in finding.hops[:-1]] == [(h.id,) for h in finding.hops[1:]]
    assert finding.hops[-1].next_hop_ids == ()


def test_spec_vocabulary_from_the_emulator() -> None:
    data = read_scenario_data("seed")
    data["status_vocabulary"] = "spec"
    net = Network.from_dict(data)
    assert run(net, SEED_TARGETS["app-to-bing"]).status == "Reachable"
    assert summary(run(net, SEED_TARGETS["app-to-db-port80"])) == SEED_FINDINGS["app-to-db-port80"]


def test_agent_stopped_from_the_emulator() -> None:
    finding = run(SEED, connectivity("stopped", source=f"{VMS}/MultiTierApp3", destination_resource_id=DATABASE0))
    assert summary(finding) == dict(status="Unknown", probes_sent=0, probes_failed=0, blocking_hop="10.1.1.7",
                                    issue_type="AgentStopped")


def test_degraded_from_the_emulator() -> None:
    finding = run(SEED, connectivity("flaky", destination_address="flaky.contoso.example", port=443))
    assert summary(finding) == dict(status="Degraded", latency_avg_ms=48, latency_min_ms=21, latency_max_ms=190,
                                    probes_sent=100, probes_failed=30)


def test_dns_failure_from_the_emulator() -> None:
    finding = run(SEED, connectivity("dns", destination_address="nowhere.contoso.example", port=80))
    assert (finding.status, finding.issue_type, finding.blocking_hop) == ("Unreachable", "DnsResolution", "10.1.1.4")


def test_next_hop_to_the_internet_from_the_emulator() -> None:
    finding = run(SEED, next_hop("out", expect="Internet", source_ip="10.1.1.4", destination_ip="204.79.197.200"))
    assert finding.status == "Internet"


# --------------------------------------------------------------------------- literal JSON of the docs and spec

LITERAL: list[tuple[str, str, dict[str, Any]]] = [
    ("seed-connectivity-nsg-userrule-port80", "connectivity", SEED_FINDINGS["app-to-db-port80"]),
    ("seed-connectivity-udr-13.107.21.200", "connectivity", SEED_FINDINGS["app-to-13.107.21.200"]),
    ("seed-connectivity-bing", "connectivity", SEED_FINDINGS["app-to-bing"]),
    ("seed-connectivity-blob", "connectivity", SEED_FINDINGS["app-to-blob"]),
    ("seed-ipflow-allow", "ipFlow", SEED_FINDINGS["app-out-443"]),
    ("seed-ipflow-deny", "ipFlow", SEED_FINDINGS["internet-in-3389"]),
    ("spec-connectivity-connected", "connectivity",
     dict(status="Reachable", latency_avg_ms=1, latency_min_ms=1, latency_max_ms=4, probes_sent=100,
          probes_failed=0)),
    ("spec-ipflow-allow", "ipFlow", dict(status="Allow", rule_name="Rule1")),
    ("spec-nexthop-vnetlocal", "nextHop",
     dict(status="VnetLocal", next_hop_ip="10.0.0.1",
          route_table_id="/subscriptions/subid/resourceGroups/rg2/providers/Microsoft.Network/routeTables/rt1")),
]


@pytest.mark.parametrize(("name", "kind", "expected"), LITERAL, ids=[c[0] for c in LITERAL])
def test_literal_results(name: str, kind: str, expected: dict[str, Any]) -> None:
    assert summary(CHECKS[kind].finding(ANY_TARGET[kind], fixture(name))) == expected


def test_literal_hops_are_kept_in_order() -> None:
    finding = CHECKS["connectivity"].finding(ANY_CONNECTIVITY, fixture("seed-connectivity-nsg-userrule-port80"))
    assert finding.hops[0] == Hop(
        type="Source", address="10.1.1.4",
        resource_id=f"{NICS}/appNic0/ipConfigurations/ipconfig1", issues=(),
        next_hop_ids=("06dee00a-9c4a-4fb1-b2ea-fa0a539ca684",), id="0cb75c91-7ebf-4df8-8424-15594d6fb51c")
    assert [h.type for h in finding.hops] == ["Source", "VirtualAppliance", "VirtualAppliance", "VnetLocal"]


# --------------------------------------------------------------------------- connectivity edges


def check(result: Any) -> Finding:
    return CHECKS["connectivity"].finding(ANY_CONNECTIVITY, result)


@pytest.mark.parametrize(("reported", "status"), [
    ("Reachable", "Reachable"),
    ("Connected", "Reachable"),
    ("connected", "Reachable"),
    (" REACHABLE ", "Reachable"),
    ("Unreachable", "Unreachable"),
    ("Disconnected", "Unreachable"),
    ("Degraded", "Degraded"),
    ("Unknown", "Unknown"),
    ("PartiallyConnected", "Unknown"),  # a new word is never healthy by accident
    ("ok", "Unknown"),
])
def test_connection_status_words(reported: str, status: str) -> None:
    assert check(reachable(connectionStatus=reported)).status == status


@pytest.mark.parametrize(("result", "status"), [
    (reachable(probesSent=0, probesFailed=0), "Unknown"),
    (unreachable(hop("Source", "10.1.1.4")) | {"probesSent": 0}, "Unknown"),
    (reachable(hops=[hop("Source", "10.1.1.4", issue("AgentStopped"))]), "Unknown"),
    (reachable(hops=[hop("Source", "10.1.1.4", issue("agentstopped", "Warning"))]), "Unknown"),
    ({"connectionStatus": "Unknown", "hops": [hop("Source", "10.1.1.4", issue("AgentStopped"))],
      "probesSent": 0, "probesFailed": 0}, "Unknown"),
    (reachable(probesSent=None), "Reachable"),  # absent counts say nothing
])
def test_no_probes_means_unknown(result: dict[str, Any], status: str) -> None:
    assert check(result).status == status


def test_latency_is_optional() -> None:
    finding = check({"connectionStatus": "Disconnected"})
    assert summary(finding) == {"status": "Unreachable"}
    assert finding.hops == ()


@pytest.mark.parametrize(("hops", "blocking"), [
    # The first hop with an Error issue, and that hop's first Error issue.
    ([hop("Source", "10.1.1.4"), hop("VirtualAppliance", "10.1.2.4", issue("NetworkSecurityRule", RuleName="A")),
      hop("VnetLocal", "10.1.4.4", issue("NetworkSecurityRule", RuleName="B"))],
     ("10.1.2.4", "NetworkSecurityRule", "A", None)),
    ([hop("Source", "10.1.1.4", issue("GuestFirewall", "Warning"), issue("UserDefinedRoute", RouteType="User"))],
     ("10.1.1.4", "UserDefinedRoute", None, "User")),
    # Warnings do not block.
    ([hop("Source", "10.1.1.4", issue("PortThrottled", "Warning")), hop("X", "10.1.9.9")], (None, None, None, None)),
    # No severity is read as Error.
    ([hop("Source", "10.1.1.4"), hop("X", "10.1.9.9", issue("Platform", None))], ("10.1.9.9", "Platform", None, None)),
    ([hop("Source", "10.1.1.4", issue("Platform", "error"))], ("10.1.1.4", "Platform", None, None)),
    # An unknown severity is kept but does not block.
    ([hop("Source", "10.1.1.4", issue("Platform", "Critical"))], (None, None, None, None)),
    # Unknown issue types are kept; known ones canonicalized.
    ([hop("Source", "10.1.1.4", issue("QuantumFlux"))], ("10.1.1.4", "QuantumFlux", None, None)),
    ([hop("Source", "10.1.1.4", issue("networksecurityrule", RuleName="R"))],
     ("10.1.1.4", "NetworkSecurityRule", "R", None)),
    ([hop("Source", "10.1.1.4", issue("CPU"))], ("10.1.1.4", "CPU", None, None)),
    # A blocking hop without an address.
    ([{"type": "Source", "issues": [issue("DnsResolution")]}], (None, "DnsResolution", None, None)),
    # Context keys match case-insensitively.
    ([hop("Source", "10.1.1.4", {"type": "NetworkSecurityRule", "context": [{"KEY": "rulename", "Value": "R"}]})],
     ("10.1.1.4", "NetworkSecurityRule", "R", None)),
])
def test_blocking_issue(hops: list[dict[str, Any]], blocking: tuple[str | None, ...]) -> None:
    finding = check(unreachable(*hops))
    assert (finding.blocking_hop, finding.issue_type, finding.rule_name, finding.route_type) == blocking


@pytest.mark.parametrize(("raw", "parsed"), [
    # Extra keys on a context item are ignored.
    ({"type": "NetworkSecurityRule", "context": [{"key": "RuleName", "value": "R", "source": "nsg"}]},
     Issue(None, None, "NetworkSecurityRule", (("RuleName", "R"),))),
    # No context, null context, empty context.
    ({"type": "DnsResolution"}, Issue(None, None, "DnsResolution")),
    ({"type": "DnsResolution", "context": None, "origin": None, "severity": None}, Issue(None, None, "DnsResolution")),
    ({"type": "DnsResolution", "context": []}, Issue(None, None, "DnsResolution")),
    # The spec's map form: an object of string values, alone or in a list.
    ({"type": "UserDefinedRoute", "context": [{"RouteType": "User", "Route": "r1"}]},
     Issue(None, None, "UserDefinedRoute", (("RouteType", "User"), ("Route", "r1")))),
    ({"type": "UserDefinedRoute", "context": {"RouteType": "User"}},
     Issue(None, None, "UserDefinedRoute", (("RouteType", "User"),))),
    # Missing type, blank enums, canonical spellings.
    ({}, Issue(None, None, "Unknown")),
    ({"type": " ", "origin": "", "severity": " "}, Issue(None, None, "Unknown")),
    ({"type": "userdefinedroute", "origin": "outbound", "severity": "WARNING"},
     Issue("Outbound", "Warning", "UserDefinedRoute")),
    ({"type": "Foo", "origin": "Sideways", "severity": "Critical"}, Issue("Sideways", "Critical", "Foo")),
])
def test_issue_shapes(raw: dict[str, Any], parsed: Issue) -> None:
    assert check(unreachable(hop("Source", "10.1.1.4", raw))).hops[0].issues == (parsed,)


def test_hop_shapes() -> None:
    finding = check(unreachable({}, {"TYPE": "Internet", "Address": "1.2.3.4", "nextHopIds": None, "issues": None,
                                     "links": [{"anything": [1, 2]}], "previousHopIds": ["x"]}))
    assert finding.hops == (Hop("Unknown", None, None, (), (), None), Hop("Internet", "1.2.3.4", None, (), (), None))


def test_unknown_properties_and_nulls_are_ignored() -> None:
    finding = check(reachable(avgLatencyInMs=None, somethingNew={"x": [1.5, True]}, hops=None))
    assert finding.latency_avg_ms is None and finding.hops == () and finding.status == "Reachable"


def test_long_text_is_cut() -> None:
    long = "x" * (MAX_TEXT * 3)
    result = unreachable(hop(long, long, issue(long, RuleName=long), resourceId=long, id=long, nextHopIds=[long]))
    finding = check(result | {"connectionStatus": "Unreachable" + long})
    assert finding.status == "Unknown"  # a status word with junk after it is not Unreachable
    first = finding.hops[0]
    assert {len(first.type), len(first.address or ""), len(first.resource_id or ""), len(first.id or ""),
            len(first.next_hop_ids[0]), len(first.issues[0].type), len(first.issues[0].context[0][1]),
            len(finding.rule_name or "")} == {MAX_TEXT}


def test_long_hop_lists_are_cut_and_counted() -> None:
    hops = [hop("VirtualAppliance", f"10.{i // 250}.{i % 250}.4") for i in range(MAX_HOPS + 50)]
    hops[MAX_HOPS + 10]["issues"] = [issue("UserDefinedRoute", RouteType="User")]
    finding = check(unreachable(*hops))
    assert len(finding.hops) == MAX_HOPS and finding.hops_omitted == 50
    assert finding.hops[-1].address == hops[MAX_HOPS - 1]["address"]
    # The blocking issue was looked for in every hop, dropped or not.
    assert (finding.blocking_hop, finding.route_type) == (hops[MAX_HOPS + 10]["address"], "User")
    assert check(unreachable(*hops[:MAX_HOPS])).hops_omitted == 0


def test_long_lists_inside_a_hop_are_cut() -> None:
    many = [issue("Platform", "Warning", **{f"k{i}": "v" for i in range(MAX_ITEMS + 5)}) for _ in range(MAX_ITEMS + 5)]
    finding = check(unreachable(hop("Source", "10.1.1.4", *many, nextHopIds=[str(i) for i in range(MAX_ITEMS + 5)])))
    first = finding.hops[0]
    assert (len(first.issues), len(first.next_hop_ids), len(first.issues[0].context)) == (MAX_ITEMS,) * 3


# --------------------------------------------------------------------------- ipFlow and nextHop edges


@pytest.mark.parametrize(("result", "expected"), [
    ({"access": "Allow"}, dict(status="Allow")),
    ({"access": "deny", "ruleName": None}, dict(status="Deny")),
    ({"access": " ALLOW ", "ruleName": "securityRules/AllowWeb", "extra": 1}, dict(status="Allow",
                                                                                  rule_name="securityRules/AllowWeb")),
    ({"Access": "Deny", "RuleName": "r"}, dict(status="Deny", rule_name="r")),
])
def test_ip_flow_results(result: dict[str, Any], expected: dict[str, Any]) -> None:
    assert summary(CHECKS["ipFlow"].finding(ANY_IP_FLOW, result)) == expected


@pytest.mark.parametrize(("result", "expected"), [
    ({"nextHopType": "Internet", "routeTableId": "System Route"}, dict(status="Internet",
                                                                      route_table_id="System Route")),
    ({"nextHopType": "virtualappliance", "nextHopIpAddress": "10.1.2.4"}, dict(status="VirtualAppliance",
                                                                              next_hop_ip="10.1.2.4")),
    ({"nextHopType": "NONE"}, dict(status="None")),
    ({"nextHopType": "VnetPeering"}, dict(status="VnetPeering")),
    ({"nextHopType": "VirtualNetworkServiceEndpoint"}, dict(status="VirtualNetworkServiceEndpoint")),  # kept
])
def test_next_hop_results(result: dict[str, Any], expected: dict[str, Any]) -> None:
    assert summary(CHECKS["nextHop"].finding(ANY_NEXT_HOP, result)) == expected


# --------------------------------------------------------------------------- malformed results

GOOD_HOP = hop("Source", "10.1.1.4", issue("NetworkSecurityRule", RuleName="R"))


def with_hop(**changes: Any) -> dict[str, Any]:
    bad = copy.deepcopy(GOOD_HOP) | changes
    return unreachable(hop("Source", "10.1.1.4"), bad)


def with_issue(**changes: Any) -> dict[str, Any]:
    return with_hop(issues=[issue("NetworkSecurityRule", RuleName="R") | changes])


MALFORMED: list[tuple[str, Any, str]] = [
    ("connectivity", None, "result: must be a JSON object"),
    ("connectivity", [reachable()], "result: must be a JSON object"),
    ("connectivity", "Reachable", "result: must be a JSON object"),
    ("connectivity", {}, "connectionStatus: is required"),
    ("connectivity", reachable(connectionStatus=None), "connectionStatus: is required"),
    ("connectivity", reachable(connectionStatus=""), "connectionStatus: must not be empty"),
    ("connectivity", reachable(connectionStatus=1), "connectionStatus: must be a string"),
    ("connectivity", reachable(connectionStatus=["Reachable"]), "connectionStatus: must be a string"),
    ("connectivity", reachable(avgLatencyInMs=1.5), "avgLatencyInMs: must be an integer"),
    ("connectivity", reachable(minLatencyInMs="0"), "minLatencyInMs: must be an integer"),
    ("connectivity", reachable(maxLatencyInMs=True), "maxLatencyInMs: must be an integer"),
    ("connectivity", reachable(probesSent=False), "probesSent: must be an integer"),
    ("connectivity", reachable(probesFailed=-1), "probesFailed: must be within"),
    ("connectivity", reachable(probesSent=2**40), "probesSent: must be within"),
    ("connectivity", reachable(avgLatencyInMs=1.0), "avgLatencyInMs: must be an integer"),
    ("connectivity", reachable(hops={"0": GOOD_HOP}), "hops: must be a list"),
    ("connectivity", reachable(hops="Source"), "hops: must be a list"),
    ("connectivity", reachable(hops=[GOOD_HOP, None]), "hops[1]: must be a JSON object"),
    ("connectivity", with_hop(type=7), "hops[1].type: must be a string"),
    ("connectivity", with_hop(address=["10.1.1.4"]), "hops[1].address: must be a string"),
    ("connectivity", with_hop(resourceId={"id": "x"}), "hops[1].resourceId: must be a string"),
    ("connectivity", with_hop(id=12), "hops[1].id: must be a string"),
    ("connectivity", with_hop(nextHopIds="abc"), "hops[1].nextHopIds: must be a list"),
    ("connectivity", with_hop(nextHopIds=["a", 2]), "hops[1].nextHopIds[1]: must be a string"),
    ("connectivity", with_hop(issues={"type": "Platform"}), "hops[1].issues: must be a list"),
    ("connectivity", with_hop(issues=["NetworkSecurityRule"]), "hops[1].issues[0]: must be a JSON object"),
    ("connectivity", with_issue(type=False), "hops[1].issues[0].type: must be a string"),
    ("connectivity", with_issue(severity=3), "hops[1].issues[0].severity: must be a string"),
    ("connectivity", with_issue(origin=[]), "hops[1].issues[0].origin: must be a string"),
    ("connectivity", with_issue(context="RuleName=R"), "hops[1].issues[0].context: must be a list"),
    ("connectivity", with_issue(context=[["RuleName", "R"]]), "hops[1].issues[0].context[0]: must be a JSON object"),
    ("connectivity", with_issue(context=[{"key": "RuleName"}]), "hops[1].issues[0].context[0].value: is required"),
    ("connectivity", with_issue(context=[{"key": None, "value": "R"}]),
     "hops[1].issues[0].context[0].key: is required"),
    ("connectivity", with_issue(context=[{"key": 1, "value": "R"}]), "hops[1].issues[0].context[0].key: must be a"),
    ("connectivity", with_issue(context=[{"key": "RuleName", "value": 80}]),
     "hops[1].issues[0].context[0].value: must be a string"),
    ("connectivity", with_issue(context=[{"RuleName": ["R"]}]),
     "hops[1].issues[0].context[0].RuleName: must be a string"),
    ("ipFlow", None, "result: must be a JSON object"),
    ("ipFlow", {}, "access: is required"),
    ("ipFlow", {"access": None, "ruleName": "r"}, "access: is required"),
    ("ipFlow", {"access": True}, "access: must be a string"),
    ("ipFlow", {"access": "Allowed"}, "access: must be Allow or Deny"),
    ("ipFlow", {"access": "Reachable"}, "access: must be Allow or Deny"),
    ("ipFlow", {"access": "Allow", "ruleName": 5}, "ruleName: must be a string"),
    ("nextHop", [], "result: must be a JSON object"),
    ("nextHop", {"nextHopIpAddress": "10.1.2.4"}, "nextHopType: is required"),
    ("nextHop", {"nextHopType": " "}, "nextHopType: must not be empty"),
    ("nextHop", {"nextHopType": 4}, "nextHopType: must be a string"),
    ("nextHop", {"nextHopType": "Internet", "nextHopIpAddress": 167837956}, "nextHopIpAddress: must be a string"),
    ("nextHop", {"nextHopType": "Internet", "routeTableId": {"id": "rt"}}, "routeTableId: must be a string"),
]


@pytest.mark.parametrize(("kind", "result", "message"), MALFORMED, ids=[f"{c[0]}-{c[2]}" for c in MALFORMED])
def test_malformed_results(kind: str, result: Any, message: str) -> None:
    with pytest.raises(InvalidArmResult) as raised:
        CHECKS[kind].finding(ANY_TARGET[kind], result)
    assert str(raised.value).startswith(message)


def test_invalid_arm_result_is_a_value_error() -> None:
    assert issubclass(InvalidArmResult, ValueError)


# --------------------------------------------------------------------------- any JSON at all

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
# Keys ARM uses, so that generated objects get past the first checks and into the nested ones.
KEYS = st.sampled_from(["hops", "connectionStatus", "avgLatencyInMs", "minLatencyInMs", "maxLatencyInMs",
                        "probesSent", "probesFailed", "type", "id", "address", "resourceId", "nextHopIds", "issues",
                        "origin", "severity", "context", "key", "value", "access", "ruleName", "nextHopType",
                        "nextHopIpAddress", "routeTableId"])
WORDS = st.sampled_from(["Reachable", "Connected", "Degraded", "Allow", "deny", "AgentStopped", "Error", "Warning",
                         "RuleName", "RouteType", "Internet", ""])
ARM_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2, max_value=2**32) | st.floats() | WORDS | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)


@settings(max_examples=300)
@given(kind=st.sampled_from(KINDS), result=JSON | ARM_LIKE)
def test_any_json_gives_a_finding_or_invalid_arm_result(kind: str, result: Any) -> None:
    try:
        finding = CHECKS[kind].finding(ANY_TARGET[kind], result)
    except InvalidArmResult as exc:
        assert str(exc).split(":", 1)[0]  # names a field
        return
    assert isinstance(finding, Finding) and finding.status
    if kind == "connectivity":
        assert finding.status in ("Reachable", "Unreachable", "Degraded", "Unknown")
    if kind == "ipFlow":
        assert finding.status in ("Allow", "Deny")


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """ARM's shape nine times in ten, any JSON at all the tenth: deep fields get exercised too."""
    return st.integers(0, 9).flatmap(lambda n: JSON if n == 0 else good)


TEXT = st.text(max_size=6) | WORDS
COUNT = st.integers(min_value=0, max_value=200)
CONTEXT_ITEM = (st.fixed_dictionaries({"key": mostly(WORDS), "value": mostly(TEXT)}, optional={"extra": JSON})
                | st.dictionaries(st.text(max_size=5), mostly(TEXT), max_size=2))
ISSUE = st.fixed_dictionaries({}, optional={
    "origin": mostly(st.sampled_from(["Local", "Inbound", "outbound", ""])),
    "severity": mostly(st.sampled_from(["Error", "Warning", "error", "Critical"])),
    "type": mostly(st.sampled_from(["NetworkSecurityRule", "UserDefinedRoute", "AgentStopped", "New", ""])),
    "context": mostly(st.lists(mostly(CONTEXT_ITEM), max_size=3) | CONTEXT_ITEM),
})
HOP = st.fixed_dictionaries({}, optional={
    "type": mostly(TEXT), "id": mostly(TEXT), "address": mostly(TEXT), "resourceId": mostly(TEXT),
    "nextHopIds": mostly(st.lists(mostly(TEXT), max_size=3)), "issues": mostly(st.lists(mostly(ISSUE), max_size=3)),
})
ARM_SHAPED = {
    "connectivity": st.fixed_dictionaries({"connectionStatus": mostly(WORDS)}, optional={
        "hops": mostly(st.lists(mostly(HOP), max_size=5)), "avgLatencyInMs": mostly(COUNT),
        "minLatencyInMs": mostly(COUNT), "maxLatencyInMs": mostly(COUNT), "probesSent": mostly(COUNT),
        "probesFailed": mostly(COUNT), "unknownProperty": JSON}),
    "ipFlow": st.fixed_dictionaries({"access": mostly(st.sampled_from(["Allow", "Deny", "allow", "Maybe"]))},
                                    optional={"ruleName": mostly(TEXT)}),
    "nextHop": st.fixed_dictionaries({"nextHopType": mostly(TEXT)}, optional={
        "nextHopIpAddress": mostly(TEXT), "routeTableId": mostly(TEXT)}),
}


@settings(max_examples=500)
@given(data=st.data(), kind=st.sampled_from(KINDS))
def test_arm_shaped_results_give_a_storable_finding_or_invalid_arm_result(data: st.DataObject, kind: str) -> None:
    result = data.draw(ARM_SHAPED[kind])
    try:
        finding = CHECKS[kind].finding(ANY_TARGET[kind], result)
    except InvalidArmResult:
        return
    if finding.blocking_hop is not None:
        assert finding.issue_type is not None
    # Whatever was read from ARM survives the message form the pipeline keeps it in.
    stored = CheckResult("c", "t", kind, "schedule", None, "x", finding, None, "2026-11-22T10:00:00.000Z",
                         "2026-11-22T10:00:01.000Z", 1, None, MULTI_TIER_APP0, None, None, None, None)
    assert CheckResult.from_message(json.loads(json.dumps(stored.to_message()))) == stored
