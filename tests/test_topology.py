"""The topology inventory: collected from the emulator's ARM lists over TLS, matched against the
sample targets, stored on Azurite, and strict about the blob it reads back."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient

from emulator.azurite import Azurite
from emulator.httpserver import Reply, Request, RunningServer
from emulator.seed_cases import SUBSCRIPTION
from emulator.stack import Emulator
from shared.arm import ArmClient, PermanentArmError, TransientArmError
from shared.target_list import parse_target_list
from shared.targets import Connectivity, IpFlow, NextHop, Target, WatcherRef
from shared.topology import (
    Endpoints,
    NicInfo,
    SubnetInfo,
    Topology,
    TopologyError,
    TopologyStore,
    collect,
    endpoints,
    involved,
    refresh,
    target_subscriptions,
)

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {t.name: t for t in parse_target_list((ROOT / "targets.sample.yaml").read_bytes()).targets}
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ContosoRG/providers"
VM = f"{RG}/Microsoft.Compute/virtualMachines"
NIC = f"{RG}/Microsoft.Network/networkInterfaces"
NSG = f"{RG}/Microsoft.Network/networkSecurityGroups"
RT = f"{RG}/Microsoft.Network/routeTables"
VNET = f"{RG}/Microsoft.Network/virtualNetworks/ContosoVNet"
SUBNET = f"{VNET}/subnets"
EAST_VNET = f"{RG}/Microsoft.Network/virtualNetworks/EastVNet"
WATCHER = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/"
           "networkWatchers/NetworkWatcher_westcentralus")
OTHER_SUBSCRIPTION = "11111111-1111-1111-1111-111111111111"


def _client(emu: Emulator, endpoint: str | None = None) -> ArmClient:
    return ArmClient(endpoint or emu.arm_server.url, ManagedIdentityCredential(client_id=emu.identity.client_id),
                     api_version="2024-05-01", timeout=(2, 5))


@pytest.fixture(scope="module")
def seed(emulator: Emulator) -> Topology:
    """The seed scenario's inventory, collected once through ARM (the session emulator is pristine
    between tests)."""
    return collect(_client(emulator), [SUBSCRIPTION], now=dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC))


def _low(*ids: str) -> frozenset[str]:
    return frozenset(i.lower() for i in ids)


APP0_PATH = _low(f"{VM}/MultiTierApp0", f"{NIC}/appNic0", f"{SUBNET}/AppSubnet", f"{NSG}/appNsg",
                 f"{RT}/appRouteTable", VNET)
DB0_PATH = _low(f"{VM}/Database0", f"{NIC}/dbNic0", f"{SUBNET}/DatabaseSubnet", f"{NSG}/dbNsg", VNET)


# ---- collect ----------------------------------------------------------------------------------

def test_collect_reads_every_nic_and_subnet_of_the_seed(seed: Topology) -> None:
    assert len(seed.nics) == 8 and len(seed.subnets) == 6
    assert seed.problems == () and seed.subscriptions == (SUBSCRIPTION,)
    assert seed.refreshed == "2026-11-22T10:00:00+00:00"
    db = seed.nic(f"{NIC}/DBNIC0")
    assert db == NicInfo(f"{NIC}/dbNic0", f"{VM}/Database0", f"{SUBNET}/DatabaseSubnet", None, ("10.1.4.4",), True)
    assert seed.nic(f"{NIC}/auNic") == NicInfo(f"{NIC}/auNic", f"{VM}/Auditor0", f"{SUBNET}/AuditSubnet",
                                               f"{NSG}/auNsg", ("10.1.3.4",), True)
    assert seed.subnet(f"{SUBNET}/appsubnet") == SubnetInfo(f"{SUBNET}/AppSubnet", VNET, f"{NSG}/appNsg",
                                                            f"{RT}/appRouteTable", ("10.1.1.0/24",))
    assert seed.subnet(f"{SUBNET}/FirewallSubnet") == SubnetInfo(f"{SUBNET}/FirewallSubnet", VNET, None,
                                                                 f"{RT}/fwRouteTable", ("10.1.2.0/24",))
    assert seed.subnet(f"{EAST_VNET}/subnets/WebSubnet") is not None
    assert seed.nic(f"{NIC}/webNic0").subnet.lower() == f"{EAST_VNET}/subnets/WebSubnet".lower()  # type: ignore
    assert [n.id.rsplit("/", 1)[1] for n in seed.nics_of_vm(f"{VM}/multitierapp0")] == ["appNic0"]
    assert seed.nics_of_vm(f"{VM}/Nope") == ()


@pytest.mark.parametrize(("page_size", "requests"), [(50, 2), (2, 5)])
def test_collect_makes_two_list_calls_per_subscription(emu: Emulator, page_size: int, requests: int) -> None:
    emu.arm.page_size = page_size
    emu.arm_server.clear_requests()
    try:
        topology = collect(_client(emu), [SUBSCRIPTION, SUBSCRIPTION])  # listed once
    finally:
        emu.arm.page_size = 50
    assert len(topology.nics) == 8
    targets = [r.target.split("?")[0].rsplit("/", 1)[1] for r in emu.arm_server.requests]
    # page size 2: 8 NICs in 4 pages, 2 VNets in 1
    assert len(targets) == requests
    assert targets.count("virtualNetworks") == 1
    assert all(r.authorization for r in emu.arm_server.requests)


def _elsewhere() -> Topology:
    """An inventory of another subscription, as a previous refresh would have stored it."""
    nic = NicInfo(f"{NIC}/far".replace(SUBSCRIPTION, OTHER_SUBSCRIPTION), None, None, None, ("10.9.0.4",))
    subnet = SubnetInfo(f"{SUBNET}/Far".replace(SUBSCRIPTION, OTHER_SUBSCRIPTION),
                        VNET.replace(SUBSCRIPTION, OTHER_SUBSCRIPTION), None, None, ("10.9.0.0/24",))
    return Topology.of([nic], [subnet], refreshed="2026-11-22T09:00:00+00:00", subscriptions=[OTHER_SUBSCRIPTION])


def test_a_subscription_that_cannot_be_listed_keeps_its_previous_inventory(emu: Emulator) -> None:
    previous = _elsewhere()
    topology = collect(_client(emu), [SUBSCRIPTION, OTHER_SUBSCRIPTION], previous=previous)
    assert len(topology.nics) == 9 and len(topology.subnets) == 7
    assert set(previous.nics) < set(topology.nics) and set(previous.subnets) < set(topology.subnets)
    assert topology.problems == (f"subscription {OTHER_SUBSCRIPTION} not listed: SubscriptionNotFound: The "
                                 f"subscription '{OTHER_SUBSCRIPTION}' could not be found.; kept its inventory of "
                                 "2026-11-22T09:00:00+00:00",)
    assert topology.subscriptions == (SUBSCRIPTION, OTHER_SUBSCRIPTION)


@pytest.mark.parametrize("previous", [None, _elsewhere()])
def test_no_subscription_listed_raises_rather_than_storing_less(emu: Emulator, previous: Topology | None) -> None:
    emu.faults.add(service="arm", kind="status", operation="networkInterfaces", status=403,
                   code="AuthorizationFailed", count=1)
    with pytest.raises(PermanentArmError, match="AuthorizationFailed"):
        collect(_client(emu), [SUBSCRIPTION], previous=previous)


def test_an_unknown_subscription_is_a_problem_not_a_failure(emu: Emulator) -> None:
    topology = collect(_client(emu), [SUBSCRIPTION, OTHER_SUBSCRIPTION])
    assert len(topology.nics) == 8
    assert topology.problems == (f"subscription {OTHER_SUBSCRIPTION} not listed: SubscriptionNotFound: "
                                 f"The subscription '{OTHER_SUBSCRIPTION}' could not be found.",)


@pytest.mark.parametrize("bad", ["not-a-guid", f"{SUBSCRIPTION}/../x", ""])
def test_subscriptions_must_be_ids(emu: Emulator, bad: str) -> None:
    emu.arm_server.clear_requests()
    with pytest.raises(ValueError, match="not a subscription id"):
        collect(_client(emu), [bad])
    assert emu.arm_server.requests == []


class CannedArm:
    """An ARM stand-in over TLS serving fixed list pages: the only way to get ARM objects that the
    emulator would never produce."""

    name = "canned-arm"

    def __init__(self, nics: list[Any], vnets: list[Any]) -> None:
        self.pages = {"networkInterfaces": nics, "virtualNetworks": vnets}

    def handle(self, request: Request) -> Reply:
        return Reply.json(200, {"value": self.pages[request.path.rsplit("/", 1)[1]]})


def _good_nic(name: str, ip: str = "10.1.1.4", **properties: Any) -> dict[str, Any]:
    return {"id": f"{NIC}/{name}", "name": name, "properties": {
        "ipConfigurations": [{"id": f"{NIC}/{name}/ipConfigurations/ipconfig1", "properties": {
            "privateIPAddress": ip, "subnet": {"id": f"{SUBNET}/AppSubnet"}, "primary": True}}],
        "virtualMachine": {"id": f"{VM}/{name}-vm"}, **properties}}


def _broken(name: str, path: list[str | int], value: Any) -> dict[str, Any]:
    nic = _good_nic(name)
    node: Any = nic
    for step in path[:-1]:
        node = node[step]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return nic


_DELETE = object()
BAD_NICS = [
    (_broken("a", ["id"], _DELETE), "networkInterfaces[1].id: is required"),
    (_broken("b", ["id"], 5), "networkInterfaces[2].id: must be a non-empty string (got int '5')"),
    (_broken("c", ["id"], "appNic0"), "networkInterfaces[3].id: is not an ARM resource id"),
    (_broken("d", ["properties"], _DELETE), "networkInterfaces[4](d).properties: is required"),
    (_broken("e", ["properties", "ipConfigurations"], _DELETE),
     "networkInterfaces[5](e).properties.ipConfigurations: is required"),
    (_broken("f", ["properties", "ipConfigurations"], {}),
     "networkInterfaces[6](f).properties.ipConfigurations: must be a list (got dict)"),
    (_broken("g", ["properties", "ipConfigurations", 0, "properties", "privateIPAddress"], "10.1.1.300"),
     "networkInterfaces[7](g).properties.ipConfigurations[0].properties.privateIPAddress: must be an IP address"),
    (_broken("h", ["properties", "ipConfigurations", 0, "properties", "subnet"], {"name": "x"}),
     "networkInterfaces[8](h).properties.ipConfigurations[0].properties.subnet.id: is required"),
    (_broken("i", ["properties", "virtualMachine"], "vm"),
     "networkInterfaces[9](i).properties.virtualMachine: must be an object (got str)"),
    (_broken("j", ["properties", "primary"], "yes"),
     "networkInterfaces[10](j).properties.primary: must be true or false"),
    (_broken("k", ["properties", "ipConfigurations", 0], []),
     "networkInterfaces[11](k).properties.ipConfigurations[0]: must be an object (got list)"),
]


def test_collect_skips_ill_formed_arm_objects_naming_the_field(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    vnet_good = {"id": VNET, "properties": {"subnets": [
        {"id": f"{SUBNET}/AppSubnet", "properties": {"addressPrefixes": ["10.1.1.0/24", "10.1.5.0/24"]}},
        {"id": f"{SUBNET}/Bad", "properties": {"addressPrefix": "10.1.1.0/33"}},
        {"id": f"{SUBNET}/NoProps"}]}}
    vnet_bad = {"id": f"{RG}/Microsoft.Network/virtualNetworks/Other"}
    nics = [_good_nic("appNic0"), *[nic for nic, _ in BAD_NICS], _good_nic("appNic9", ip="10.1.1.9",
                                                                         primary=True)]
    server = RunningServer(CannedArm(nics, [vnet_good, vnet_bad]), emu.tls.server_context())
    try:
        with caplog.at_level(logging.WARNING, logger="shared.topology"):
            topology = collect(_client(emu, server.url), [SUBSCRIPTION])
    finally:
        server.stop()
    assert [n.rsplit("/", 1)[1] for n in topology.nics] == ["appnic0", "appnic9"]
    assert topology.subnets == {f"{SUBNET}/AppSubnet".lower(): SubnetInfo(
        f"{SUBNET}/AppSubnet", VNET, None, None, ("10.1.1.0/24", "10.1.5.0/24"))}
    problems = topology.problems
    assert len(problems) == len(BAD_NICS) + 3
    for (_, reason), problem in zip(BAD_NICS, problems, strict=False):
        assert problem.startswith("NIC skipped: ") and reason in problem, (reason, problem)
    assert problems[-3:] == (
        "subnet skipped: virtualNetworks[0](ContosoVNet).properties.subnets[1].properties.addressPrefix: must be "
        "an address prefix such as '10.1.0.0/24' (got str '10.1.1.0/33')",
        "subnet skipped: virtualNetworks[0](ContosoVNet).properties.subnets[2].properties: is required",
        "VNet skipped: virtualNetworks[1](Other).properties: is required")
    assert [r.getMessage() for r in caplog.records] == [f"topology: {p}" for p in problems]


# ---- related, involved, endpoints -------------------------------------------------------------

@pytest.mark.parametrize(("resource", "expected"), [
    (f"{VM}/MultiTierApp0", APP0_PATH),
    (f"{VM}/MULTITIERAPP0/", APP0_PATH),
    (f"{NIC}/appNic0", APP0_PATH),
    (f"{VM}/Database0", DB0_PATH),
    (f"{NIC}/dbnic0", DB0_PATH),
    (f"{VM}/Auditor0", _low(f"{VM}/Auditor0", f"{NIC}/auNic", f"{NSG}/auNsg", f"{SUBNET}/AuditSubnet", VNET)),
    (f"{VM}/Firewall0", _low(f"{VM}/Firewall0", f"{NIC}/fwNic", f"{SUBNET}/FirewallSubnet", f"{RT}/fwRouteTable",
                             VNET)),
    (f"{VM}/EastWeb0", _low(f"{VM}/EastWeb0", f"{NIC}/webNic0", f"{EAST_VNET}/subnets/WebSubnet", EAST_VNET)),
    (f"{NSG}/dbNsg", _low(f"{NSG}/dbNsg")),
    (f"{SUBNET}/AppSubnet", _low(f"{SUBNET}/AppSubnet")),
    (f"{VM}/Unknown", _low(f"{VM}/Unknown")),
])
def test_related(seed: Topology, resource: str, expected: frozenset[str]) -> None:
    assert seed.related(resource) == expected


def _case(resource: str, style: str) -> str:
    return {"upper": resource.upper(), "lower": resource.lower(), "as-is": resource}[style]


DB_ALERTS = [f"{VM}/Database0", f"{NIC}/dbNic0", f"{NSG}/dbNsg", f"{SUBNET}/DatabaseSubnet"]
APP_ALERTS = [f"{VM}/MultiTierApp0", f"{NIC}/appNic0", f"{NSG}/appNsg", f"{SUBNET}/AppSubnet",
              f"{RT}/appRouteTable", VNET]
UNRELATED = [f"{VM}/Auditor0", f"{NIC}/auNic", f"{NSG}/auNsg", f"{VM}/EastWeb0", EAST_VNET, f"{VM}/MultiTierApp1",
             f"{RT}/fwRouteTable"]


@pytest.mark.parametrize("style", ["as-is", "upper", "lower"])
@pytest.mark.parametrize(("target", "alerted", "matches"), [
    *[("app-to-db-port80", r, True) for r in DB_ALERTS + APP_ALERTS],
    *[("app-to-db-port80", r, False) for r in UNRELATED],
    # the destination address 10.1.4.4 is dbNic0's: the next hop target involves Database0's path
    *[("app-nexthop-db", r, True) for r in [*DB_ALERTS, f"{VM}/MultiTierApp0", WATCHER]],
    *[("app-to-13.107.21.200", r, True) for r in APP_ALERTS],
    *[("app-to-13.107.21.200", r, False) for r in [*DB_ALERTS, *UNRELATED, WATCHER]],
    *[("internet-in-3389", r, True) for r in APP_ALERTS],
    *[("internet-in-3389", r, False) for r in DB_ALERTS],
])
def test_involved(seed: Topology, target: str, alerted: str, matches: bool, style: str) -> None:
    assert (_case(alerted, style).lower() in involved(TARGETS[target], seed)) is matches


def test_involved_without_an_inventory_is_the_ids_the_target_names() -> None:
    assert involved(TARGETS["app-to-db-port80"], None) == _low(f"{VM}/MultiTierApp0", f"{VM}/Database0")
    assert involved(TARGETS["app-nexthop-db"], None) == _low(f"{VM}/MultiTierApp0", WATCHER)
    ip_flow = Target("t", "ipFlow", f"{VM}/MultiTierApp0", IpFlow("Outbound", "TCP", "10.1.1.4", "1", "10.1.4.4", "80",
                                                                  nic_resource_id=f"{NIC}/APPNIC0"), "Allow")
    assert involved(ip_flow, None) == _low(f"{VM}/MultiTierApp0", f"{NIC}/appNic0")


def _nic(seed: Topology, name: str) -> NicInfo:
    nic = seed.nic(f"{NIC}/{name}")
    assert nic is not None
    return nic


@pytest.mark.parametrize(("target", "source", "source_ip", "destination", "destination_ip"), [
    ("app-to-db-port80", "appNic0", "10.1.1.4", "dbNic0", "10.1.4.4"),
    ("app-to-13.107.21.200", "appNic0", "10.1.1.4", None, "13.107.21.200"),
    ("app-to-bing", "appNic0", "10.1.1.4", None, None),  # a host name: not resolved here
    ("app-out-443", "appNic0", "10.1.1.4", None, "13.107.21.200"),
    ("internet-in-3389", "appNic0", "10.1.1.4", None, "203.0.113.10"),
    ("app-nexthop-db", "appNic0", "10.1.1.4", "dbNic0", "10.1.4.4"),
])
def test_endpoints_of_the_sample_targets(seed: Topology, target: str, source: str, source_ip: str,
                                         destination: str | None, destination_ip: str | None) -> None:
    assert endpoints(TARGETS[target], seed) == Endpoints(
        _nic(seed, source), source_ip, _nic(seed, destination) if destination else None, destination_ip)


@pytest.mark.parametrize(("spec", "expected"), [
    (Connectivity(destination_address="https://10.1.4.4:8443/x", port=0), ("dbNic0", "10.1.4.4")),
    (Connectivity(destination_address="10.1.3.4", port=80), ("auNic", "10.1.3.4")),
    (Connectivity(destination_resource_id=f"{NIC}/FWNIC", port=80), ("fwNic", "10.1.2.4")),
    (Connectivity(destination_address="10.9.9.9", port=80), (None, "10.9.9.9")),
    (NextHop("10.1.1.4", "10.2.1.4"), ("webNic0", "10.2.1.4")),
])
def test_endpoints_resolve_a_destination_through_the_inventory(seed: Topology, spec: Any,
                                                               expected: tuple[str | None, str]) -> None:
    ends = endpoints(Target("t", "connectivity", f"{VM}/MultiTierApp0", spec, "Reachable"), seed)
    assert (ends.destination_nic.id.rsplit("/", 1)[1] if ends.destination_nic else None,
            ends.destination_ip) == expected


def test_endpoints_without_an_inventory_keep_what_the_target_says() -> None:
    assert endpoints(TARGETS["app-nexthop-db"], None) == Endpoints(None, "10.1.1.4", None, "10.1.4.4")
    assert endpoints(TARGETS["app-to-db-port80"], None) == Endpoints(None, None, None, None)


def _two_vnets() -> Topology:
    nics = [NicInfo(f"{NIC}/a1", f"{VM}/a", f"{SUBNET}/A", None, ("10.0.0.4",), True),
            NicInfo(f"{NIC}/b1", f"{VM}/b", f"{EAST_VNET}/subnets/B", None, ("10.0.0.4",), True),
            NicInfo(f"{NIC}/c1", f"{VM}/c", f"{EAST_VNET}/subnets/B", None, ("10.0.0.5",), False),
            NicInfo(f"{NIC}/c2", f"{VM}/c", f"{EAST_VNET}/subnets/B", None, ("10.0.0.6", "10.0.0.7"), True)]
    subnets = [SubnetInfo(f"{SUBNET}/A", VNET, None, None, ("10.0.0.0/24",)),
               SubnetInfo(f"{EAST_VNET}/subnets/B", EAST_VNET, None, None, ("10.0.0.0/24",))]
    return Topology.of(nics, subnets, refreshed="2026-11-22T10:00:00+00:00", subscriptions=[SUBSCRIPTION])


def test_an_address_used_in_two_vnets_is_resolved_only_within_the_source_vnet() -> None:
    topology = _two_vnets()
    assert topology.nic_by_ip("10.0.0.4") is None  # ambiguous
    assert topology.nic_by_ip("10.0.0.4", vnet=EAST_VNET.upper()).id.endswith("/b1")  # type: ignore[union-attr]
    assert topology.nic_by_ip("10.0.0.5").id.endswith("/c1")  # type: ignore[union-attr]
    assert topology.nic_by_ip("10.0.0.8") is None and topology.nic_by_ip("not an ip") is None
    from_c = Target("t", "connectivity", f"{VM}/c", Connectivity(destination_address="10.0.0.4", port=22), "Reachable")
    ends = endpoints(from_c, topology)
    assert ends.source_nic.id.endswith("/c2") and ends.destination_nic.id.endswith("/b1")  # type: ignore[union-attr]
    assert f"{NIC}/b1".lower() in involved(from_c, topology) and f"{NIC}/a1".lower() not in involved(from_c, topology)


def test_the_source_nic_is_the_one_holding_the_local_address() -> None:
    topology = _two_vnets()
    assert [n.id[-2:] for n in topology.nics_of_vm(f"{VM}/c")] == ["c2", "c1"]  # primary first
    flow = Target("t", "ipFlow", f"{VM}/c", IpFlow("Inbound", "TCP", "10.0.0.5", "22", "10.0.0.4", "*"), "Allow")
    assert endpoints(flow, topology).source_nic.id.endswith("/c1")  # type: ignore[union-attr]
    hop = Target("t", "nextHop", f"{VM}/c", NextHop("10.0.0.7", "10.0.0.4", nic_resource_id=f"{NIC}/C1"), "VnetLocal")
    assert endpoints(hop, topology).source_nic.id.endswith("/c1")  # type: ignore[union-attr]


def test_target_subscriptions() -> None:
    other = Target("o", "connectivity", f"{VM}/x".replace(SUBSCRIPTION, OTHER_SUBSCRIPTION),
                   Connectivity(destination_resource_id=f"{VM}/Database0", port=1), "Reachable",
                   watcher=WatcherRef(SUBSCRIPTION, "rg", "nw"))
    assert target_subscriptions([*TARGETS.values(), other]) == (SUBSCRIPTION, OTHER_SUBSCRIPTION)


# ---- the blob ---------------------------------------------------------------------------------

def test_json_round_trip(seed: Topology) -> None:
    again = Topology.from_json(seed.to_json())
    assert again == seed
    assert Topology.from_json(seed.to_json().encode()).related(f"{VM}/Database0") == DB0_PATH


def _blob(seed: Topology, change: Any) -> str:
    document = json.loads(seed.to_json())
    change(document)
    return json.dumps(document)


def _set(path: list[str | int], value: Any) -> Any:
    def change(document: Any) -> None:
        node = document
        for step in path[:-1]:
            node = node[step]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return change


@pytest.mark.parametrize(("change", "message"), [
    (_set(["version"], 2), "version: must be 1 (got 2)"),
    (_set(["nics"], _DELETE), "nics: is required"),
    (_set(["nics"], {}), "nics: must be a list (got dict)"),
    (_set(["nics", 0], "nic"), "nics[0]: must be an object (got str)"),
    (_set(["nics", 0, "id"], _DELETE), "nics[0].id: is required"),
    (_set(["nics", 0, "id"], "appNic0"), "nics[0].id: is not an ARM resource id: 'appNic0'"),
    (_set(["nics", 1, "vm"], 7), "nics[1].vm: must be a non-empty string (got int '7')"),
    (_set(["nics", 1, "privateIps", 0], "10.1.2.999"), "nics[1].privateIps[0]: must be an IP address string"),
    (_set(["nics", 1, "privateIps"], "10.1.2.4"), "nics[1].privateIps: must be a list (got str)"),
    (_set(["nics", 1, "primary"], "true"), "nics[1].primary: must be true or false (got str)"),
    (_set(["nics", 1, "primary"], _DELETE), "nics[1].primary: is required"),
    (_set(["nics", 1, "extra"], 1), "nics[1].extra: unknown field"),
    (_set(["nics", 1, "id"], f"{NIC}/APPNIC0"), f"nics[1].id: duplicate id '{NIC}/APPNIC0'"),
    (_set(["subnets", 0, "vnet"], None), "subnets[0].vnet: is required"),
    (_set(["subnets", 0, "prefixes", 0], "10.1.1.0/40"), "subnets[0].prefixes[0]: must be an address prefix"),
    (_set(["subnets", 0, "routeTable"], ["x"]), "subnets[0].routeTable: must be a non-empty string (got list"),
    (_set(["refreshed"], "yesterday"), "refreshed: is not an ISO 8601 time: 'yesterday'"),
    (_set(["refreshed"], "2026-11-22T10:00:00"), "refreshed: has no UTC offset"),
    (_set(["subscriptions", 0], "sub"), "subscriptions[0]: must be a subscription id (got str 'sub')"),
    (_set(["problems"], [1]), "problems[0]: must be a string (got int)"),
    (_set(["topology"], {}), "topology: unknown field"),
])
def test_a_malformed_blob_names_the_field(seed: Topology, change: Any, message: str) -> None:
    with pytest.raises(TopologyError) as info:
        Topology.from_json(_blob(seed, change), source="topology.json")
    assert str(info.value).startswith(f"topology.json: {message}"), str(info.value)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "topology: not JSON"), (b"\xff\xfe", "topology: not JSON"), (b"[]", "topology: <root>: must be an object"),
    (b'{"version": 1}', "topology: refreshed: is required"),
])
def test_a_blob_that_is_not_an_inventory_at_all(data: bytes, message: str) -> None:
    with pytest.raises(TopologyError, match=message):
        Topology.from_json(data)


@pytest.fixture
def store(azurite: Azurite) -> Iterator[TopologyStore]:
    container = f"state{uuid.uuid4().hex[:10]}"
    yield TopologyStore.from_env({"NwcheckStorage": azurite.connection_string, "STATE_CONTAINER": container})


def test_the_store_round_trips_on_azurite_and_reads_again_only_after_a_change(
        azurite: Azurite, store: TopologyStore, seed: Topology) -> None:
    assert store.load() is None  # neither container nor blob yet
    store.save(seed)
    reader = TopologyStore.from_env({"NwcheckStorage": azurite.connection_string,
                                     "STATE_CONTAINER": store.container.container_name})
    first = reader.load()
    assert first == seed
    assert reader.load() is first  # 304: parsed once per ETag
    smaller = Topology.of(list(seed.nics.values())[:1], [], refreshed="2026-11-22T11:00:00+00:00",
                          subscriptions=[SUBSCRIPTION])
    store.save(smaller)
    assert reader.load() == smaller
    blob = BlobServiceClient.from_connection_string(azurite.connection_string).get_blob_client(
        store.container.container_name, "topology.json")
    assert blob.get_blob_properties().content_settings.content_type == "application/json"
    blob.delete_blob()
    assert reader.load() is None


def test_a_malformed_stored_blob_raises_naming_the_blob_and_the_field(azurite: Azurite, store: TopologyStore,
                                                                      seed: Topology) -> None:
    store.save(seed)
    store.container.upload_blob("topology.json", _blob(seed, _set(["nics", 2, "subnet"], 3)), overwrite=True)
    with pytest.raises(TopologyError, match=r"/topology\.json: nics\[2\]\.subnet: must be a non-empty string"):
        store.load()


def test_refresh_stores_the_inventory_and_leaves_it_when_arm_fails(emu: Emulator, store: TopologyStore) -> None:
    store.save(_elsewhere())
    first = refresh(_client(emu), [SUBSCRIPTION, OTHER_SUBSCRIPTION], store)
    assert len(first.nics) == 9 and store.load() == first  # the other subscription's NIC is kept
    emu.faults.add(service="arm", kind="status", operation="virtualNetworks", status=503,
                   code="ServiceUnavailable", count=1)
    with pytest.raises(TransientArmError, match="ServiceUnavailable"):
        refresh(_client(emu), [SUBSCRIPTION], store)
    assert store.load() == first


def test_refresh_replaces_an_unusable_stored_blob(emu: Emulator, store: TopologyStore) -> None:
    store.container.create_container()
    store.container.upload_blob("topology.json", b"{not json")
    assert len(refresh(_client(emu), [SUBSCRIPTION], store).nics) == 8
    assert store.load() is not None and len(store.load().nics) == 8  # type: ignore[union-attr]
