"""NSG semantics: priority order, default rules, ports, prefixes, tags, protocols, levels."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import pytest

from emulator.network.model import parse_security_rule
from emulator.network.nsg import (
    ALL_PORTS,
    Flow,
    NsgLevel,
    SecurityRule,
    TagContext,
    default_rules,
    evaluate_levels,
    evaluate_nsg,
    parse_address_prefix,
    parse_port_range,
    rule_matches,
)

# The evaluating NIC sits in 10.1.0.0/16; another VNet (10.2.0.0/16) exists elsewhere.
CTX = TagContext(
    virtual_network=(IPv4Network("10.1.0.0/16"),),
    all_vnet_spaces=(IPv4Network("10.1.0.0/16"), IPv4Network("10.2.0.0/16")),
)
DEFAULTS = default_rules()


def rule(name: str, priority: int, **fields: Any) -> SecurityRule:
    """A user rule through the scenario parser; anything not given is '*' / Inbound / Allow."""
    data: dict[str, Any] = {
        "name": name,
        "priority": priority,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "*",
        "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": "*",
    }
    for key, value in fields.items():
        # Let a caller give a plural form (e.g. destinationPortRanges) instead of the single one.
        if key.endswith(("Prefixes", "Ranges")):
            data.pop(key.removesuffix("es") if key.endswith("Prefixes") else key.removesuffix("s"), None)
        data[key] = value
    return parse_security_rule(data, f"rule[{name}]")


def flow(
    direction: str = "Inbound",
    protocol: str = "Tcp",
    src: str = "10.1.1.4",
    dst: str = "10.1.4.4",
    sport: tuple[int, int] = (50000, 50000),
    dport: int | tuple[int, int] = 80,
) -> Flow:
    ports = dport if isinstance(dport, tuple) else (dport, dport)
    return Flow(direction, protocol, IPv4Address(src), sport, IPv4Address(dst), ports)


def decide(rules: list[SecurityRule], f: Flow, renames: dict[str, str] | None = None) -> SecurityRule:
    return evaluate_nsg(rules, default_rules(renames), f, CTX)


# --------------------------------------------------------------------------- priority


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([rule("Deny100", 100, access="Deny"), rule("Allow200", 200)], "Deny100"),
        ([rule("Allow200", 200), rule("Deny100", 100, access="Deny")], "Deny100"),
        ([rule("Allow100", 100), rule("Deny200", 200, access="Deny")], "Allow100"),
        ([rule("Deny4096", 4096, access="Deny"), rule("Allow101", 101)], "Allow101"),
        # A higher-priority rule that does not match is skipped.
        ([rule("Ssh", 100, access="Deny", destinationPortRange=22), rule("Any", 300)], "Any"),
        # Outbound rules never decide an inbound flow.
        ([rule("Out", 100, direction="Outbound", access="Deny"), rule("In", 200)], "In"),
    ],
)
def test_lowest_priority_number_wins(rules: list[SecurityRule], expected: str) -> None:
    assert decide(rules, flow()).name == expected


def test_user_rules_come_before_default_rules() -> None:
    # Even priority 4096 beats AllowVnetInBound (65000).
    chosen = decide([rule("DenyLast", 4096, access="Deny")], flow(src="10.1.1.4"))
    assert (chosen.name, chosen.default) == ("DenyLast", False)


# --------------------------------------------------------------------------- default rules


@pytest.mark.parametrize(
    ("direction", "src", "dst", "expected"),
    [
        ("Inbound", "10.1.1.4", "10.1.4.4", "AllowVnetInBound"),
        ("Inbound", "168.63.129.16", "10.1.4.4", "AllowAzureLoadBalancerInBound"),
        ("Inbound", "13.107.21.200", "10.1.4.4", "DenyAllInBound"),
        ("Inbound", "10.2.0.5", "10.1.4.4", "DenyAllInBound"),  # another, unpeered VNet
        ("Inbound", "192.168.7.7", "10.1.4.4", "DenyAllInBound"),  # private, not the VNet
        ("Outbound", "10.1.1.4", "10.1.200.9", "AllowVnetOutBound"),
        ("Outbound", "10.1.1.4", "204.79.197.200", "AllowInternetOutBound"),
        ("Outbound", "10.1.1.4", "10.9.9.9", "DenyAllOutBound"),  # RFC 1918 is not Internet
        ("Outbound", "10.1.1.4", "172.16.0.1", "DenyAllOutBound"),
        ("Outbound", "10.1.1.4", "10.2.0.5", "DenyAllOutBound"),  # other VNet: neither tag
        ("Outbound", "10.1.1.4", "168.63.129.16", "DenyAllOutBound"),  # platform IP: not Internet
    ],
)
def test_default_rules(direction: str, src: str, dst: str, expected: str) -> None:
    chosen = decide([], flow(direction=direction, src=src, dst=dst))
    assert chosen.name == expected
    assert chosen.default
    assert chosen.arm_name == f"defaultSecurityRules/{expected}"
    assert chosen.flow_log_name == f"DefaultRule_{expected}"


def test_default_rule_priorities_and_access() -> None:
    table = {(r.name, r.direction): (r.priority, r.access) for r in DEFAULTS}
    assert table == {
        ("AllowVnetInBound", "Inbound"): (65000, "Allow"),
        ("AllowAzureLoadBalancerInBound", "Inbound"): (65001, "Allow"),
        ("DenyAllInBound", "Inbound"): (65500, "Deny"),
        ("AllowVnetOutBound", "Outbound"): (65000, "Allow"),
        ("AllowInternetOutBound", "Outbound"): (65001, "Allow"),
        ("DenyAllOutBound", "Outbound"): (65500, "Deny"),
    }


def test_renamed_default_rule_keeps_its_semantics() -> None:
    chosen = decide([], flow(src="13.107.21.200"), {"DenyAllInBound": "DefaultInboundDenyAll"})
    assert (chosen.access, chosen.arm_name) == ("Deny", "defaultSecurityRules/DefaultInboundDenyAll")


def test_user_rule_names() -> None:
    chosen = decide([rule("Port80", 100, access="Deny", destinationPortRange=80)], flow())
    assert chosen.arm_name == "securityRules/Port80"
    assert chosen.flow_log_name == "UserRule_Port80"


# --------------------------------------------------------------------------- ports


@pytest.mark.parametrize(
    ("ports", "dport", "matches"),
    [
        ("*", 1, True),
        ("*", (0, 65535), True),
        (80, 80, True),
        ("80", 81, False),
        ("80-120", 80, True),
        ("80-120", 120, True),
        ("80-120", 79, False),
        ("80-120", 121, False),
        ("80-120", (90, 100), True),  # a requested range inside the rule's range
        ("80-120", (90, 121), False),  # a range only partly covered does not match
        ([22, "8080-8090"], 22, True),
        ([22, "8080-8090"], 8085, True),
        ([22, "8080-8090"], 23, False),
        (["80-90", "91-100"], (85, 95), True),  # adjacent ranges cover as one
        (["80-89", "91-100"], (85, 95), False),  # 90 is missing
    ],
)
def test_destination_ports(ports: Any, dport: int | tuple[int, int], matches: bool) -> None:
    key = "destinationPortRanges" if isinstance(ports, list) else "destinationPortRange"
    r = rule("R", 100, access="Deny", **{key: ports})
    assert rule_matches(r, flow(dport=dport), CTX) is matches


def test_source_port_ranges_are_honoured() -> None:
    r = rule("FromHighPorts", 100, sourcePortRange="1024-65535", access="Deny")
    assert rule_matches(r, flow(sport=(50000, 50000)), CTX)
    assert not rule_matches(r, flow(sport=(53, 53)), CTX)


def test_source_port_defaults_to_any() -> None:
    assert rule("R", 100).source_ports == (ALL_PORTS,)


# --------------------------------------------------------------------------- prefixes and tags


@pytest.mark.parametrize(
    ("prefix", "ip", "matches"),
    [
        ("*", "1.2.3.4", True),
        ("10.1.1.0/24", "10.1.1.200", True),
        ("10.1.1.0/24", "10.1.2.1", False),
        ("10.1.1.4", "10.1.1.4", True),  # a single IP
        ("10.1.1.4", "10.1.1.5", False),
        ("10.1.1.4/32", "10.1.1.4", True),
        ("0.0.0.0/0", "8.8.8.8", True),
        ("VirtualNetwork", "10.1.77.1", True),
        ("VirtualNetwork", "10.2.0.5", False),
        ("virtualnetwork", "10.1.77.1", True),  # tags are case-insensitive
        ("Internet", "8.8.8.8", True),
        ("Internet", "10.2.0.5", False),
        ("Internet", "172.20.0.1", False),
        ("Internet", "168.63.129.16", False),
        ("AzureLoadBalancer", "168.63.129.16", True),
        ("AzureLoadBalancer", "168.63.129.17", False),
    ],
)
def test_source_prefixes(prefix: str, ip: str, matches: bool) -> None:
    r = rule("R", 100, sourceAddressPrefix=prefix)
    assert rule_matches(r, flow(src=ip), CTX) is matches


def test_prefix_lists_match_any_member() -> None:
    r = rule("R", 100, destinationAddressPrefixes=["10.1.4.0/24", "10.1.9.9", "Internet"])
    for ip, expected in [("10.1.4.4", True), ("10.1.9.9", True), ("8.8.8.8", True), ("10.1.5.5", False)]:
        assert rule_matches(r, flow(dst=ip), CTX) is expected, ip


# --------------------------------------------------------------------------- protocols


@pytest.mark.parametrize(
    ("rule_protocol", "flow_protocol", "matches"),
    [
        ("Tcp", "Tcp", True),
        ("Tcp", "Udp", False),
        ("Udp", "Udp", True),
        ("Icmp", "Icmp", True),
        ("Icmp", "Tcp", False),
        ("*", "Tcp", True),
        ("*", "Udp", True),
        ("*", "Icmp", True),
        ("*", "*", True),
        ("Tcp", "*", False),  # a '*' flow is only covered by a '*' rule
        ("tcp", "Tcp", True),  # protocol names are case-insensitive in the scenario
    ],
)
def test_protocols(rule_protocol: str, flow_protocol: str, matches: bool) -> None:
    r = rule("R", 100, protocol=rule_protocol)
    assert rule_matches(r, flow(protocol=flow_protocol), CTX) is matches


def test_icmp_ignores_ports() -> None:
    r = rule("R", 100, protocol="*", destinationPortRange=443)
    assert rule_matches(r, flow(protocol="Icmp", dport=0), CTX)
    assert not rule_matches(r, flow(protocol="Tcp", dport=80), CTX)


# --------------------------------------------------------------------------- subnet and NIC levels

ALLOW_ALL_IN = NsgLevel("allowIn", (rule("AllowAll", 100),))
DENY_ALL_IN = NsgLevel("denyIn", (rule("DenyAll", 100, access="Deny"),))
ALLOW_ALL_OUT = NsgLevel("allowOut", (rule("AllowAllOut", 100, direction="Outbound"),))
DENY_ALL_OUT = NsgLevel("denyOut", (rule("DenyAllOut", 100, direction="Outbound", access="Deny"),))


@pytest.mark.parametrize(
    ("direction", "subnet", "nic", "access", "evaluated"),
    [
        # Inbound: subnet first, then NIC; both must allow.
        ("Inbound", DENY_ALL_IN, ALLOW_ALL_IN, "Deny", ["denyIn"]),
        ("Inbound", ALLOW_ALL_IN, DENY_ALL_IN, "Deny", ["allowIn", "denyIn"]),
        ("Inbound", ALLOW_ALL_IN, ALLOW_ALL_IN, "Allow", ["allowIn", "allowIn"]),
        # Outbound: NIC first, then subnet.
        ("Outbound", ALLOW_ALL_OUT, DENY_ALL_OUT, "Deny", ["denyOut"]),
        ("Outbound", DENY_ALL_OUT, ALLOW_ALL_OUT, "Deny", ["allowOut", "denyOut"]),
        # A missing level allows.
        ("Inbound", None, DENY_ALL_IN, "Deny", ["denyIn"]),
        ("Inbound", ALLOW_ALL_IN, None, "Allow", ["allowIn"]),
        ("Outbound", None, None, "Allow", []),
    ],
)
def test_levels_in_azure_order(
    direction: str, subnet: NsgLevel | None, nic: NsgLevel | None, access: str, evaluated: list[str]
) -> None:
    verdict = evaluate_levels(flow(direction=direction), subnet, nic, DEFAULTS, CTX)
    assert verdict.access == access
    assert [d.nsg_name for d in verdict.decisions] == evaluated
    if evaluated:
        assert verdict.deciding is not None and verdict.deciding.nsg_name == evaluated[-1]
    else:
        assert verdict.deciding is None


def test_empty_nsg_falls_back_to_default_rules() -> None:
    verdict = evaluate_levels(flow(src="8.8.8.8"), NsgLevel("empty", ()), None, DEFAULTS, CTX)
    assert verdict.access == "Deny"
    assert verdict.deciding is not None and verdict.deciding.rule.name == "DenyAllInBound"


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("bad", ["10.1.1.4/24", "10.1.1.0/33", "VirtualNet", "", "fe80::/64", 7, None])
def test_bad_address_prefixes(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_address_prefix(bad)


@pytest.mark.parametrize("bad", ["120-80", "70000", "abc", "1-2-3", "-5", True, 65536, 2.5, None])
def test_bad_port_ranges(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_port_range(bad)


@pytest.mark.parametrize(("text", "expected"), [("*", (0, 65535)), (" 80 ", (80, 80)), ("1-2", (1, 2)), (0, (0, 0))])
def test_port_range_parsing(text: Any, expected: tuple[int, int]) -> None:
    assert parse_port_range(text) == expected
