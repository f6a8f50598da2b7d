"""The scenario: a declarative description of subscriptions, VNets, NSGs, routes and VMs.

A scenario is a YAML or JSON file (see ``emulator/scenarios/seed.yaml`` for a commented
example). It is validated strictly: unknown keys, bad CIDRs, duplicate names and dangling
references raise ``ValueError`` whose message starts with the path of the bad field, e.g.
``nsgs[auNsg].securityRules[Port80].priority: must be 100..4096``.

Key conventions: scenario settings are snake_case (``status_vocabulary``,
``default_rule_names``, ``default_latency``, ``defaults``); resource fields are ARM-like
camelCase. Resource names are unique per kind across the whole scenario (case-insensitive),
because the runtime mutation API addresses NSGs and VMs by name alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import yaml

from .nsg import (
    DEFAULT_RULE_NAMES,
    NsgLevel,
    SecurityRule,
    TagContext,
    default_rules,
    parse_access,
    parse_address_prefix,
    parse_direction,
    parse_port_range,
    parse_protocol,
)
from .routes import (
    SOURCE_USER,
    VIRTUAL_APPLIANCE,
    Route,
    effective_routes,
    parse_next_hop_type,
)

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"

STATUS_VOCABULARIES = ("docs", "spec")
POWER_STATES = ("running", "deallocated")
AGENT_STATES = ("installed", "missing", "stopped")
OS_TYPES = {"linux": "Linux", "windows": "Windows"}
# The VM extension name the portal and the 2017 docs use for the Network Watcher agent.
AGENT_EXTENSION_NAME = "AzureNetworkWatcherExtension"
DEFAULT_LATENCY = (1, 1, 4)  # avg/min/max ms of the current OpenAPI example

T = TypeVar("T")


class _HasName(Protocol):
    name: str


N = TypeVar("N", bound=_HasName)


# --------------------------------------------------------------------------- ARM ids


def arm_id(subscription: str, resource_group: str, provider: str, kind: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{provider}/{kind}/{name}"


@dataclass(frozen=True)
class ParsedId:
    subscription: str
    resource_group: str
    provider: str
    kind: str
    name: str

    def is_a(self, provider: str, kind: str) -> bool:
        # ARM ids are case-insensitive; the seeds even use 'Microsoft.compute'.
        return self.provider.lower() == provider.lower() and self.kind.lower() == kind.lower()


def parse_arm_id(value: str) -> ParsedId | None:
    """Split a top-level ARM resource id; None when it is not of that shape."""
    parts = value.strip().strip("/").split("/")
    if len(parts) != 8 or any(not p for p in parts):
        return None
    keywords = (parts[0].lower(), parts[2].lower(), parts[4].lower())
    if keywords != ("subscriptions", "resourcegroups", "providers"):
        return None
    return ParsedId(parts[1], parts[3], parts[5], parts[6], parts[7])


def same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def normalize_region(value: str) -> str:
    # 'West Central US' and 'westcentralus' are the same ARM location.
    return value.replace(" ", "").lower()


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Latency:
    avg: int
    min: int
    max: int


@dataclass
class Subscription:
    id: str
    regions: tuple[str, ...]


@dataclass
class Watcher:
    subscription: str
    resource_group: str
    name: str
    region: str


@dataclass
class Gateway:
    """A VNet's VPN/ExpressRoute gateway; it answers for the on-premises prefixes."""

    name: str
    address: IPv4Address
    id: str
    on_premises: tuple[IPv4Network, ...] = ()
    latency: Latency | None = None
    loss_percent: int = 0


@dataclass
class Subnet:
    name: str
    vnet: str
    prefix: IPv4Network
    id: str
    nsg: str | None = None
    route_table: str | None = None


@dataclass
class VirtualNetwork:
    name: str
    subscription: str
    resource_group: str
    region: str
    address_space: tuple[IPv4Network, ...]
    subnets: dict[str, Subnet] = field(default_factory=dict)  # keyed by lower-case name
    gateway: Gateway | None = None

    @property
    def id(self) -> str:
        return arm_id(self.subscription, self.resource_group, "Microsoft.Network", "virtualNetworks", self.name)

    @property
    def on_premises(self) -> tuple[IPv4Network, ...]:
        return self.gateway.on_premises if self.gateway else ()


@dataclass
class NetworkSecurityGroup:
    name: str
    subscription: str
    resource_group: str
    region: str
    rules: list[SecurityRule] = field(default_factory=list)

    @property
    def id(self) -> str:
        return arm_id(
            self.subscription,
            self.resource_group,
            "Microsoft.Network",
            "networkSecurityGroups",
            self.name,
        )

    def level(self) -> NsgLevel:
        return NsgLevel(self.name, tuple(self.rules))


@dataclass
class RouteTable:
    name: str
    subscription: str
    resource_group: str
    region: str
    routes: list[Route] = field(default_factory=list)

    @property
    def id(self) -> str:
        return arm_id(self.subscription, self.resource_group, "Microsoft.Network", "routeTables", self.name)


@dataclass
class Nic:
    name: str
    vm: str
    subscription: str
    resource_group: str
    vnet: str
    subnet: str
    ip: IPv4Address
    nsg: str | None = None
    ip_forwarding: bool = False

    @property
    def id(self) -> str:
        return arm_id(
            self.subscription,
            self.resource_group,
            "Microsoft.Network",
            "networkInterfaces",
            self.name,
        )

    @property
    def ipconfig_id(self) -> str:
        # Connectivity check hops name the NIC's IP configuration, as in the seeds.
        return f"{self.id}/ipConfigurations/ipconfig1"


@dataclass
class VirtualMachine:
    name: str
    subscription: str
    resource_group: str
    region: str
    nics: list[Nic]
    power_state: str = "running"
    agent: str = "installed"
    os_type: str = "Linux"
    extensions: tuple[str, ...] = ()
    latency: Latency | None = None
    loss_percent: int = 0

    @property
    def id(self) -> str:
        return arm_id(self.subscription, self.resource_group, "Microsoft.Compute", "virtualMachines", self.name)

    @property
    def primary_nic(self) -> Nic:
        # The first NIC listed is the primary one (Azure marks exactly one as primary).
        return self.nics[0]


@dataclass
class InternetEndpoint:
    ip: IPv4Address
    hosts: tuple[str, ...] = ()
    latency: Latency | None = None
    loss_percent: int = 0
    ports: frozenset[int] | None = None  # None: every port answers


@dataclass
class Scenario:
    status_vocabulary: str
    default_rule_names: dict[str, str]
    default_latency: Latency
    subscriptions: dict[str, Subscription]
    watchers: list[Watcher]
    vnets: dict[str, VirtualNetwork]
    nsgs: dict[str, NetworkSecurityGroup]
    route_tables: dict[str, RouteTable]
    vms: dict[str, VirtualMachine]
    internet: list[InternetEndpoint]

    # ------------------------------------------------------------------ lookups

    @property
    def default_rules(self) -> tuple[SecurityRule, ...]:
        return default_rules(self.default_rule_names)

    def find_watcher(self, subscription: str, resource_group: str, name: str) -> Watcher | None:
        for watcher in self.watchers:
            if (
                same(watcher.subscription, subscription)
                and same(watcher.resource_group, resource_group)
                and same(watcher.name, name)
            ):
                return watcher
        return None

    def find_vm(self, subscription: str, resource_group: str, name: str) -> VirtualMachine | None:
        vm = self.vms.get(name.lower())
        if vm and same(vm.subscription, subscription) and same(vm.resource_group, resource_group):
            return vm
        return None

    def all_nics(self) -> Iterator[Nic]:
        for vm in self.vms.values():
            yield from vm.nics

    def find_nic_by_id(self, resource_id: str) -> Nic | None:
        parsed = parse_arm_id(resource_id)
        if parsed is None or not parsed.is_a("Microsoft.Network", "networkInterfaces"):
            return None
        for nic in self.all_nics():
            if (
                same(nic.name, parsed.name)
                and same(nic.subscription, parsed.subscription)
                and same(nic.resource_group, parsed.resource_group)
            ):
                return nic
        return None

    def nic_at(self, vnet: str, ip: IPv4Address) -> Nic | None:
        for nic in self.all_nics():
            if same(nic.vnet, vnet) and nic.ip == ip:
                return nic
        return None

    def vm_of(self, nic: Nic) -> VirtualMachine:
        return self.vms[nic.vm.lower()]

    def vnet_of(self, nic: Nic) -> VirtualNetwork:
        return self.vnets[nic.vnet.lower()]

    def subnet_of(self, nic: Nic) -> Subnet:
        return self.vnet_of(nic).subnets[nic.subnet.lower()]

    def all_vnet_spaces(self) -> tuple[IPv4Network, ...]:
        """Every VNet address space and on-premises prefix: none of it is 'Internet'."""
        return tuple(space for vnet in self.vnets.values() for space in (*vnet.address_space, *vnet.on_premises))

    def tag_context(self, nic: Nic) -> TagContext:
        # Azure's VirtualNetwork tag covers the VNet and the on-premises space connected
        # through its gateway (UDR prefixes, which Azure also adds, are not modelled).
        vnet = self.vnet_of(nic)
        return TagContext((*vnet.address_space, *vnet.on_premises), self.all_vnet_spaces())

    def nsg_levels(self, nic: Nic) -> tuple[NsgLevel | None, NsgLevel | None]:
        """(subnet NSG, NIC NSG) of a NIC; None where no NSG is associated."""
        subnet = self.subnet_of(nic)
        subnet_level = self.nsgs[subnet.nsg.lower()].level() if subnet.nsg else None
        nic_level = self.nsgs[nic.nsg.lower()].level() if nic.nsg else None
        return subnet_level, nic_level

    def routes_for(self, nic: Nic) -> list[Route]:
        subnet = self.subnet_of(nic)
        user = self.route_tables[subnet.route_table.lower()].routes if subnet.route_table else []
        vnet = self.vnet_of(nic)
        return effective_routes(vnet.address_space, user, vnet.on_premises)

    def resolve_host(self, host: str) -> InternetEndpoint | None:
        wanted = host.lower().rstrip(".")
        for endpoint in self.internet:
            if wanted in endpoint.hosts:
                return endpoint
        return None

    def internet_endpoint(self, ip: IPv4Address) -> InternetEndpoint | None:
        for endpoint in self.internet:
            if endpoint.ip == ip:
                return endpoint
        return None

    # ------------------------------------------------------------------ mutations

    def _nsg(self, name: str) -> NetworkSecurityGroup:
        nsg = self.nsgs.get(name.lower())
        if nsg is None:
            raise KeyError(f"no NSG named {name!r}")
        return nsg

    def _vm(self, name: str) -> VirtualMachine:
        vm = self.vms.get(name.lower())
        if vm is None:
            raise KeyError(f"no VM named {name!r}")
        return vm

    def remove_security_rule(self, nsg_name: str, rule_name: str) -> None:
        nsg = self._nsg(nsg_name)
        for index, rule in enumerate(nsg.rules):
            if same(rule.name, rule_name):
                del nsg.rules[index]
                return
        raise KeyError(f"NSG {nsg.name!r} has no security rule named {rule_name!r}")

    def add_security_rule(self, nsg_name: str, rule: Any) -> None:
        nsg = self._nsg(nsg_name)
        name = rule.get("name") if isinstance(rule, dict) else None
        path = f"nsgs[{nsg.name}].securityRules[{name if isinstance(name, str) else 'new'}]"
        parsed = parse_security_rule(rule, path)
        _check_rule_clashes(nsg.rules, parsed, path)
        nsg.rules.append(parsed)

    def set_vm_power_state(self, vm_name: str, state: str) -> None:
        vm = self._vm(vm_name)
        vm.power_state = _choice(state, POWER_STATES, f"vms[{vm.name}].powerState")

    def set_agent(self, vm_name: str, state: str) -> None:
        vm = self._vm(vm_name)
        vm.agent = _choice(state, AGENT_STATES, f"vms[{vm.name}].agent")


# --------------------------------------------------------------------------- ARM JSON of a VM


def vm_to_arm(vm: VirtualMachine) -> dict[str, Any]:
    """Microsoft.Compute/virtualMachines JSON with the fields the seeds show."""
    resources: list[dict[str, Any]] = [
        {
            "id": f"{vm.id}/extensions/{name}",
            "name": name,
            "type": "Microsoft.Compute/virtualMachines/extensions",
            "location": vm.region,
        }
        for name in vm.extensions
    ]
    if vm.agent != "missing":
        resources.append(
            {
                "id": f"{vm.id}/extensions/{AGENT_EXTENSION_NAME}",
                "name": AGENT_EXTENSION_NAME,
                "type": "Microsoft.Compute/virtualMachines/extensions",
                "location": vm.region,
                "properties": {
                    "publisher": "Microsoft.Azure.NetworkWatcher",
                    "type": f"NetworkWatcherAgent{vm.os_type}",
                    "typeHandlerVersion": "1.4",
                    "autoUpgradeMinorVersion": True,
                    "provisioningState": "Succeeded",
                },
            }
        )
    return {
        "properties": {
            "storageProfile": {"osDisk": {"osType": vm.os_type}},
            "networkProfile": {
                "networkInterfaces": [
                    {"id": nic.id, "properties": {"primary": index == 0}} for index, nic in enumerate(vm.nics)
                ]
            },
            "provisioningState": "Succeeded",
        },
        "resources": resources,
        "type": "Microsoft.Compute/virtualMachines",
        "location": vm.region,
        "id": vm.id,
        "name": vm.name,
    }


# --------------------------------------------------------------------------- ARM JSON of NICs and VNets
# Shapes as in azure-rest-api-specs' NetworkInterfaceListAll.json and VirtualNetworkGet*.json
# examples (Microsoft.Network, 2024-05-01): references to other resources are {"id": ...} objects.


def nic_to_arm(scenario: Scenario, vm: VirtualMachine, index: int) -> dict[str, Any]:
    """Microsoft.Network/networkInterfaces JSON of ``vm.nics[index]`` (one IP configuration)."""
    nic = vm.nics[index]
    subnet = scenario.subnet_of(nic)
    properties: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "ipConfigurations": [
            {
                "name": "ipconfig1",
                "id": nic.ipconfig_id,
                "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateIPAddress": str(nic.ip),
                    "privateIPAllocationMethod": "Static",
                    "subnet": {"id": subnet.id},
                    "primary": True,
                    "privateIPAddressVersion": "IPv4",
                },
            }
        ],
        "dnsSettings": {"dnsServers": [], "appliedDnsServers": []},
        "enableAcceleratedNetworking": False,
        "enableIPForwarding": nic.ip_forwarding,
        "primary": index == 0,
        "virtualMachine": {"id": vm.id},
    }
    if nic.nsg:
        properties["networkSecurityGroup"] = {"id": scenario.nsgs[nic.nsg.lower()].id}
    return {
        "name": nic.name,
        "id": nic.id,
        "type": "Microsoft.Network/networkInterfaces",
        "location": vm.region,
        "properties": properties,
    }


def vnet_to_arm(scenario: Scenario, vnet: VirtualNetwork) -> dict[str, Any]:
    """Microsoft.Network/virtualNetworks JSON with its subnets, their NSG, route table and the IP
    configurations (NICs, the gateway) placed in each."""
    subnets = []
    for subnet in vnet.subnets.values():
        ip_configurations = [
            {"id": nic.ipconfig_id}
            for nic in scenario.all_nics()
            if same(nic.vnet, vnet.name) and same(nic.subnet, subnet.name)
        ]
        if vnet.gateway is not None and vnet.gateway.address in subnet.prefix:
            ip_configurations.append({"id": f"{vnet.gateway.id}/ipConfigurations/default"})
        properties: dict[str, Any] = {"provisioningState": "Succeeded", "addressPrefix": str(subnet.prefix)}
        if subnet.nsg:
            properties["networkSecurityGroup"] = {"id": scenario.nsgs[subnet.nsg.lower()].id}
        if subnet.route_table:
            properties["routeTable"] = {"id": scenario.route_tables[subnet.route_table.lower()].id}
        if ip_configurations:
            properties["ipConfigurations"] = ip_configurations
        subnets.append(
            {
                "name": subnet.name,
                "id": subnet.id,
                "type": "Microsoft.Network/virtualNetworks/subnets",
                "properties": properties,
            }
        )
    return {
        "name": vnet.name,
        "id": vnet.id,
        "type": "Microsoft.Network/virtualNetworks",
        "location": vnet.region,
        "properties": {
            "provisioningState": "Succeeded",
            "addressSpace": {"addressPrefixes": [str(space) for space in vnet.address_space]},
            "dhcpOptions": {"dnsServers": []},
            "subnets": subnets,
            "virtualNetworkPeerings": [],
        },
    }


# --------------------------------------------------------------------------- loading


def read_scenario_data(source: str | Path) -> Any:
    """Parsed YAML/JSON of a bundled scenario name (``"seed"``) or of a file path."""
    text_source = str(source)
    if isinstance(source, Path) or Path(text_source).suffix.lower() in {".yaml", ".yml", ".json"}:
        file = Path(source)
    elif re.fullmatch(r"[A-Za-z0-9_.-]+", text_source) and ".." not in text_source:
        file = SCENARIO_DIR / f"{text_source}.yaml"
        if not file.is_file():
            bundled = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
            raise FileNotFoundError(f"no bundled scenario named {text_source!r} (bundled: {', '.join(bundled)})")
    else:
        raise ValueError(f"scenario {text_source!r} is neither a bundled name nor a .yaml/.json path")
    text = file.read_text(encoding="utf-8")
    try:
        if file.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{file}: not valid {file.suffix.lstrip('.').upper()}: {exc}") from None


# --------------------------------------------------------------------------- validation helpers


def _fail(path: str, message: str) -> NoReturn:
    raise ValueError(f"{path}: {message}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Fields:
    """A mapping being read, remembering its path; unknown keys are rejected up front."""

    def __init__(self, data: Any, path: str, allowed: Iterable[str]) -> None:
        if not isinstance(data, dict):
            _fail(path or "<root>", f"must be a mapping (got {type(data).__name__})")
        allowed_set = set(allowed)
        for key in data:
            if key not in allowed_set:
                _fail(_join(path, str(key)), f"unknown key (allowed: {', '.join(sorted(allowed_set))})")
        self.data: dict[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        return _join(self.path, key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, required: bool = True) -> Any:
        value = self.data.get(key)
        if value is None and required:
            _fail(self.at(key), "is required")
        return value

    def raw_or(self, key: str, default: Any) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    def name(self, key: str = "name") -> str:
        return _check_name(self.raw(key), self.at(key))

    def opt_str(self, key: str) -> str | None:
        value = self.raw(key, required=False)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            _fail(self.at(key), f"must be a non-empty string (got {value!r})")
        return value.strip()

    def items(self, key: str, required: bool = True, non_empty: bool = False) -> list[Any]:
        value = self.raw(key, required=required)
        if value is None:
            return []
        if not isinstance(value, list):
            _fail(self.at(key), f"must be a list (got {type(value).__name__})")
        if non_empty and not value:
            _fail(self.at(key), "must not be empty")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            _fail(self.at(key), f"must be true or false (got {value!r})")
        return value

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self.raw(key, required=default is None)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(self.at(key), f"must be an integer (got {value!r})")
        if not low <= value <= high:
            _fail(self.at(key), f"must be {low}..{high} (got {value})")
        return value

    def parsed(self, key: str, parse: Callable[[Any], T], required: bool = True) -> T | None:
        value = self.raw(key, required=required)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            _fail(self.at(key), str(exc))


def _check_name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(path, f"must be a non-empty string (got {value!r})")
    if value != value.strip() or re.search(r"[/\\?#%]", value) or len(value) > 80:
        _fail(path, f"{value!r} is not a valid ARM resource name")
    return value


def _item_path(base: str, index: int, item: Any, key: str = "name") -> str:
    """``base[name]`` when the item has a usable name, else ``base[index]``."""
    if isinstance(item, dict) and isinstance(item.get(key), str) and item[key].strip():
        return f"{base}[{item[key]}]"
    return f"{base}[{index}]"


def _choice(value: Any, options: Iterable[str], path: str) -> str:
    opts = tuple(options)
    if isinstance(value, str) and value.lower() in opts:
        return value.lower()
    _fail(path, f"must be one of {', '.join(opts)} (got {value!r})")


def _ip(value: Any) -> IPv4Address:
    if not isinstance(value, str):
        raise ValueError(f"must be an IPv4 address string (got {value!r})")
    try:
        return IPv4Address(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 address") from None


def _cidr(value: Any) -> IPv4Network:
    # Address spaces, subnets and routes take CIDR notation only (a bare IP is not one).
    if not isinstance(value, str) or "/" not in value:
        raise ValueError(f"must be an IPv4 CIDR string like '10.0.0.0/16' (got {value!r})")
    try:
        return IPv4Network(value.strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 CIDR ({exc})") from None


def _unique(seen: dict[str, str], key: str, path: str, what: str) -> None:
    if key.lower() in seen:
        _fail(path, f"duplicate {what} {key!r} (first at {seen[key.lower()]})")
    seen[key.lower()] = path


def _latency(data: Any, path: str) -> Latency | None:
    if data is None:
        return None
    f = _Fields(data, path, ("avg", "min", "max"))
    avg, low, high = (f.integer(k, 0, 60_000) for k in ("avg", "min", "max"))
    if not low <= avg <= high:
        _fail(path, f"must satisfy min <= avg <= max (got min={low}, avg={avg}, max={high})")
    return Latency(avg, low, high)


def _hostname(value: Any, path: str) -> str:
    if not isinstance(value, str):
        _fail(path, f"must be a host name string (got {value!r})")
    host = value.strip().lower().rstrip(".")
    label = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
    if not re.fullmatch(rf"{label}(\.{label})*", host):
        _fail(path, f"{value!r} is not a valid host name")
    return host


@dataclass
class _Placement:
    subscription: str
    resource_group: str
    region: str


class _Context:
    """Cross-resource state while parsing: subscriptions, defaults, name registries."""

    def __init__(self, subscriptions: dict[str, Subscription], defaults: dict[str, str]) -> None:
        self.subscriptions = subscriptions
        self.defaults = defaults

    def placement(self, f: _Fields) -> _Placement:
        sub_value = f.opt_str("subscription") or self.defaults.get("subscription")
        if sub_value is None and len(self.subscriptions) == 1:
            sub_value = next(iter(self.subscriptions.values())).id
        if sub_value is None:
            _fail(f.at("subscription"), "is required (no defaults.subscription)")
        sub = self.subscriptions.get(sub_value.lower())
        if sub is None:
            _fail(f.at("subscription"), f"{sub_value!r} is not declared in subscriptions")
        rg = f.opt_str("resourceGroup") or self.defaults.get("resourceGroup")
        if rg is None:
            _fail(f.at("resourceGroup"), "is required (no defaults.resourceGroup)")
        _check_name(rg, f.at("resourceGroup"))
        region_value = f.opt_str("region") or self.defaults.get("region")
        if region_value is None:
            _fail(f.at("region"), "is required (no defaults.region)")
        region = normalize_region(region_value)
        if region not in sub.regions:
            _fail(
                f.at("region"),
                f"{region_value!r} is not one of subscription {sub.id}'s regions ({', '.join(sub.regions)})",
            )
        return _Placement(sub.id, rg, region)


PLACEMENT_KEYS = ("subscription", "resourceGroup", "region")


# --------------------------------------------------------------------------- rules and routes


RULE_KEYS = (
    "name",
    "description",
    "priority",
    "direction",
    "access",
    "protocol",
    "sourceAddressPrefix",
    "sourceAddressPrefixes",
    "destinationAddressPrefix",
    "destinationAddressPrefixes",
    "sourcePortRange",
    "sourcePortRanges",
    "destinationPortRange",
    "destinationPortRanges",
)


def _one_or_many(f: _Fields, single: str, plural: str, parse: Callable[[Any], T], default: Any = None) -> tuple[T, ...]:
    """ARM's ``xPrefix``/``xPrefixes`` pairs: exactly one of the two must be given."""
    if f.has(single) and f.has(plural):
        _fail(f.at(plural), f"give either {single} or {plural}, not both")
    if f.has(plural):
        items = f.items(plural, non_empty=True)
        result = []
        for index, item in enumerate(items):
            try:
                result.append(parse(item))
            except ValueError as exc:
                _fail(f"{f.at(plural)}[{index}]", str(exc))
        return tuple(result)
    value = f.raw(single, required=default is None)
    if value is None:
        value = default
    try:
        return (parse(value),)
    except ValueError as exc:
        _fail(f.at(single), str(exc))


def parse_security_rule(data: Any, path: str) -> SecurityRule:
    """A user security rule in the scenario shape (ARM's securityRule properties, flattened).

    ``sourcePortRange`` defaults to ``'*'`` because it nearly always is; everything else that
    ARM requires is required here too.
    """
    f = _Fields(data, path, RULE_KEYS)
    f.opt_str("description")
    return SecurityRule(
        name=f.name(),
        priority=f.integer("priority", 100, 4096),
        direction=f.parsed("direction", parse_direction) or "",
        access=f.parsed("access", parse_access) or "",
        protocol=f.parsed("protocol", parse_protocol) or "",
        source_prefixes=_one_or_many(f, "sourceAddressPrefix", "sourceAddressPrefixes", parse_address_prefix),
        destination_prefixes=_one_or_many(
            f, "destinationAddressPrefix", "destinationAddressPrefixes", parse_address_prefix
        ),
        source_ports=_one_or_many(f, "sourcePortRange", "sourcePortRanges", parse_port_range, default="*"),
        destination_ports=_one_or_many(f, "destinationPortRange", "destinationPortRanges", parse_port_range),
    )


def _check_rule_clashes(existing: Iterable[SecurityRule], rule: SecurityRule, path: str) -> None:
    for other in existing:
        if same(other.name, rule.name):
            _fail(_join(path, "name"), f"duplicate security rule name {rule.name!r}")
        if other.direction == rule.direction and other.priority == rule.priority:
            # Azure rejects two rules with the same priority and direction in one NSG.
            _fail(
                _join(path, "priority"),
                f"{rule.direction} priority {rule.priority} is already used by {other.name!r}",
            )


def _parse_nsg(data: Any, path: str, ctx: _Context) -> NetworkSecurityGroup:
    f = _Fields(data, path, ("name", "securityRules", *PLACEMENT_KEYS))
    name = f.name()
    where = ctx.placement(f)
    rules: list[SecurityRule] = []
    for index, item in enumerate(f.items("securityRules", required=False)):
        rule_path = _item_path(f.at("securityRules"), index, item)
        rule = parse_security_rule(item, rule_path)
        _check_rule_clashes(rules, rule, rule_path)
        rules.append(rule)
    return NetworkSecurityGroup(name, where.subscription, where.resource_group, where.region, rules)


def _parse_route_table(data: Any, path: str, ctx: _Context) -> RouteTable:
    f = _Fields(data, path, ("name", "routes", *PLACEMENT_KEYS))
    name = f.name()
    where = ctx.placement(f)
    table = RouteTable(name, where.subscription, where.resource_group, where.region)
    names: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for index, item in enumerate(f.items("routes", required=False)):
        route_path = _item_path(f.at("routes"), index, item)
        r = _Fields(item, route_path, ("name", "addressPrefix", "nextHopType", "nextHopIpAddress"))
        route_name = r.name()
        _unique(names, route_name, r.at("name"), "route name")
        prefix = r.parsed("addressPrefix", _cidr)
        assert prefix is not None
        _unique(prefixes, str(prefix), r.at("addressPrefix"), "address prefix")
        hop_type = r.parsed("nextHopType", parse_next_hop_type) or ""
        hop_ip = r.parsed("nextHopIpAddress", _ip, required=hop_type == VIRTUAL_APPLIANCE)
        if hop_ip is not None and hop_type != VIRTUAL_APPLIANCE:
            # ARM only accepts a next hop address for VirtualAppliance routes.
            _fail(r.at("nextHopIpAddress"), "only allowed when nextHopType is VirtualAppliance")
        table.routes.append(Route(prefix, hop_type, hop_ip, SOURCE_USER, route_name, table.id))
    return table


# --------------------------------------------------------------------------- vnets, vms, internet


def _parse_vnet(
    data: Any,
    path: str,
    ctx: _Context,
    nsgs: dict[str, NetworkSecurityGroup],
    tables: dict[str, RouteTable],
) -> VirtualNetwork:
    f = _Fields(data, path, ("name", "addressSpace", "subnets", "gateway", *PLACEMENT_KEYS))
    name = f.name()
    where = ctx.placement(f)
    spaces: list[IPv4Network] = []
    for index, item in enumerate(f.items("addressSpace", non_empty=True)):
        item_path = f"{f.at('addressSpace')}[{index}]"
        try:
            space = _cidr(item)
        except ValueError as exc:
            _fail(item_path, str(exc))
        for other in spaces:
            if space.overlaps(other):
                _fail(item_path, f"{space} overlaps {other}")
        spaces.append(space)
    vnet = VirtualNetwork(name, where.subscription, where.resource_group, where.region, tuple(spaces))

    for index, item in enumerate(f.items("subnets", non_empty=True)):
        sub_path = _item_path(f.at("subnets"), index, item)
        s = _Fields(item, sub_path, ("name", "addressPrefix", "nsg", "routeTable"))
        sub_name = s.name()
        if sub_name.lower() in vnet.subnets:
            _fail(s.at("name"), f"duplicate subnet name {sub_name!r} in vnet {name!r}")
        prefix = s.parsed("addressPrefix", _cidr)
        assert prefix is not None
        if not any(prefix.subnet_of(space) for space in spaces):
            _fail(s.at("addressPrefix"), f"{prefix} is outside the vnet's addressSpace")
        for sibling in vnet.subnets.values():
            if prefix.overlaps(sibling.prefix):
                _fail(
                    s.at("addressPrefix"),
                    f"{prefix} overlaps subnet {sibling.name} ({sibling.prefix})",
                )
        nsg_name = _reference(s, "nsg", nsgs, "nsgs", where.region)
        table_name = _reference(s, "routeTable", tables, "routeTables", where.region)
        vnet.subnets[sub_name.lower()] = Subnet(
            sub_name, name, prefix, f"{vnet.id}/subnets/{sub_name}", nsg_name, table_name
        )

    if f.has("gateway"):
        g = _Fields(
            f.raw("gateway"),
            f.at("gateway"),
            ("name", "address", "onPremisesPrefixes", "latency", "lossPercent"),
        )
        gw_name = g.name()
        address = g.parsed("address", _ip)
        assert address is not None
        on_premises: list[IPv4Network] = []
        for index, item in enumerate(g.items("onPremisesPrefixes", required=False)):
            item_path = f"{g.at('onPremisesPrefixes')}[{index}]"
            try:
                prefix = _cidr(item)
            except ValueError as exc:
                _fail(item_path, str(exc))
            for other in (*spaces, *on_premises):
                if prefix.overlaps(other):
                    _fail(item_path, f"{prefix} overlaps {other}")
            on_premises.append(prefix)
        vnet.gateway = Gateway(
            gw_name,
            address,
            arm_id(
                where.subscription,
                where.resource_group,
                "Microsoft.Network",
                "virtualNetworkGateways",
                gw_name,
            ),
            tuple(on_premises),
            _latency(g.raw("latency", required=False), g.at("latency")),
            g.integer("lossPercent", 0, 100, default=0),
        )
    return vnet


def _reference(f: _Fields, key: str, pool: dict[str, Any], pool_name: str, region: str) -> str | None:
    """Resolve a by-name reference; Azure requires the referenced resource in the same region."""
    value = f.opt_str(key)
    if value is None:
        return None
    target = pool.get(value.lower())
    if target is None:
        _fail(f.at(key), f"{value!r} is not declared in {pool_name}")
    if target.region != region:
        _fail(f.at(key), f"{value!r} is in region {target.region}, not {region}")
    name: str = target.name
    return name


def _parse_vm(
    data: Any,
    path: str,
    ctx: _Context,
    vnets: dict[str, VirtualNetwork],
    nsgs: dict[str, NetworkSecurityGroup],
    nic_names: dict[str, str],
    ips: dict[tuple[str, IPv4Address], str],
) -> VirtualMachine:
    f = _Fields(
        data,
        path,
        (
            "name",
            "powerState",
            "agent",
            "osType",
            "extensions",
            "latency",
            "lossPercent",
            "nics",
            *PLACEMENT_KEYS,
        ),
    )
    name = f.name()
    where = ctx.placement(f)
    vm = VirtualMachine(name, where.subscription, where.resource_group, where.region, [])
    vm.power_state = _choice(f.raw_or("powerState", "running"), POWER_STATES, f.at("powerState"))
    vm.agent = _choice(f.raw_or("agent", "installed"), AGENT_STATES, f.at("agent"))
    os_type = f.raw_or("osType", "Linux")
    if not isinstance(os_type, str) or os_type.lower() not in OS_TYPES:
        _fail(f.at("osType"), f"must be Linux or Windows (got {os_type!r})")
    vm.os_type = OS_TYPES[os_type.lower()]
    extensions = []
    for index, ext in enumerate(f.items("extensions", required=False)):
        extensions.append(_check_name(ext, f"{f.at('extensions')}[{index}]"))
    vm.extensions = tuple(extensions)
    vm.latency = _latency(f.raw("latency", required=False), f.at("latency"))
    vm.loss_percent = f.integer("lossPercent", 0, 100, default=0)

    for index, item in enumerate(f.items("nics", non_empty=True)):
        nic_path = _item_path(f.at("nics"), index, item)
        n = _Fields(item, nic_path, ("name", "subnet", "privateIpAddress", "nsg", "ipForwarding"))
        nic_name = n.name()
        _unique(nic_names, nic_name, n.at("name"), "NIC name")
        subnet_ref = n.raw("subnet")
        if not isinstance(subnet_ref, str) or subnet_ref.count("/") != 1:
            _fail(n.at("subnet"), f"must be '<vnet>/<subnet>' (got {subnet_ref!r})")
        vnet_name, subnet_name = (part.strip() for part in subnet_ref.split("/"))
        vnet = vnets.get(vnet_name.lower())
        if vnet is None:
            _fail(n.at("subnet"), f"vnet {vnet_name!r} is not declared in vnets")
        subnet = vnet.subnets.get(subnet_name.lower())
        if subnet is None:
            _fail(n.at("subnet"), f"vnet {vnet.name!r} has no subnet {subnet_name!r}")
        if vnet.region != vm.region or not same(vnet.subscription, vm.subscription):
            # Azure only attaches a VM to a VNet of its own subscription and region.
            _fail(n.at("subnet"), f"vnet {vnet.name!r} is not in the VM's subscription and region")
        ip = n.parsed("privateIpAddress", _ip)
        assert ip is not None
        if ip not in subnet.prefix:
            _fail(n.at("privateIpAddress"), f"{ip} is outside subnet {subnet.name} ({subnet.prefix})")
        offset = int(ip) - int(subnet.prefix.network_address)
        if offset < 4 or ip == subnet.prefix.broadcast_address:
            # Azure reserves the first four addresses and the last one of every subnet.
            _fail(n.at("privateIpAddress"), f"{ip} is reserved by Azure in {subnet.prefix}")
        key = (vnet.name.lower(), ip)
        if key in ips:
            _fail(n.at("privateIpAddress"), f"{ip} is already used at {ips[key]}")
        ips[key] = n.at("privateIpAddress")
        vm.nics.append(
            Nic(
                nic_name,
                vm.name,
                vm.subscription,
                vm.resource_group,
                vnet.name,
                subnet.name,
                ip,
                _reference(n, "nsg", nsgs, "nsgs", vm.region),
                n.flag("ipForwarding", False),
            )
        )
    return vm


_NON_PUBLIC = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
    IPv4Network("100.64.0.0/10"),
    IPv4Network("127.0.0.0/8"),
    IPv4Network("0.0.0.0/8"),
)


def _parse_internet(data: Any, path: str, hosts: dict[str, str], ips: dict[str, str]) -> InternetEndpoint:
    f = _Fields(data, path, ("ip", "hosts", "latency", "lossPercent", "ports"))
    ip = f.parsed("ip", _ip)
    assert ip is not None
    if any(ip in net for net in _NON_PUBLIC):
        _fail(f.at("ip"), f"{ip} is not a public address")
    _unique(ips, str(ip), f.at("ip"), "internet ip")
    names = []
    for index, item in enumerate(f.items("hosts", required=False)):
        host_path = f"{f.at('hosts')}[{index}]"
        host = _hostname(item, host_path)
        _unique(hosts, host, host_path, "host name")
        names.append(host)
    ports: frozenset[int] | None = None
    if f.has("ports"):
        values = []
        for index, item in enumerate(f.items("ports", non_empty=True)):
            if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 65535:
                _fail(f"{f.at('ports')}[{index}]", f"must be a port 1..65535 (got {item!r})")
            values.append(item)
        ports = frozenset(values)
    return InternetEndpoint(
        ip,
        tuple(names),
        _latency(f.raw("latency", required=False), f.at("latency")),
        f.integer("lossPercent", 0, 100, default=0),
        ports,
    )


# --------------------------------------------------------------------------- the scenario


TOP_LEVEL_KEYS = (
    "status_vocabulary",
    "default_rule_names",
    "default_latency",
    "defaults",
    "subscriptions",
    "watchers",
    "vnets",
    "nsgs",
    "routeTables",
    "vms",
    "internet",
)


def _parse_settings(f: _Fields) -> tuple[str, dict[str, str], Latency]:
    vocabulary = _choice(f.raw_or("status_vocabulary", "docs"), STATUS_VOCABULARIES, f.at("status_vocabulary"))
    renames: dict[str, str] = {}
    r = _Fields(f.raw_or("default_rule_names", {}), f.at("default_rule_names"), DEFAULT_RULE_NAMES)
    seen: dict[str, str] = {}
    for canonical, new_name in r.data.items():
        _unique(seen, _check_name(new_name, r.at(canonical)), r.at(canonical), "default rule name")
        renames[canonical] = new_name
    latency = _latency(f.raw("default_latency", required=False), f.at("default_latency"))
    return vocabulary, renames, latency or Latency(*DEFAULT_LATENCY)


def _parse_subscriptions(f: _Fields) -> dict[str, Subscription]:
    subscriptions: dict[str, Subscription] = {}
    for index, item in enumerate(f.items("subscriptions", non_empty=True)):
        path = _item_path(f.at("subscriptions"), index, item, key="id")
        s = _Fields(item, path, ("id", "regions"))
        sub_id = _check_name(s.raw("id"), s.at("id"))
        if sub_id.lower() in subscriptions:
            _fail(s.at("id"), f"duplicate subscription {sub_id!r}")
        regions = []
        for r_index, region in enumerate(s.items("regions", non_empty=True)):
            if not isinstance(region, str) or not region.strip():
                _fail(f"{s.at('regions')}[{r_index}]", f"must be a region name (got {region!r})")
            regions.append(normalize_region(region))
        subscriptions[sub_id.lower()] = Subscription(sub_id, tuple(regions))
    return subscriptions


def _named(
    items: list[Any],
    base: str,
    parse: Callable[[Any, str], N],
    what: str,
) -> dict[str, N]:
    """Parse a list of named resources into a dict keyed by lower-case name, rejecting duplicates."""
    result: dict[str, N] = {}
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        path = _item_path(base, index, item)
        resource = parse(item, path)
        _unique(seen, resource.name, _join(path, "name"), what)
        result[resource.name.lower()] = resource
    return result


def parse_scenario(data: Any) -> Scenario:
    """Validate a scenario document and build the model; ValueError names the bad field."""
    f = _Fields(data, "", TOP_LEVEL_KEYS)
    vocabulary, renames, latency = _parse_settings(f)
    subscriptions = _parse_subscriptions(f)
    d = _Fields(f.raw_or("defaults", {}), "defaults", PLACEMENT_KEYS)
    defaults = {key: value for key in PLACEMENT_KEYS if (value := d.opt_str(key)) is not None}
    ctx = _Context(subscriptions, defaults)

    watchers: list[Watcher] = []
    watcher_keys: dict[str, str] = {}
    for index, item in enumerate(f.items("watchers", required=False)):
        path = _item_path("watchers", index, item)
        w = _Fields(item, path, ("name", *PLACEMENT_KEYS))
        name = w.name()
        where = ctx.placement(w)
        _unique(watcher_keys, f"{where.subscription}/{where.resource_group}/{name}", w.at("name"), "watcher")
        # Azure allows one Network Watcher per subscription and region.
        _unique(watcher_keys, f"{where.subscription}@{where.region}", w.at("region"), "watcher region")
        watchers.append(Watcher(where.subscription, where.resource_group, name, where.region))

    nsgs = _named(f.items("nsgs", required=False), "nsgs", lambda i, p: _parse_nsg(i, p, ctx), "NSG name")
    tables = _named(
        f.items("routeTables", required=False),
        "routeTables",
        lambda i, p: _parse_route_table(i, p, ctx),
        "route table name",
    )
    vnets = _named(
        f.items("vnets", non_empty=True),
        "vnets",
        lambda i, p: _parse_vnet(i, p, ctx, nsgs, tables),
        "vnet name",
    )
    nic_names: dict[str, str] = {}
    ips: dict[tuple[str, IPv4Address], str] = {}
    vms = _named(
        f.items("vms", required=False),
        "vms",
        lambda i, p: _parse_vm(i, p, ctx, vnets, nsgs, nic_names, ips),
        "VM name",
    )
    hosts: dict[str, str] = {}
    internet_ips: dict[str, str] = {}
    internet = [
        _parse_internet(item, _item_path("internet", index, item, key="ip"), hosts, internet_ips)
        for index, item in enumerate(f.items("internet", required=False))
    ]
    return Scenario(vocabulary, renames, latency, subscriptions, watchers, vnets, nsgs, tables, vms, internet)
