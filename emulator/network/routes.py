"""Azure effective routes for a subnet and longest-prefix-match lookup.

System routes (what Azure adds to every subnet; peering is not modelled):
- each VNet address space -> ``VnetLocal``
- ``0.0.0.0/0`` -> ``Internet``
- ``10.0.0.0/8``, ``172.16.0.0/12``, ``192.168.0.0/16``, ``100.64.0.0/10`` -> ``None``
  (Azure's reserved-range drop routes; skipped where a VNet address space uses exactly
  that prefix, because the VNet route then wins).
Gateway routes: a VNet gateway propagates its on-premises prefixes -> ``VirtualNetworkGateway``.
User routes come from the subnet's route table. Selection: the longest prefix wins; on an
equal prefix Azure prefers User > gateway (BGP) > system (Default).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

VIRTUAL_APPLIANCE = "VirtualAppliance"
VIRTUAL_NETWORK_GATEWAY = "VirtualNetworkGateway"
VNET_LOCAL = "VnetLocal"
INTERNET = "Internet"
NONE = "None"
NEXT_HOP_TYPES = {t.lower(): t for t in (VIRTUAL_APPLIANCE, VIRTUAL_NETWORK_GATEWAY, VNET_LOCAL, INTERNET, NONE)}

SYSTEM_ROUTE_ID = "System Route"  # what nextHop returns as routeTableId for a system route

RESERVED_DROP_PREFIXES = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
    IPv4Network("100.64.0.0/10"),
)


SOURCE_DEFAULT = "Default"
SOURCE_GATEWAY = "VirtualNetworkGateway"
SOURCE_USER = "User"
_SOURCE_RANK = {SOURCE_DEFAULT: 0, SOURCE_GATEWAY: 1, SOURCE_USER: 2}


@dataclass(frozen=True)
class Route:
    prefix: IPv4Network
    next_hop_type: str
    next_hop_ip: IPv4Address | None = None
    source: str = SOURCE_DEFAULT  # Azure's effective-route source: Default, gateway, User
    name: str = ""
    route_table_id: str | None = None

    @property
    def user(self) -> bool:
        return self.source == SOURCE_USER

    @property
    def route_type(self) -> str:
        """``User`` or ``System``, as connectivity check's RouteType issue context says."""
        return "User" if self.user else "System"

    @property
    def table_id_for_next_hop(self) -> str:
        return self.route_table_id if self.user and self.route_table_id else SYSTEM_ROUTE_ID


def parse_next_hop_type(value: Any) -> str:
    if isinstance(value, str) and value.lower() in NEXT_HOP_TYPES:
        return NEXT_HOP_TYPES[value.lower()]
    raise ValueError(f"must be one of {', '.join(NEXT_HOP_TYPES.values())} (got {value!r})")


def system_routes(address_space: Iterable[IPv4Network]) -> list[Route]:
    spaces = list(address_space)
    routes = [Route(prefix=space, next_hop_type=VNET_LOCAL) for space in spaces]
    routes.append(Route(prefix=IPv4Network("0.0.0.0/0"), next_hop_type=INTERNET))
    routes.extend(Route(prefix=prefix, next_hop_type=NONE) for prefix in RESERVED_DROP_PREFIXES if prefix not in spaces)
    return routes


def gateway_routes(on_premises: Iterable[IPv4Network]) -> list[Route]:
    return [
        Route(prefix=prefix, next_hop_type=VIRTUAL_NETWORK_GATEWAY, source=SOURCE_GATEWAY) for prefix in on_premises
    ]


def effective_routes(
    address_space: Iterable[IPv4Network],
    user_routes: Sequence[Route] = (),
    on_premises: Iterable[IPv4Network] = (),
) -> list[Route]:
    return [*system_routes(address_space), *gateway_routes(on_premises), *user_routes]


def lookup(routes: Iterable[Route], ip: IPv4Address) -> Route | None:
    """Longest prefix match; on a tie User beats a gateway route beats a system route."""
    candidates = [r for r in routes if ip in r.prefix]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (r.prefix.prefixlen, _SOURCE_RANK[r.source]))
