"""The three Network Watcher operations against the bundled ``seed`` scenario.

The first tests pin the 2017 walkthroughs' results (connectivity check and IP flow verify)
field by field; the rest cover faults, mutations and request-body validation.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from emulator.errors import ArmError
from emulator.network import Network, load_scenario, read_scenario_data

SUB = "00000000-0000-0000-0000-000000000000"
REGION = "westcentralus"
RG = f"/subscriptions/{SUB}/resourceGroups/ContosoRG"
VMS = f"{RG}/providers/Microsoft.Compute/virtualMachines"
NICS = f"{RG}/providers/Microsoft.Network/networkInterfaces"
APP0 = f"{VMS}/MultiTierApp0"
DB0 = f"{VMS}/Database0"
APP_ROUTE_TABLE = f"{RG}/providers/Microsoft.Network/routeTables/appRouteTable"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

SEED = load_scenario("seed")


@pytest.fixture
def net() -> Network:
    """A private copy of the seed network, so that tests may mutate it."""
    return SEED.copy()


def ipconfig(nic: str) -> str:
    return f"{NICS}/{nic}/ipConfigurations/ipconfig1"


def check(net: Network, destination: dict[str, Any], source: str = APP0, **extra: Any) -> dict[str, Any]:
    body = {"source": {"resourceId": source, "port": 0}, "destination": destination, **extra}
    return net.connectivity_check(SUB, REGION, body)


def flow(net: Network, vm: str = APP0, **fields: Any) -> dict[str, Any]:
    body = {
        "targetResourceId": vm,
        "direction": "Outbound",
        "protocol": "TCP",
        "localIPAddress": "10.1.1.4",
        "localPort": "60000",
        "remoteIPAddress": "13.71.200.248",
        "remotePort": "443",
    }
    body.update(fields)
    return net.ip_flow_verify(SUB, REGION, body)


def hop_summary(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(h["type"], h["address"], h["resourceId"]) for h in result["hops"]]


def issues(result: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [h["issues"] for h in result["hops"]]


def nsg_issue(origin: str, rule: str) -> dict[str, Any]:
    return {
        "origin": origin,
        "severity": "Error",
        "type": "NetworkSecurityRule",
        "context": [{"key": "RuleName", "value": rule}],
    }


def route_issue(route_type: str) -> dict[str, Any]:
    return {
        "origin": "Outbound",
        "severity": "Error",
        "type": "UserDefinedRoute",
        "context": [{"key": "RouteType", "value": route_type}],
    }


def assert_linked(result: dict[str, Any]) -> None:
    """Hop ids are GUIDs, unique, and each hop points at the next one."""
    ids = [h["id"] for h in result["hops"]]
    assert all(UUID.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    for hop, following in zip(result["hops"], [*ids[1:], None], strict=True):
        assert hop["nextHopIds"] == ([following] if following else [])


def assert_unreachable(result: dict[str, Any]) -> None:
    assert result["connectionStatus"] == "Unreachable"
    assert (result["probesSent"], result["probesFailed"]) == (100, 100)
    assert not {"avgLatencyInMs", "minLatencyInMs", "maxLatencyInMs"} & result.keys()


def arm_error(call: Any, *args: Any) -> ArmError:
    with pytest.raises(ArmError) as info:
        call(*args)
    return info.value


# --------------------------------------------------------------------------- the walkthroughs


def test_seed_vm_to_vm_blocked_by_user_rule_on_appliance(net: Network) -> None:
    result = check(net, {"resourceId": DB0, "port": 0})
    assert hop_summary(result) == [
        ("Source", "10.1.1.4", ipconfig("appNic0")),
        ("VirtualAppliance", "10.1.2.4", ipconfig("fwNic")),
        ("VirtualAppliance", "10.1.3.4", ipconfig("auNic")),
        ("VnetLocal", "10.1.4.4", ipconfig("dbNic0")),
    ]
    assert issues(result) == [[], [], [nsg_issue("Outbound", "UserRule_Port80")], []]
    assert_unreachable(result)
    assert_linked(result)
    assert list(result) == ["hops", "connectionStatus", "probesSent", "probesFailed"]
    assert list(result["hops"][0]) == ["type", "id", "address", "resourceId", "nextHopIds", "issues"]


def test_seed_udr_none_blocks_an_ip(net: Network) -> None:
    result = check(net, {"address": "13.107.21.200", "port": 80})
    assert hop_summary(result) == [
        ("Source", "10.1.1.4", ipconfig("appNic0")),
        ("Destination", "13.107.21.200", "Unknown"),
    ]
    assert issues(result) == [[route_issue("User")], []]
    assert_unreachable(result)
    assert_linked(result)


@pytest.mark.parametrize(
    ("address", "ip"),
    [
        ("https://bing.com", "204.79.197.200"),
        ("https://build2017nwdiag360.blob.core.windows.net/", "13.71.200.248"),
    ],
)
def test_seed_websites_reachable_with_latency(net: Network, address: str, ip: str) -> None:
    result = check(net, {"address": address, "port": 0})
    assert hop_summary(result) == [
        ("Source", "10.1.1.4", ipconfig("appNic0")),
        ("Internet", ip, "Internet"),
    ]
    assert issues(result) == [[], []]
    assert result["connectionStatus"] == "Reachable"
    assert (result["avgLatencyInMs"], result["minLatencyInMs"], result["maxLatencyInMs"]) == (1, 0, 7)
    assert (result["probesSent"], result["probesFailed"]) == (100, 0)
    assert list(result) == [
        "hops",
        "connectionStatus",
        "avgLatencyInMs",
        "minLatencyInMs",
        "maxLatencyInMs",
        "probesSent",
        "probesFailed",
    ]
    assert_linked(result)


def test_seed_ip_flow_outbound_443_allowed_by_default_rule(net: Network) -> None:
    assert flow(net) == {"access": "Allow", "ruleName": "defaultSecurityRules/AllowInternetOutBound"}


def test_seed_ip_flow_inbound_rdp_denied_by_renamed_default_rule(net: Network) -> None:
    result = flow(
        net,
        direction="Inbound",
        localPort="3389",
        remoteIPAddress="203.0.113.10",
        remotePort="50000",
    )
    assert result == {"access": "Deny", "ruleName": "defaultSecurityRules/DefaultInboundDenyAll"}


def test_seed_walkthrough_request_casing_is_accepted(net: Network) -> None:
    # The walkthrough sends 'targetNICResourceId' and single-quoted JSON-ish values; ARM
    # matches property names case-insensitively. Its resource ids use odd casing too.
    body = {
        "targetResourceId": f"/subscriptions/{SUB}/ResourceGroups/ContosoRG/providers/Microsoft.compute/"
        "virtualMachines/MultiTierApp0",
        "direction": "Outbound",
        "protocol": "tcp",
        "localPort": "60000",
        "remotePort": "443",
        "localIPAddress": "10.1.1.4",
        "remoteIPAddress": "13.107.21.200",
        "targetNICResourceId": f"/subscriptions/{SUB}/resourceGroups/contosorg/providers/Microsoft.Network/"
        "networkInterfaces/APPNIC0",
    }
    assert net.ip_flow_verify(SUB, REGION, body)["ruleName"] == "defaultSecurityRules/AllowInternetOutBound"


def test_results_are_deterministic_and_json(net: Network) -> None:
    first = check(net, {"resourceId": DB0, "port": 80})
    again = check(SEED.copy(), {"resourceId": DB0.upper().replace("SUBSCRIPTIONS", "subscriptions"), "port": 80})
    assert json.loads(json.dumps(first)) == first
    assert [h["id"] for h in first["hops"]] == [h["id"] for h in check(net, {"resourceId": DB0, "port": 80})["hops"]]
    assert hop_summary(first) == hop_summary(again)


# --------------------------------------------------------------------------- more connectivity


def test_removing_port80_makes_database_reachable(net: Network) -> None:
    net.remove_security_rule("auNsg", "Port80")
    result = check(net, {"resourceId": DB0, "port": 80})
    assert [h["type"] for h in result["hops"]] == ["Source", "VirtualAppliance", "VirtualAppliance", "VnetLocal"]
    assert issues(result) == [[], [], [], []]
    assert result["connectionStatus"] == "Reachable"
    assert (result["probesSent"], result["probesFailed"]) == (100, 0)
    assert (result["avgLatencyInMs"], result["minLatencyInMs"], result["maxLatencyInMs"]) == (1, 1, 4)
    # The copy changed, the original did not.
    assert check(SEED, {"resourceId": DB0, "port": 80})["connectionStatus"] == "Unreachable"


def test_added_rule_breaks_a_reachable_site(net: Network) -> None:
    net.add_security_rule(
        "appNsg",
        {
            "name": "DenyHttpsOut",
            "priority": 150,
            "direction": "Outbound",
            "access": "Deny",
            "protocol": "Tcp",
            "sourceAddressPrefix": "*",
            "destinationAddressPrefix": "Internet",
            "destinationPortRange": "443",
        },
    )
    result = check(net, {"address": "https://bing.com"})
    assert issues(result) == [[nsg_issue("Outbound", "UserRule_DenyHttpsOut")], []]
    assert_unreachable(result)
    assert flow(net) == {"access": "Deny", "ruleName": "securityRules/DenyHttpsOut"}
    # Plain http still goes out.
    assert check(net, {"address": "http://bing.com"})["connectionStatus"] == "Reachable"


def test_nsg_deny_on_source_hop(net: Network) -> None:
    result = check(net, {"address": "bing.com", "port": 23})
    assert hop_summary(result)[1] == ("Internet", "204.79.197.200", "Internet")
    assert issues(result) == [[nsg_issue("Outbound", "UserRule_DenyTelnetOutBound")], []]
    assert_unreachable(result)


def test_default_rule_and_system_route_issues_together(net: Network) -> None:
    # 172.16.0.5 is neither VirtualNetwork nor Internet (DenyAllOutBound) and has a None route.
    result = check(net, {"address": "172.16.0.5", "port": 443})
    assert issues(result) == [[nsg_issue("Outbound", "DefaultRule_DenyAllOutBound"), route_issue("System")], []]
    assert hop_summary(result)[1] == ("Destination", "172.16.0.5", "Unknown")


def test_inbound_deny_at_destination(net: Network) -> None:
    net.remove_security_rule("auNsg", "Port80")
    result = check(net, {"resourceId": DB0, "port": 22})  # dbNsg: DenyOtherVnetInBound
    assert issues(result)[-1] == [nsg_issue("Inbound", "UserRule_DenyOtherVnetInBound")]
    assert_unreachable(result)


def test_other_vnet_without_peering_is_dropped_by_system_route(net: Network) -> None:
    result = check(net, {"resourceId": f"{VMS}/EastWeb0", "port": 80})
    # Without peering the other VNet is not 'VirtualNetwork' either: the default rule denies too.
    assert issues(result)[0] == [nsg_issue("Outbound", "DefaultRule_DenyAllOutBound"), route_issue("System")]
    assert hop_summary(result)[1] == ("Destination", "10.2.1.4", "Unknown")
    assert_unreachable(result)


def test_on_premises_through_the_gateway(net: Network) -> None:
    result = check(net, {"address": "192.168.1.10", "port": 443})
    gateway = f"{RG}/providers/Microsoft.Network/virtualNetworkGateways/ContosoVpnGateway"
    assert hop_summary(result) == [
        ("Source", "10.1.1.4", ipconfig("appNic0")),
        ("VirtualNetworkGateway", "10.1.255.4", gateway),
    ]
    assert result["connectionStatus"] == "Reachable"
    assert (result["avgLatencyInMs"], result["minLatencyInMs"], result["maxLatencyInMs"]) == (12, 9, 30)


def test_lossy_endpoint_is_degraded(net: Network) -> None:
    result = check(net, {"address": "flaky.contoso.example", "port": 443})
    assert result["connectionStatus"] == "Degraded"
    assert (result["probesSent"], result["probesFailed"]) == (100, 30)
    assert result["avgLatencyInMs"] == 48


@pytest.mark.parametrize(
    ("destination", "status"),
    [
        ({"address": "https://api.contoso.example"}, "Reachable"),  # 443 answers
        ({"address": "api.contoso.example", "port": 443}, "Reachable"),
        ({"address": "api.contoso.example"}, "Unreachable"),  # default port 80 does not
        ({"address": "http://api.contoso.example:443/v1"}, "Reachable"),  # the URL's port
        ({"address": "8.8.8.8", "port": 53}, "Unreachable"),  # not a declared endpoint
        ({"address": "BING.COM."}, "Reachable"),  # host names are case-insensitive
    ],
)
def test_internet_endpoints(net: Network, destination: dict[str, Any], status: str) -> None:
    assert check(net, destination)["connectionStatus"] == status


def test_unknown_host_is_a_dns_issue(net: Network) -> None:
    result = check(net, {"address": "nowhere.contoso.example", "port": 80})
    assert hop_summary(result) == [("Source", "10.1.1.4", ipconfig("appNic0"))]
    assert issues(result) == [[{"origin": "Local", "severity": "Error", "type": "DnsResolution", "context": []}]]
    assert_unreachable(result)


def test_deallocated_destination_does_not_answer(net: Network) -> None:
    net.remove_security_rule("auNsg", "Port80")
    net.set_vm_power_state("Database0", "deallocated")
    result = check(net, {"resourceId": DB0, "port": 80})
    assert issues(result) == [[], [], [], []]
    assert_unreachable(result)


def test_appliance_without_ip_forwarding_ends_the_walk() -> None:
    data = read_scenario_data("seed")
    for vm in data["vms"]:
        for nic in vm["nics"]:
            if nic["name"] == "fwNic":
                nic["ipForwarding"] = False
    net = Network.from_dict(data)
    result = check(net, {"resourceId": DB0, "port": 80})
    assert [h["type"] for h in result["hops"]] == ["Source", "VirtualAppliance"]
    assert_unreachable(result)


def test_routing_loop_is_reported() -> None:
    data = read_scenario_data("seed")
    # Send the audit appliance's database traffic back to the firewall: fw -> au -> fw.
    data["routeTables"].append(
        {
            "name": "auRouteTable",
            "routes": [
                {
                    "name": "BackToFirewall",
                    "addressPrefix": "10.1.4.0/24",
                    "nextHopType": "VirtualAppliance",
                    "nextHopIpAddress": "10.1.2.4",
                }
            ],
        }
    )
    for subnet in data["vnets"][0]["subnets"]:
        if subnet["name"] == "AuditSubnet":
            subnet["routeTable"] = "auRouteTable"
    result = check(Network.from_dict(data), {"resourceId": DB0, "port": 443})
    assert [h["address"] for h in result["hops"]] == ["10.1.1.4", "10.1.2.4", "10.1.3.4"]
    assert route_issue("User") in result["hops"][-1]["issues"]
    assert_unreachable(result)


def test_spec_vocabulary() -> None:
    data = read_scenario_data("seed")
    data["status_vocabulary"] = "spec"
    net = Network.from_dict(data)
    assert check(net, {"address": "https://bing.com"})["connectionStatus"] == "Connected"
    assert check(net, {"resourceId": DB0})["connectionStatus"] == "Disconnected"


def test_icmp_check_ignores_port_rules(net: Network) -> None:
    # DenyTelnetOutBound is Tcp-only; ICMP reaches bing.
    result = check(net, {"address": "bing.com", "port": 23}, protocol="Icmp")
    assert result["connectionStatus"] == "Reachable"


# --------------------------------------------------------------------------- faults


def test_agent_stopped_gives_unknown_without_probes(net: Network) -> None:
    result = check(net, {"resourceId": DB0}, source=f"{VMS}/MultiTierApp3")
    assert hop_summary(result) == [("Source", "10.1.1.7", ipconfig("appNic3"))]
    assert issues(result) == [[{"origin": "Local", "severity": "Error", "type": "AgentStopped", "context": []}]]
    assert result["connectionStatus"] == "Unknown"
    assert (result["probesSent"], result["probesFailed"]) == (0, 0)
    assert "avgLatencyInMs" not in result


def test_agent_missing_is_a_400(net: Network) -> None:
    error = arm_error(check, net, {"resourceId": DB0}, f"{VMS}/MultiTierApp1")
    assert (error.status, error.code) == (400, "NetworkWatcherAgentNotInstalled")
    assert "MultiTierApp1" in error.message


def test_set_agent_missing_then_installed(net: Network) -> None:
    net.set_agent("MultiTierApp0", "missing")
    assert arm_error(check, net, {"address": "bing.com"}).code == "NetworkWatcherAgentNotInstalled"
    vm = net.get_vm(SUB, "ContosoRG", "MultiTierApp0")
    assert vm is not None and not any("AzureNetworkWatcherExtension" in r["id"] for r in vm["resources"])
    net.set_agent("MultiTierApp0", "installed")
    assert check(net, {"address": "bing.com"})["connectionStatus"] == "Reachable"


@pytest.mark.parametrize("operation", ["connectivity", "ipflow", "nexthop"])
def test_deallocated_vm_is_a_400(net: Network, operation: str) -> None:
    net.set_vm_power_state("MultiTierApp0", "deallocated")
    calls = {
        "connectivity": lambda: check(net, {"address": "bing.com"}),
        "ipflow": lambda: flow(net),
        "nexthop": lambda: net.next_hop(
            SUB, REGION, {"targetResourceId": APP0, "sourceIPAddress": "10.1.1.4", "destinationIPAddress": "8.8.8.8"}
        ),
    }
    error = arm_error(calls[operation])
    assert (error.status, error.code) == (400, "VmNotRunning")
    net.set_vm_power_state("MultiTierApp0", "running")
    calls[operation]()


def test_seed_deallocated_vm(net: Network) -> None:
    error = arm_error(flow, net, f"{VMS}/MultiTierApp2")
    assert (error.status, error.code) == (400, "VmNotRunning")


def test_vm_in_another_region_is_refused(net: Network) -> None:
    error = arm_error(check, net, {"address": "bing.com"}, f"{VMS}/EastWeb0")
    assert (error.status, error.code) == (400, "TargetResourceNotInWatcherRegion")
    assert "eastus" in error.message
    # The eastus watcher accepts it.
    body = {"source": {"resourceId": f"{VMS}/EastWeb0"}, "destination": {"address": "bing.com"}}
    assert net.connectivity_check(SUB, "eastus", body)["connectionStatus"] == "Reachable"


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("source.resourceId", {"source": {"resourceId": f"{VMS}/Ghost0"}, "destination": {"address": "bing.com"}}),
        ("destination.resourceId", {"source": {"resourceId": APP0}, "destination": {"resourceId": f"{VMS}/Ghost0"}}),
        (
            "source.resourceId",
            {
                "source": {"resourceId": APP0.replace("ContosoRG", "OtherRG")},
                "destination": {"address": "bing.com"},
            },
        ),
    ],
)
def test_unknown_vm_is_a_404(net: Network, field: str, body: dict[str, Any]) -> None:
    error = arm_error(net.connectivity_check, SUB, REGION, body)
    assert (error.status, error.code) == (404, "NotFound")
    assert field in error.message
    assert "/virtualMachines/" in error.message


def test_vm_of_another_subscription_is_a_404(net: Network) -> None:
    other = "11111111-1111-1111-1111-111111111111"
    error = arm_error(net.connectivity_check, other, REGION, {"source": {"resourceId": APP0}, "destination": {}})
    assert error.status == 400  # the body is checked first: destination needs resourceId or address
    error = arm_error(
        net.connectivity_check, other, REGION, {"source": {"resourceId": APP0}, "destination": {"address": "bing.com"}}
    )
    assert (error.status, error.code) == (404, "NotFound")


# --------------------------------------------------------------------------- ip flow verify


@pytest.mark.parametrize(
    ("vm", "fields", "expected"),
    [
        (
            APP0,
            {"direction": "Inbound", "localPort": "80", "remoteIPAddress": "10.1.4.4", "remotePort": "*"},
            {"access": "Allow", "ruleName": "securityRules/AllowHttpFromVnet"},
        ),
        (
            APP0,
            {"remotePort": "23", "remoteIPAddress": "204.79.197.200"},
            {"access": "Deny", "ruleName": "securityRules/DenyTelnetOutBound"},
        ),
        (
            APP0,
            {"remotePort": "20-30", "remoteIPAddress": "204.79.197.200"},  # range only partly denied
            {"access": "Allow", "ruleName": "defaultSecurityRules/AllowInternetOutBound"},
        ),
        (
            APP0,
            {"remotePort": "443", "remoteIPAddress": "10.1.4.4"},
            {"access": "Allow", "ruleName": "defaultSecurityRules/AllowVnetOutBound"},
        ),
        (
            APP0,
            {"protocol": "UDP", "remotePort": "53", "remoteIPAddress": "172.16.0.5"},
            {"access": "Deny", "ruleName": "defaultSecurityRules/DenyAllOutBound"},
        ),
        (
            APP0,
            {"direction": "Inbound", "localPort": "80", "remoteIPAddress": "168.63.129.16", "remotePort": "1"},
            {"access": "Allow", "ruleName": "defaultSecurityRules/AllowAzureLoadBalancerInBound"},
        ),
        (
            DB0,
            {
                "direction": "Inbound",
                "localIPAddress": "10.1.4.4",
                "localPort": "1434",
                "remoteIPAddress": "10.1.1.9",
                "remotePort": "50000",
            },
            {"access": "Allow", "ruleName": "securityRules/AllowSqlFromApp"},
        ),
        (
            DB0,
            {
                "direction": "Inbound",
                "localIPAddress": "10.1.4.4",
                "localPort": "22",
                "remoteIPAddress": "10.1.1.4",
                "remotePort": "50000",
            },
            {"access": "Deny", "ruleName": "securityRules/DenyOtherVnetInBound"},
        ),
        (
            f"{VMS}/Auditor0",
            {"localIPAddress": "10.1.3.4", "remotePort": "80", "remoteIPAddress": "10.1.4.4"},
            {"access": "Deny", "ruleName": "securityRules/Port80"},
        ),
        (
            f"{VMS}/Firewall0",
            {
                "direction": "Inbound",
                "localIPAddress": "10.1.2.4",
                "localPort": "3389",
                "remoteIPAddress": "203.0.113.1",
                "remotePort": "1",
            },
            {"access": "Allow"},
        ),  # no NSG anywhere: no rule to name
        (
            APP0,
            {"protocol": "*", "remotePort": "23", "remoteIPAddress": "204.79.197.200"},  # Tcp rule does not cover *
            {"access": "Allow", "ruleName": "defaultSecurityRules/AllowInternetOutBound"},
        ),
    ],
)
def test_ip_flow_verify(net: Network, vm: str, fields: dict[str, Any], expected: dict[str, Any]) -> None:
    assert flow(net, vm, **fields) == expected


def test_ip_flow_local_ip_must_belong_to_the_vm(net: Network) -> None:
    with pytest.raises(ArmError) as info:
        flow(net, localIPAddress="10.1.1.99")
    assert info.value.status == 400 and "localIPAddress" in info.value.message


def test_ip_flow_nic_must_belong_to_the_vm(net: Network) -> None:
    with pytest.raises(ArmError) as info:
        flow(net, targetNicResourceId=f"{NICS}/dbNic0")
    assert info.value.status == 400 and "targetNicResourceId" in info.value.message


# --------------------------------------------------------------------------- next hop


@pytest.mark.parametrize(
    ("vm", "source", "destination", "expected"),
    [
        (
            APP0,
            "10.1.1.4",
            "10.1.4.4",
            {"nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.1.2.4", "routeTableId": APP_ROUTE_TABLE},
        ),
        (APP0, "10.1.1.4", "13.107.21.200", {"nextHopType": "None", "routeTableId": APP_ROUTE_TABLE}),
        (APP0, "10.1.1.4", "204.79.197.200", {"nextHopType": "Internet", "routeTableId": "System Route"}),
        (APP0, "10.1.1.4", "10.1.3.4", {"nextHopType": "VnetLocal", "routeTableId": "System Route"}),
        (
            APP0,
            "10.1.1.4",
            "192.168.1.10",
            {"nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": "10.1.255.4", "routeTableId": "System Route"},
        ),
        (APP0, "10.1.1.4", "172.16.0.5", {"nextHopType": "None", "routeTableId": "System Route"}),
        (DB0, "10.1.4.4", "10.1.1.4", {"nextHopType": "VnetLocal", "routeTableId": "System Route"}),
        (
            f"{VMS}/Firewall0",
            "10.1.2.4",
            "10.1.4.4",
            {
                "nextHopType": "VirtualAppliance",
                "nextHopIpAddress": "10.1.3.4",
                "routeTableId": f"{RG}/providers/Microsoft.Network/routeTables/fwRouteTable",
            },
        ),
    ],
)
def test_next_hop(net: Network, vm: str, source: str, destination: str, expected: dict[str, Any]) -> None:
    body = {"targetResourceId": vm, "sourceIPAddress": source, "destinationIPAddress": destination}
    assert net.next_hop(SUB, REGION, body) == expected


# --------------------------------------------------------------------------- reads


def test_watcher_region_lookup(net: Network) -> None:
    assert net.watcher_region(SUB, "networkwatcherrg", "networkwatcher_westcentralus") == "westcentralus"
    assert net.watcher_region(SUB, "NetworkWatcherRG", "NetworkWatcher_eastus") == "eastus"
    assert net.watcher_region(SUB, "ContosoRG", "NetworkWatcher_westcentralus") is None
    assert (
        net.watcher_region("11111111-1111-1111-1111-111111111111", "NetworkWatcherRG", "NetworkWatcher_westcentralus")
        is None
    )


def test_list_and_get_vms(net: Network) -> None:
    vms = net.list_vms(SUB, "contosorg")
    names = [vm["name"] for vm in vms]
    assert names[:4] == ["MultiTierApp0", "Firewall0", "Auditor0", "Database0"]
    assert {"MultiTierApp1", "MultiTierApp2", "MultiTierApp3", "EastWeb0"} <= set(names)
    assert net.list_vms(SUB, "NetworkWatcherRG") == []
    vm = net.get_vm(SUB, "CONTOSORG", "multitierapp0")
    assert vm is not None
    assert vm["id"] == APP0
    assert (vm["type"], vm["location"], vm["properties"]["provisioningState"]) == (
        "Microsoft.Compute/virtualMachines",
        "westcentralus",
        "Succeeded",
    )
    assert [n["id"] for n in vm["properties"]["networkProfile"]["networkInterfaces"]] == [f"{NICS}/appNic0"]
    assert f"{APP0}/extensions/AzureNetworkWatcherExtension" in [r["id"] for r in vm["resources"]]
    no_agent = net.get_vm(SUB, "ContosoRG", "MultiTierApp1")
    assert no_agent is not None
    assert all("NetworkWatcher" not in r["id"] for r in no_agent["resources"])
    assert net.get_vm(SUB, "ContosoRG", "Ghost0") is None


def test_mutation_errors(net: Network) -> None:
    with pytest.raises(KeyError):
        net.remove_security_rule("auNsg", "NoSuchRule")
    with pytest.raises(KeyError):
        net.remove_security_rule("noSuchNsg", "Port80")
    with pytest.raises(KeyError):
        net.add_security_rule("noSuchNsg", {})
    with pytest.raises(ValueError, match=r"securityRules\[Dup\]\.priority"):
        net.add_security_rule(
            "auNsg",
            {
                "name": "Dup",
                "priority": 100,
                "direction": "Outbound",
                "access": "Allow",
                "protocol": "*",
                "sourceAddressPrefix": "*",
                "destinationAddressPrefix": "*",
                "destinationPortRange": "*",
            },
        )
    with pytest.raises(ValueError, match="priority"):
        net.add_security_rule("auNsg", {"name": "Low", "priority": 99})
    with pytest.raises(ValueError, match="powerState"):
        net.set_vm_power_state("MultiTierApp0", "sleeping")
    with pytest.raises(ValueError, match="agent"):
        net.set_agent("MultiTierApp0", "broken")
    with pytest.raises(KeyError):
        net.set_agent("Ghost0", "installed")


# --------------------------------------------------------------------------- request bodies

GOOD_CHECK = {"source": {"resourceId": APP0}, "destination": {"address": "bing.com", "port": 80}}
GOOD_FLOW = {
    "targetResourceId": APP0,
    "direction": "Outbound",
    "protocol": "TCP",
    "localIPAddress": "10.1.1.4",
    "localPort": "60000",
    "remoteIPAddress": "13.71.200.248",
    "remotePort": "443",
}
GOOD_HOP = {"targetResourceId": APP0, "sourceIPAddress": "10.1.1.4", "destinationIPAddress": "8.8.8.8"}


def patched(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``path`` (dotted) set to ``value``, or removed for DELETE."""
    body: dict[str, Any] = json.loads(json.dumps(base))
    *parents, last = path.split(".")
    node: dict[str, Any] = body
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return body


DELETE = object()

BAD_BODIES: list[tuple[str, Any, str]] = [
    # connectivityCheck
    ("check", None, "request body"),
    ("check", [GOOD_CHECK], "request body"),
    ("check", "source", "request body"),
    ("check", patched(GOOD_CHECK, "source", DELETE), "source"),
    ("check", patched(GOOD_CHECK, "source", "vm1"), "source"),
    ("check", patched(GOOD_CHECK, "source.resourceId", DELETE), "source.resourceId"),
    ("check", patched(GOOD_CHECK, "source.resourceId", 42), "source.resourceId"),
    ("check", patched(GOOD_CHECK, "source.resourceId", ""), "source.resourceId"),
    ("check", patched(GOOD_CHECK, "source.resourceId", f"{NICS}/appNic0"), "source.resourceId"),
    ("check", patched(GOOD_CHECK, "source.port", -1), "source.port"),
    ("check", patched(GOOD_CHECK, "destination", DELETE), "destination"),
    ("check", patched(GOOD_CHECK, "destination.address", DELETE), "destination"),
    ("check", patched(GOOD_CHECK, "destination.address", "not a host!"), "destination.address"),
    ("check", patched(GOOD_CHECK, "destination.address", ["bing.com"]), "destination.address"),
    ("check", patched(GOOD_CHECK, "destination.port", 70000), "destination.port"),
    ("check", patched(GOOD_CHECK, "destination.port", "eighty"), "destination.port"),
    ("check", patched(GOOD_CHECK, "destination.port", True), "destination.port"),
    ("check", patched(GOOD_CHECK, "destination.resourceId", "/subscriptions/x"), "destination.resourceId"),
    ("check", patched(GOOD_CHECK, "protocol", "Udp"), "protocol"),
    ("check", patched(GOOD_CHECK, "preferredIPVersion", "IPv5"), "preferredIPVersion"),
    ("check", patched(GOOD_CHECK, "protocolConfiguration", "http"), "protocolConfiguration"),
    # ipFlowVerify
    ("flow", {}, "targetResourceId"),
    ("flow", patched(GOOD_FLOW, "direction", "Sideways"), "direction"),
    ("flow", patched(GOOD_FLOW, "direction", DELETE), "direction"),
    ("flow", patched(GOOD_FLOW, "protocol", "ICMP"), "protocol"),
    ("flow", patched(GOOD_FLOW, "localPort", "80-90"), "localPort"),
    ("flow", patched(GOOD_FLOW, "localPort", DELETE), "localPort"),
    ("flow", patched(GOOD_FLOW, "remotePort", "99999"), "remotePort"),
    ("flow", patched(GOOD_FLOW, "remotePort", "120-80"), "remotePort"),
    ("flow", patched(GOOD_FLOW, "remotePort", "*"), "remotePort"),  # '*' only for the source side
    ("flow", patched(GOOD_FLOW, "remotePort", 4.5), "remotePort"),
    ("flow", patched(GOOD_FLOW, "localIPAddress", "10.1.1.300"), "localIPAddress"),
    ("flow", patched(GOOD_FLOW, "remoteIPAddress", "10.0.0.0/8"), "remoteIPAddress"),
    ("flow", patched(GOOD_FLOW, "remoteIPAddress", 167772161), "remoteIPAddress"),
    ("flow", patched(GOOD_FLOW, "targetNicResourceId", APP0), "targetNicResourceId"),
    # nextHop
    ("hop", patched(GOOD_HOP, "targetResourceId", DELETE), "targetResourceId"),
    ("hop", patched(GOOD_HOP, "sourceIPAddress", DELETE), "sourceIPAddress"),
    ("hop", patched(GOOD_HOP, "destinationIPAddress", "example.com"), "destinationIPAddress"),
    ("hop", patched(GOOD_HOP, "sourceIPAddress", "10.1.1.5"), "sourceIPAddress"),  # not the VM's
    ("hop", 7, "request body"),
]


@pytest.mark.parametrize(("operation", "body", "field"), BAD_BODIES)
def test_malformed_bodies_are_400_naming_the_field(net: Network, operation: str, body: Any, field: str) -> None:
    call = {"check": net.connectivity_check, "flow": net.ip_flow_verify, "hop": net.next_hop}[operation]
    error = arm_error(call, SUB, REGION, body)
    assert (error.status, error.code) == (400, "InvalidRequestFormat")
    assert field in error.message


def test_good_bodies_and_ignored_extra_fields(net: Network) -> None:
    extra: dict[str, Any] = {
        "someFutureField": {"x": 1},
        "protocolConfiguration": {"HTTPConfiguration": {"method": "Get"}},
    }
    assert check(net, {"address": "bing.com", "port": "80"}, **extra)["connectionStatus"] == "Reachable"
    assert net.ip_flow_verify(SUB, REGION, {**GOOD_FLOW, "unknown": True})["access"] == "Allow"
    assert net.next_hop(SUB, REGION, {**GOOD_HOP, "targetNicResourceId": None})["nextHopType"] == "Internet"
