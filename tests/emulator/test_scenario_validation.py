"""Scenario files: loading by name or path, and strict validation naming the bad field."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.network import Network, load_scenario, parse_scenario, read_scenario_data

SUB = "22222222-2222-2222-2222-222222222222"


def minimal() -> dict[str, Any]:
    """A small valid scenario: one VNet, one subnet with an NSG and a route table, one VM."""
    return {
        "subscriptions": [{"id": SUB, "regions": ["westeurope", "northeurope"]}],
        "defaults": {"resourceGroup": "rg", "region": "westeurope"},
        "watchers": [{"name": "NetworkWatcher_westeurope", "resourceGroup": "NetworkWatcherRG"}],
        "vnets": [
            {
                "name": "vnet1",
                "addressSpace": ["10.0.0.0/16"],
                "subnets": [
                    {"name": "web", "addressPrefix": "10.0.1.0/24", "nsg": "webNsg", "routeTable": "webRoutes"},
                    {"name": "app", "addressPrefix": "10.0.2.0/24"},
                ],
            }
        ],
        "nsgs": [
            {
                "name": "webNsg",
                "securityRules": [
                    {
                        "name": "Port80",
                        "priority": 100,
                        "direction": "Inbound",
                        "access": "Allow",
                        "protocol": "Tcp",
                        "sourceAddressPrefix": "*",
                        "destinationAddressPrefix": "*",
                        "destinationPortRange": "80",
                    }
                ],
            },
            {"name": "northNsg", "region": "northeurope"},
        ],
        "routeTables": [
            {
                "name": "webRoutes",
                "routes": [
                    {
                        "name": "toFw",
                        "addressPrefix": "10.1.0.0/16",
                        "nextHopType": "VirtualAppliance",
                        "nextHopIpAddress": "10.0.2.4",
                    }
                ],
            }
        ],
        "vms": [{"name": "vm1", "nics": [{"name": "nic1", "subnet": "vnet1/web", "privateIpAddress": "10.0.1.4"}]}],
        "internet": [{"ip": "20.1.1.1", "hosts": ["example.com"]}],
    }


Mutation = Callable[[dict[str, Any]], None]


def setting(path: str, value: Any) -> Mutation:
    """Set a dotted path ('vms.0.nics.0.name'); list indexes are numbers."""

    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def deleting(path: str) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[last]

    return apply


def appending(path: str, item: Any) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path.split("."):
            node = node[int(key)] if isinstance(node, list) else node[key]
        node.append(copy.deepcopy(item))

    return apply


RULE = "nsgs.0.securityRules.0"
RULE_PATH = r"nsgs\[webNsg\]\.securityRules\[Port80\]"
SECOND_VM: dict[str, Any] = {
    "name": "vm2",
    "nics": [{"name": "nic2", "subnet": "vnet1/app", "privateIpAddress": "10.0.2.5"}],
}

CASES: list[tuple[str, Mutation, str]] = [
    # top level and settings
    ("unknown top-level key", setting("nsg", []), r"^nsg: unknown key"),
    ("bad vocabulary", setting("status_vocabulary", "azure"), r"^status_vocabulary: must be one of docs, spec"),
    (
        "unknown default rule",
        setting("default_rule_names", {"DenyEverything": "X"}),
        r"^default_rule_names\.DenyEverything: unknown key",
    ),
    ("bad rename", setting("default_rule_names", {"DenyAllInBound": "a/b"}), r"^default_rule_names\.DenyAllInBound"),
    ("bad default latency", setting("default_latency", {"avg": 1, "min": 2, "max": 3}), r"^default_latency: "),
    ("no subscriptions", deleting("subscriptions"), r"^subscriptions: is required"),
    (
        "duplicate subscription",
        appending("subscriptions", {"id": SUB.upper(), "regions": ["x"]}),
        r"^subscriptions\[.*\]\.id: duplicate subscription",
    ),
    ("region not in subscription", setting("vms.0.region", "eastus"), r"^vms\[vm1\]\.region: 'eastus' is not one"),
    (
        "undeclared subscription",
        setting("vms.0.subscription", "33333333-3333-3333-3333-333333333333"),
        r"^vms\[vm1\]\.subscription: .* is not declared",
    ),
    ("unknown defaults key", setting("defaults.rg", "x"), r"^defaults\.rg: unknown key"),
    (
        "watcher per region",
        appending("watchers", {"name": "Second", "resourceGroup": "NetworkWatcherRG"}),
        r"^watchers\[Second\]\.region: duplicate watcher region",
    ),
    # vnets and subnets
    ("CIDR out of range", setting("vnets.0.addressSpace.0", "10.0.0.0/33"), r"^vnets\[vnet1\]\.addressSpace\[0\]: "),
    ("CIDR with host bits", setting("vnets.0.addressSpace.0", "10.0.0.1/16"), r"^vnets\[vnet1\]\.addressSpace\[0\]: "),
    ("overlapping spaces", appending("vnets.0.addressSpace", "10.0.128.0/17"), r"^vnets\[vnet1\]\.addressSpace\[1\]: "),
    (
        "subnet outside space",
        setting("vnets.0.subnets.1.addressPrefix", "10.5.0.0/24"),
        r"^vnets\[vnet1\]\.subnets\[app\]\.addressPrefix: .* outside",
    ),
    (
        "overlapping subnets",
        setting("vnets.0.subnets.1.addressPrefix", "10.0.1.128/25"),
        r"^vnets\[vnet1\]\.subnets\[app\]\.addressPrefix: .* overlaps subnet web",
    ),
    ("duplicate subnet", setting("vnets.0.subnets.1.name", "WEB"), r"^vnets\[vnet1\]\.subnets\[WEB\]\.name: duplicate"),
    (
        "missing NSG",
        setting("vnets.0.subnets.0.nsg", "nope"),
        r"^vnets\[vnet1\]\.subnets\[web\]\.nsg: 'nope' is not declared in nsgs",
    ),
    (
        "missing route table",
        setting("vnets.0.subnets.0.routeTable", "nope"),
        r"^vnets\[vnet1\]\.subnets\[web\]\.routeTable: 'nope' is not declared in routeTables",
    ),
    (
        "NSG of another region",
        setting("vnets.0.subnets.0.nsg", "northNsg"),
        r"^vnets\[vnet1\]\.subnets\[web\]\.nsg: 'northNsg' is in region northeurope",
    ),
    (
        "duplicate vnet",
        appending(
            "vnets",
            {
                "name": "VNET1",
                "addressSpace": ["10.9.0.0/16"],
                "subnets": [{"name": "s", "addressPrefix": "10.9.0.0/24"}],
            },
        ),
        r"^vnets\[VNET1\]\.name: duplicate vnet name",
    ),
    (
        "gateway prefix overlaps vnet",
        setting("vnets.0.gateway", {"name": "gw", "address": "10.0.255.4", "onPremisesPrefixes": ["10.0.0.0/8"]}),
        r"^vnets\[vnet1\]\.gateway\.onPremisesPrefixes\[0\]: .* overlaps",
    ),
    ("no subnets", setting("vnets.0.subnets", []), r"^vnets\[vnet1\]\.subnets: must not be empty"),
    # NSG rules
    ("priority too low", setting(f"{RULE}.priority", 99), rf"^{RULE_PATH}\.priority: must be 100\.\.4096"),
    ("priority too high", setting(f"{RULE}.priority", 4097), rf"^{RULE_PATH}\.priority: must be 100\.\.4096"),
    ("priority not a number", setting(f"{RULE}.priority", "high"), rf"^{RULE_PATH}\.priority: must be an integer"),
    ("priority is a bool", setting(f"{RULE}.priority", True), rf"^{RULE_PATH}\.priority: must be an integer"),
    ("bad direction", setting(f"{RULE}.direction", "Up"), rf"^{RULE_PATH}\.direction: must be one of Inbound"),
    ("bad access", setting(f"{RULE}.access", "Maybe"), rf"^{RULE_PATH}\.access: must be one of Allow, Deny"),
    ("bad protocol", setting(f"{RULE}.protocol", "Gre"), rf"^{RULE_PATH}\.protocol: must be one of Tcp"),
    ("bad tag", setting(f"{RULE}.sourceAddressPrefix", "VirtualNet"), rf"^{RULE_PATH}\.sourceAddressPrefix: "),
    (
        "bad rule CIDR",
        setting(f"{RULE}.destinationAddressPrefix", "10.0.1.4/24"),
        rf"^{RULE_PATH}\.destinationAddressPrefix: ",
    ),
    (
        "prefix and prefixes",
        setting(f"{RULE}.sourceAddressPrefixes", ["10.0.0.0/8"]),
        rf"^{RULE_PATH}\.sourceAddressPrefixes: give either",
    ),
    (
        "bad prefix in list",
        setting(f"{RULE}.destinationAddressPrefixes", ["10.0.0.0/8", "nope"]),
        rf"^{RULE_PATH}\.destinationAddressPrefixes",
    ),
    ("reversed port range", setting(f"{RULE}.destinationPortRange", "90-80"), rf"^{RULE_PATH}\.destinationPortRange: "),
    ("port out of range", setting(f"{RULE}.destinationPortRange", 65536), rf"^{RULE_PATH}\.destinationPortRange: "),
    ("bad port in list", setting(f"{RULE}.sourcePortRanges", ["80", "x"]), rf"^{RULE_PATH}\.sourcePortRanges\[1\]: "),
    ("empty port list", setting(f"{RULE}.sourcePortRanges", []), rf"^{RULE_PATH}\.sourcePortRanges: must not be empty"),
    (
        "missing destination ports",
        deleting(f"{RULE}.destinationPortRange"),
        rf"^{RULE_PATH}\.destinationPortRange: is required",
    ),
    ("missing name", deleting(f"{RULE}.name"), r"^nsgs\[webNsg\]\.securityRules\[0\]\.name: "),
    ("unknown rule key", setting(f"{RULE}.sourcePort", "*"), rf"^{RULE_PATH}\.sourcePort: unknown key"),
    (
        "duplicate rule name",
        appending(
            "nsgs.0.securityRules",
            {
                "name": "port80",
                "priority": 200,
                "direction": "Inbound",
                "access": "Deny",
                "protocol": "*",
                "sourceAddressPrefix": "*",
                "destinationAddressPrefix": "*",
                "destinationPortRange": "*",
            },
        ),
        r"^nsgs\[webNsg\]\.securityRules\[port80\]\.name: duplicate",
    ),
    (
        "duplicate priority",
        appending(
            "nsgs.0.securityRules",
            {
                "name": "Other",
                "priority": 100,
                "direction": "Inbound",
                "access": "Deny",
                "protocol": "*",
                "sourceAddressPrefix": "*",
                "destinationAddressPrefix": "*",
                "destinationPortRange": "*",
            },
        ),
        r"^nsgs\[webNsg\]\.securityRules\[Other\]\.priority: Inbound priority 100 is already used",
    ),
    ("duplicate NSG", appending("nsgs", {"name": "WEBNSG"}), r"^nsgs\[WEBNSG\]\.name: duplicate NSG name"),
    ("rules not a list", setting("nsgs.0.securityRules", {"Port80": {}}), r"^nsgs\[webNsg\]\.securityRules: must be"),
    # routes
    (
        "bad next hop type",
        setting("routeTables.0.routes.0.nextHopType", "VnetPeering"),
        r"^routeTables\[webRoutes\]\.routes\[toFw\]\.nextHopType: must be one of",
    ),
    (
        "appliance without IP",
        deleting("routeTables.0.routes.0.nextHopIpAddress"),
        r"^routeTables\[webRoutes\]\.routes\[toFw\]\.nextHopIpAddress: is required",
    ),
    (
        "IP on an internet route",
        setting("routeTables.0.routes.0.nextHopType", "Internet"),
        r"^routeTables\[webRoutes\]\.routes\[toFw\]\.nextHopIpAddress: only allowed",
    ),
    (
        "bad route prefix",
        setting("routeTables.0.routes.0.addressPrefix", "10.1.0.0"),
        r"^routeTables\[webRoutes\]\.routes\[toFw\]\.addressPrefix: ",
    ),
    (
        "duplicate route prefix",
        appending("routeTables.0.routes", {"name": "again", "addressPrefix": "10.1.0.0/16", "nextHopType": "None"}),
        r"^routeTables\[webRoutes\]\.routes\[again\]\.addressPrefix: duplicate",
    ),
    # VMs and NICs
    ("subnet reference shape", setting("vms.0.nics.0.subnet", "web"), r"^vms\[vm1\]\.nics\[nic1\]\.subnet: must be"),
    ("unknown vnet", setting("vms.0.nics.0.subnet", "vnet9/web"), r"^vms\[vm1\]\.nics\[nic1\]\.subnet: vnet 'vnet9'"),
    ("unknown subnet", setting("vms.0.nics.0.subnet", "vnet1/db"), r"^vms\[vm1\]\.nics\[nic1\]\.subnet: .* no subnet"),
    (
        "IP outside subnet",
        setting("vms.0.nics.0.privateIpAddress", "10.0.2.4"),
        r"^vms\[vm1\]\.nics\[nic1\]\.privateIpAddress: .* outside subnet web",
    ),
    (
        "reserved IP",
        setting("vms.0.nics.0.privateIpAddress", "10.0.1.1"),
        r"^vms\[vm1\]\.nics\[nic1\]\.privateIpAddress: .* reserved",
    ),
    (
        "broadcast IP",
        setting("vms.0.nics.0.privateIpAddress", "10.0.1.255"),
        r"^vms\[vm1\]\.nics\[nic1\]\.privateIpAddress: .* reserved",
    ),
    ("not an IP", setting("vms.0.nics.0.privateIpAddress", "10.0.1.x"), r"^vms\[vm1\]\.nics\[nic1\]\.privateIpAddress"),
    (
        "duplicate IP",
        appending(
            "vms",
            {**SECOND_VM, "nics": [{**SECOND_VM["nics"][0], "subnet": "vnet1/web", "privateIpAddress": "10.0.1.4"}]},
        ),
        r"^vms\[vm2\]\.nics\[nic2\]\.privateIpAddress: 10\.0\.1\.4 is already used",
    ),
    (
        "duplicate NIC",
        appending("vms", {**SECOND_VM, "nics": [{**SECOND_VM["nics"][0], "name": "NIC1"}]}),
        r"^vms\[vm2\]\.nics\[NIC1\]\.name: duplicate NIC name",
    ),
    ("duplicate VM", appending("vms", {**SECOND_VM, "name": "VM1"}), r"^vms\[VM1\]\.name: duplicate VM name"),
    ("bad power state", setting("vms.0.powerState", "off"), r"^vms\[vm1\]\.powerState: must be one of running"),
    ("bad agent", setting("vms.0.agent", "gone"), r"^vms\[vm1\]\.agent: must be one of installed, missing, stopped"),
    ("bad ipForwarding", setting("vms.0.nics.0.ipForwarding", "yes"), r"^vms\[vm1\]\.nics\[nic1\]\.ipForwarding: "),
    ("NIC NSG of another region", setting("vms.0.nics.0.nsg", "northNsg"), r"^vms\[vm1\]\.nics\[nic1\]\.nsg: "),
    ("no NICs", setting("vms.0.nics", []), r"^vms\[vm1\]\.nics: must not be empty"),
    ("vnet of another region", setting("vms.0.region", "northeurope"), r"^vms\[vm1\]\.nics\[nic1\]\.subnet: "),
    ("name with a slash", setting("vms.0.name", "a/b"), r"^vms\[a/b\]\.name: .* not a valid ARM resource name"),
    ("bad loss", setting("vms.0.lossPercent", 101), r"^vms\[vm1\]\.lossPercent: must be 0\.\.100"),
    # internet
    ("private internet IP", setting("internet.0.ip", "10.9.9.9"), r"^internet\[10\.9\.9\.9\]\.ip: .* not a public"),
    (
        "duplicate host",
        appending("internet", {"ip": "20.1.1.2", "hosts": ["EXAMPLE.com."]}),
        r"^internet\[20\.1\.1\.2\]\.hosts\[0\]: duplicate host name",
    ),
    ("duplicate internet IP", appending("internet", {"ip": "20.1.1.1"}), r"^internet\[20\.1\.1\.1\]\.ip: duplicate"),
    ("bad host", setting("internet.0.hosts", ["exa mple.com"]), r"^internet\[20\.1\.1\.1\]\.hosts\[0\]: "),
    (
        "inverted latency",
        setting("internet.0.latency", {"avg": 5, "min": 6, "max": 9}),
        r"^internet\[20\.1\.1\.1\]\.latency: must satisfy min <= avg <= max",
    ),
    (
        "latency missing a field",
        setting("internet.0.latency", {"avg": 5, "min": 1}),
        r"^internet\[20\.1\.1\.1\]\.latency\.max: is required",
    ),
    ("bad port", setting("internet.0.ports", [0]), r"^internet\[20\.1\.1\.1\]\.ports\[0\]: "),
]


def test_minimal_scenario_is_valid() -> None:
    net = Network.from_dict(minimal())
    assert net.watcher_region(SUB, "networkwatcherrg", "NetworkWatcher_westeurope") == "westeurope"
    assert [vm["name"] for vm in net.list_vms(SUB, "rg")] == ["vm1"]


@pytest.mark.parametrize(("case", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_scenarios_name_the_field(case: str, mutate: Mutation, message: str) -> None:
    data = minimal()
    mutate(data)
    with pytest.raises(ValueError) as info:
        parse_scenario(data)
    assert re.search(message, str(info.value)), str(info.value)


@pytest.mark.parametrize("root", [[], "scenario", None, 3])
def test_root_must_be_a_mapping(root: Any) -> None:
    with pytest.raises(ValueError, match="must be a mapping"):
        Network.from_dict(root)


def test_brief_example_message() -> None:
    data = read_scenario_data("seed")
    data["nsgs"][1]["securityRules"][0]["priority"] = 5
    with pytest.raises(ValueError, match=r"^nsgs\[auNsg\]\.securityRules\[Port80\]\.priority: must be 100\.\.4096"):
        Network.from_dict(data)


# --------------------------------------------------------------------------- loading


def test_bundled_seed_loads_by_name() -> None:
    net = load_scenario("seed")
    scenario = net.scenario
    assert net.status_vocabulary == "docs"
    assert set(scenario.nsgs) == {"appnsg", "aunsg", "dbnsg"}
    assert {nic.name for nic in scenario.all_nics()} >= {"appNic0", "fwNic", "auNic", "dbNic0"}
    assert scenario.default_rule_names == {"DenyAllInBound": "DefaultInboundDenyAll"}


def test_yaml_and_json_files_load_by_path(tmp_path: Path) -> None:
    yaml_file = tmp_path / "small.yaml"
    yaml_file.write_text(yaml.safe_dump(minimal()), encoding="utf-8")
    json_file = tmp_path / "small.json"
    json_file.write_text(json.dumps(minimal()), encoding="utf-8")
    for source in (yaml_file, str(json_file)):
        net = load_scenario(source)
        assert net.get_vm(SUB, "rg", "vm1") is not None


def test_invalid_file_names_the_file_and_field(tmp_path: Path) -> None:
    data = minimal()
    data["vms"][0]["agent"] = "gone"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json.*vms\[vm1\]\.agent"):
        load_scenario(path)


def test_unparseable_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("vnets: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_scenario(path)


def test_unknown_bundled_name() -> None:
    with pytest.raises(FileNotFoundError, match="seed"):
        load_scenario("no-such-scenario")


@pytest.mark.parametrize("name", ["../seed", "seed/../../x"])
def test_bundled_names_cannot_escape(name: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError)):
        load_scenario(name)


def test_add_security_rule_takes_the_file_shape() -> None:
    data = minimal()
    net = Network.from_dict(data)
    rule = copy.deepcopy(data["nsgs"][0]["securityRules"][0])
    rule.update(name="Port80Out", direction="Outbound", access="Deny", priority=300)
    net.add_security_rule("webnsg", rule)
    nsg = net.scenario.nsgs["webnsg"]
    assert [r.name for r in nsg.rules] == ["Port80", "Port80Out"]
    net.remove_security_rule("WEBNSG", "port80out")
    assert [r.name for r in nsg.rules] == ["Port80"]


def test_copy_is_deep() -> None:
    net = Network.from_dict(minimal())
    twin = net.copy()
    twin.set_vm_power_state("vm1", "deallocated")
    twin.remove_security_rule("webNsg", "Port80")
    assert net.scenario.vms["vm1"].power_state == "running"
    assert len(net.scenario.nsgs["webnsg"].rules) == 1
