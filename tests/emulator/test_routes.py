"""Effective routes: system routes, user routes, gateway routes, longest prefix, tie-breaks."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from emulator.network.routes import (
    SOURCE_GATEWAY,
    SOURCE_USER,
    SYSTEM_ROUTE_ID,
    Route,
    effective_routes,
    lookup,
    parse_next_hop_type,
    system_routes,
)

VNET = (IPv4Network("10.1.0.0/16"),)
TABLE_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt"


def udr(prefix: str, hop: str, ip: str | None = None, name: str = "udr") -> Route:
    return Route(IPv4Network(prefix), hop, IPv4Address(ip) if ip else None, SOURCE_USER, name, TABLE_ID)


def pick(routes: list[Route], ip: str) -> Route:
    route = lookup(routes, IPv4Address(ip))
    assert route is not None
    return route


# --------------------------------------------------------------------------- system routes only


@pytest.mark.parametrize(
    ("ip", "hop_type"),
    [
        ("10.1.4.4", "VnetLocal"),
        ("10.1.255.254", "VnetLocal"),
        ("8.8.8.8", "Internet"),
        ("13.107.21.200", "Internet"),
        ("10.9.9.9", "None"),  # Azure drops the reserved private ranges outside the VNet
        ("172.16.5.5", "None"),
        ("192.168.1.1", "None"),
        ("100.64.0.1", "None"),
    ],
)
def test_system_routes(ip: str, hop_type: str) -> None:
    route = pick(system_routes(VNET), ip)
    assert route.next_hop_type == hop_type
    assert route.route_type == "System"
    assert route.table_id_for_next_hop == SYSTEM_ROUTE_ID == "System Route"


def test_vnet_using_a_reserved_prefix_exactly_replaces_the_drop_route() -> None:
    routes = system_routes([IPv4Network("10.0.0.0/8")])
    assert pick(routes, "10.200.0.1").next_hop_type == "VnetLocal"
    assert [r.prefix for r in routes].count(IPv4Network("10.0.0.0/8")) == 1


def test_multiple_address_spaces_are_all_local() -> None:
    routes = system_routes([IPv4Network("10.1.0.0/16"), IPv4Network("172.20.0.0/16")])
    assert pick(routes, "172.20.3.3").next_hop_type == "VnetLocal"
    assert pick(routes, "172.21.3.3").next_hop_type == "None"


# --------------------------------------------------------------------------- longest prefix


ROUTES = effective_routes(
    VNET,
    [
        udr("10.1.4.0/24", "VirtualAppliance", "10.1.2.4", "ToDb"),
        udr("10.1.4.128/25", "VirtualAppliance", "10.1.3.4", "ToDbHigh"),
        udr("13.107.21.200/32", "None", name="Drop"),
        udr("52.0.0.0/8", "Internet", name="ToAzure"),
    ],
)


@pytest.mark.parametrize(
    ("ip", "name", "hop_type", "hop_ip"),
    [
        ("10.1.4.4", "ToDb", "VirtualAppliance", "10.1.2.4"),  # /24 beats the /16 VNet route
        ("10.1.4.200", "ToDbHigh", "VirtualAppliance", "10.1.3.4"),  # /25 beats /24
        ("10.1.5.5", "", "VnetLocal", None),
        ("13.107.21.200", "Drop", "None", None),  # /32 beats 0.0.0.0/0
        ("13.107.21.201", "", "Internet", None),
        ("52.1.2.3", "ToAzure", "Internet", None),
    ],
)
def test_longest_prefix_wins(ip: str, name: str, hop_type: str, hop_ip: str | None) -> None:
    route = pick(ROUTES, ip)
    assert (route.name, route.next_hop_type) == (name, hop_type)
    assert route.next_hop_ip == (IPv4Address(hop_ip) if hop_ip else None)


def test_udr_beats_system_route_on_equal_prefix() -> None:
    routes = effective_routes(VNET, [udr("10.1.0.0/16", "VirtualAppliance", "10.1.2.4")])
    route = pick(routes, "10.1.9.9")
    assert (route.next_hop_type, route.route_type) == ("VirtualAppliance", "User")
    assert route.table_id_for_next_hop == TABLE_ID


def test_forced_tunnelling_default_route() -> None:
    routes = effective_routes(VNET, [udr("0.0.0.0/0", "VirtualAppliance", "10.1.2.4")])
    assert pick(routes, "8.8.8.8").next_hop_type == "VirtualAppliance"
    assert pick(routes, "10.1.1.1").next_hop_type == "VnetLocal"  # /16 still longer than /0
    assert pick(routes, "172.16.0.1").next_hop_type == "None"  # /12 drop route still longer


def test_udr_can_override_a_reserved_drop_route() -> None:
    routes = effective_routes(VNET, [udr("172.16.0.0/12", "VirtualNetworkGateway")])
    assert pick(routes, "172.16.0.1").next_hop_type == "VirtualNetworkGateway"


def test_gateway_routes_rank_between_user_and_system() -> None:
    on_prem = [IPv4Network("192.168.0.0/16")]
    gw_only = effective_routes(VNET, [], on_prem)
    route = pick(gw_only, "192.168.1.10")
    assert (route.next_hop_type, route.source, route.route_type) == (
        "VirtualNetworkGateway",
        SOURCE_GATEWAY,
        "System",
    )
    assert route.table_id_for_next_hop == "System Route"
    with_udr = effective_routes(VNET, [udr("192.168.0.0/16", "VirtualAppliance", "10.1.2.4")], on_prem)
    assert pick(with_udr, "192.168.1.10").next_hop_type == "VirtualAppliance"


# --------------------------------------------------------------------------- next hop types


@pytest.mark.parametrize(
    ("hop_type", "hop_ip"),
    [
        ("VirtualAppliance", "10.1.2.4"),
        ("VirtualNetworkGateway", None),
        ("VnetLocal", None),
        ("Internet", None),
        ("None", None),
    ],
)
def test_each_user_next_hop_type(hop_type: str, hop_ip: str | None) -> None:
    routes = effective_routes(VNET, [udr("203.0.113.0/24", hop_type, hop_ip)])
    route = pick(routes, "203.0.113.7")
    assert (route.next_hop_type, route.route_type, route.table_id_for_next_hop) == (hop_type, "User", TABLE_ID)


def test_no_route_without_default() -> None:
    assert lookup([udr("10.0.0.0/8", "None")], IPv4Address("8.8.8.8")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("virtualappliance", "VirtualAppliance"), ("NONE", "None"), ("VnetLocal", "VnetLocal")],
)
def test_next_hop_type_parsing(text: str, expected: str) -> None:
    assert parse_next_hop_type(text) == expected


@pytest.mark.parametrize("bad", ["VnetPeering", "", None, 3])
def test_bad_next_hop_types(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_next_hop_type(bad)
