"""The topology inventory: which NICs, subnets, NSGs, route tables and VNets each VM sits on.

An alert-triggered investigation must find, without calling ARM on the request path, the stored
targets that involve an alerted resource (a VM, NIC, NSG, subnet, route table or VNet), and the
NICs and addresses of each target's two ends. A timer refreshes this inventory off the request
path with two ARM list calls per subscription (every NIC, every VNet with its subnets; both paged
with ``nextLink``) and stores it as one JSON blob, which the webhook reads with ETag caching.

    refresh(arm, subscriptions, store)  the timer: collect, then save; a subscription whose listing
                                        failed keeps its last known inventory
    TopologyStore.load()                the webhook: the inventory, or None before the first refresh
    involved(target, topology)          every lower-cased ARM id the target involves
    endpoints(target, topology)         the NICs and addresses of the target's source and destination

ARM ids are case-insensitive: every lookup and every id that ``related``/``involved`` return is
lower-cased, while the inventory keeps ARM's spelling for display and for requests.

Exceptions::

    TopologyError (ValueError)   a stored blob that is not a valid inventory; the message names the field
    shared.arm.ArmError          from collect/refresh when no subscription at all could be listed
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NoReturn
from urllib.parse import urlsplit

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings

from shared.arm import ArmClient, ArmError
from shared.storage import container_client, download_if_changed
from shared.targets import Connectivity, IpFlow, NextHop, Target

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CONNECTION = "NwcheckStorage"
BLOB_NAME = "topology.json"
DEFAULT_CONTAINER = "nwcheck-state"
NIC_LIST = "/subscriptions/{subscription}/providers/Microsoft.Network/networkInterfaces"
VNET_LIST = "/subscriptions/{subscription}/providers/Microsoft.Network/virtualNetworks"
MAX_PROBLEMS = 100  # reasons kept in the blob; the log has them all
_SUBSCRIPTION = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RESOURCE_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/[^/]+/[^/]+(/[^/]+/[^/]+)*$",
                          re.IGNORECASE)


class TopologyError(ValueError):
    """A stored inventory that cannot be used; the message names the bad field."""


class _Invalid(ValueError):
    """An ARM object collect cannot use; the message names the bad field. It is skipped."""


def _key(resource_id: str) -> str:
    return resource_id.strip().rstrip("/").lower()


# --------------------------------------------------------------------------- the inventory


@dataclass(frozen=True)
class NicInfo:
    id: str
    vm: str | None  # the VM it is attached to
    subnet: str | None  # the subnet of its primary IP configuration
    nsg: str | None  # the NSG on the NIC itself (the subnet's is on SubnetInfo)
    private_ips: tuple[str, ...]  # the primary IP configuration's first
    primary: bool = False  # the VM's primary NIC


@dataclass(frozen=True)
class SubnetInfo:
    id: str
    vnet: str
    nsg: str | None
    route_table: str | None
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Endpoints:
    """A target's two ends as far as the inventory knows them. The source is the VM the check runs
    from (connectivity) or on (ipFlow: the local side; nextHop); the destination is the connectivity
    destination, the ipFlow remote address or the nextHop destination address."""

    source_nic: NicInfo | None
    source_ip: str | None
    destination_nic: NicInfo | None
    destination_ip: str | None


@dataclass(frozen=True)
class Topology:
    nics: Mapping[str, NicInfo]  # keyed by lower-cased id
    subnets: Mapping[str, SubnetInfo]  # keyed by lower-cased id
    refreshed: str  # ISO 8601 UTC time of the refresh
    subscriptions: tuple[str, ...]
    problems: tuple[str, ...] = ()  # objects skipped, subscriptions not listed (at most MAX_PROBLEMS)

    @classmethod
    def of(cls, nics: Iterable[NicInfo], subnets: Iterable[SubnetInfo], *, refreshed: str,
           subscriptions: Iterable[str], problems: Iterable[str] = ()) -> Topology:
        """An inventory from its parts, keyed by lower-cased id (a later duplicate wins)."""
        return cls({_key(n.id): n for n in nics}, {_key(s.id): s for s in subnets}, refreshed,
                   tuple(subscriptions), tuple(problems)[:MAX_PROBLEMS])

    # ---- lookups -------------------------------------------------------------------------------
    @cached_property
    def _by_vm(self) -> dict[str, tuple[NicInfo, ...]]:
        grouped: dict[str, list[NicInfo]] = {}
        for nic in self.nics.values():
            if nic.vm is not None:
                grouped.setdefault(_key(nic.vm), []).append(nic)
        return {vm: tuple(sorted(nics, key=lambda n: not n.primary)) for vm, nics in grouped.items()}

    @cached_property
    def _by_ip(self) -> dict[str, tuple[NicInfo, ...]]:
        found: dict[str, list[NicInfo]] = {}
        for nic in self.nics.values():
            for ip in nic.private_ips:
                found.setdefault(ip, []).append(nic)
        return {ip: tuple(nics) for ip, nics in found.items()}

    def nic(self, nic_id: str) -> NicInfo | None:
        return self.nics.get(_key(nic_id))

    def subnet(self, subnet_id: str) -> SubnetInfo | None:
        return self.subnets.get(_key(subnet_id))

    def nics_of_vm(self, vm_id: str) -> tuple[NicInfo, ...]:
        """The VM's NICs, its primary NIC first; () for a VM the inventory does not know."""
        return self._by_vm.get(_key(vm_id), ())

    def vnet_of(self, nic: NicInfo) -> str | None:
        """The id of the VNet the NIC's subnet belongs to."""
        if nic.subnet is None:
            return None
        subnet = self.subnet(nic.subnet)
        return subnet.vnet if subnet is not None else _parent_vnet(nic.subnet)

    def nic_by_ip(self, ip: str, *, vnet: str | None = None) -> NicInfo | None:
        """The NIC holding private address ``ip``; None if unknown, or if several NICs hold it (private
        addresses repeat across VNets) and ``vnet`` (the VNet the address is seen from) does not settle it."""
        address = _as_ip(ip)
        candidates = self._by_ip.get(address, ()) if address is not None else ()
        if vnet is not None and len(candidates) > 1:
            candidates = tuple(n for n in candidates if (self.vnet_of(n) or "").lower() == _key(vnet))
        return candidates[0] if len(candidates) == 1 else None

    def _nic_path(self, nic: NicInfo) -> set[str]:
        ids = {nic.id, nic.vm, nic.nsg, nic.subnet}
        if nic.subnet is not None:
            subnet = self.subnet(nic.subnet)
            if subnet is not None:
                ids |= {subnet.nsg, subnet.route_table, subnet.vnet}
            else:
                ids.add(_parent_vnet(nic.subnet))
        return {_key(i) for i in ids if i}

    def related(self, resource_id: str) -> frozenset[str]:
        """The lower-cased ids on the path of an endpoint: for a VM its own id, its NICs, their NSGs,
        subnets, the subnets' NSGs and route tables, and VNets; for a NIC the same from the NIC (and its
        VM); for anything else (or an id the inventory does not know) just the id itself."""
        key = _key(resource_id)
        ids = {key}
        for vm_nic in self.nics_of_vm(key):
            ids |= self._nic_path(vm_nic)
        nic = self.nics.get(key)
        if nic is not None:
            ids |= self._nic_path(nic)
        return frozenset(ids)

    # ---- the blob ------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({
            "version": FORMAT_VERSION,
            "refreshed": self.refreshed,
            "subscriptions": list(self.subscriptions),
            "problems": list(self.problems),
            "nics": [{"id": n.id, "vm": n.vm, "subnet": n.subnet, "nsg": n.nsg, "privateIps": list(n.private_ips),
                      "primary": n.primary} for n in self.nics.values()],
            "subnets": [{"id": s.id, "vnet": s.vnet, "nsg": s.nsg, "routeTable": s.route_table,
                         "prefixes": list(s.prefixes)} for s in self.subnets.values()],
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str | bytes, source: str = "topology") -> Topology:
        """Parse a stored inventory strictly; TopologyError names the source and the bad field."""
        try:
            return _read_blob(data)
        except TopologyError as exc:
            raise TopologyError(f"{source}: {exc}") from None


# --------------------------------------------------------------------------- reading JSON


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class _Obj:
    """A JSON object being read, remembering its path; problems raise ``error`` naming the field."""

    def __init__(self, data: Any, path: str, error: type[ValueError]) -> None:
        if not isinstance(data, dict):
            raise error(f"{path or '<root>'}: must be an object (got {_kind(data)})")
        self.data: dict[str, Any] = data
        self.path = path
        self.error = error

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> NoReturn:
        raise self.error(f"{self.at(key)}: {message}")

    def only(self, *allowed: str) -> None:
        for key in self.data:
            if key not in allowed:
                self.fail(str(key), f"unknown field (allowed: {', '.join(allowed)})")

    def opt_string(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string (got {_kind(value)} {str(value)[:80]!r})")
        return value

    def string(self, key: str) -> str:
        value = self.opt_string(key)
        if value is None:
            self.fail(key, "is required")
        return value

    def resource_id(self, key: str, required: bool = False) -> str | None:
        value = self.string(key) if required else self.opt_string(key)
        if value is not None and not _RESOURCE_ID.match(value.strip()):
            self.fail(key, f"is not an ARM resource id: {value[:200]!r}")
        return value.strip() if value is not None else None

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false (got {_kind(value)})")
        return value

    def obj(self, key: str, required: bool = True) -> _Obj | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return None
        return _Obj(value, self.at(key), self.error)

    def items(self, key: str, required: bool = False) -> list[tuple[str, Any]]:
        """(path, item) of a list field; [] when absent and not required."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be a list (got {_kind(value)})")
        return [(f"{self.at(key)}[{index}]", item) for index, item in enumerate(value)]

    def ref(self, key: str) -> str | None:
        """The id of a reference ``{"id": ...}``; None when absent."""
        reference = self.obj(key, required=False)
        return reference.resource_id("id", required=True) if reference is not None else None


def _ip(value: Any, path: str, error: type[ValueError]) -> str:
    address = _as_ip(value) if isinstance(value, str) else None
    if address is None:
        raise error(f"{path}: must be an IP address string (got {_kind(value)} {str(value)[:80]!r})")
    return address


def _prefix(value: Any, path: str, error: type[ValueError]) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise error(f"{path}: must be an address prefix such as '10.1.0.0/24' (got {_kind(value)} "
                    f"{str(value)[:80]!r})") from None


def _as_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _parent_vnet(subnet_id: str) -> str:
    return re.split(r"/subnets/", subnet_id, maxsplit=1, flags=re.IGNORECASE)[0]


def _subscription_of(resource_id: str) -> str:
    parts = resource_id.strip().split("/")
    return parts[2].lower() if len(parts) > 2 else ""


def _strings(obj: _Obj, key: str, parse: Callable[[Any, str, type[ValueError]], str]) -> tuple[str, ...]:
    return tuple(parse(item, path, obj.error) for path, item in obj.items(key, required=True))


def _read_blob(data: str | bytes) -> Topology:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TopologyError(f"not JSON: {exc}") from None
    root = _Obj(document, "", TopologyError)
    root.only("version", "refreshed", "subscriptions", "problems", "nics", "subnets")
    version = root.data.get("version")
    if version != FORMAT_VERSION:
        root.fail("version", f"must be {FORMAT_VERSION} (got {version!r})")
    refreshed = root.string("refreshed")
    try:
        when = dt.datetime.fromisoformat(refreshed)
    except ValueError:
        root.fail("refreshed", f"is not an ISO 8601 time: {refreshed[:80]!r}")
    if when.tzinfo is None:
        root.fail("refreshed", f"has no UTC offset: {refreshed!r}")
    subscriptions = []
    for path, item in root.items("subscriptions", required=True):
        if not isinstance(item, str) or not _SUBSCRIPTION.match(item):
            raise TopologyError(f"{path}: must be a subscription id (got {_kind(item)} {str(item)[:80]!r})")
        subscriptions.append(item)
    problems = []
    for path, item in root.items("problems", required=True):
        if not isinstance(item, str):
            raise TopologyError(f"{path}: must be a string (got {_kind(item)})")
        problems.append(item)
    seen: set[str] = set()

    def unique(resource_id: str, path: str) -> None:
        if _key(resource_id) in seen:
            raise TopologyError(f"{path}.id: duplicate id {resource_id!r}")
        seen.add(_key(resource_id))

    nics = []
    for path, item in root.items("nics", required=True):
        n = _Obj(item, path, TopologyError)
        n.only("id", "vm", "subnet", "nsg", "privateIps", "primary")
        nic_id = n.resource_id("id", required=True)
        assert nic_id is not None
        unique(nic_id, path)
        if "primary" not in n.data:
            n.fail("primary", "is required")
        nics.append(NicInfo(nic_id, n.resource_id("vm"), n.resource_id("subnet"), n.resource_id("nsg"),
                            _strings(n, "privateIps", _ip), n.boolean("primary", False)))
    subnets = []
    for path, item in root.items("subnets", required=True):
        s = _Obj(item, path, TopologyError)
        s.only("id", "vnet", "nsg", "routeTable", "prefixes")
        subnet_id = s.resource_id("id", required=True)
        vnet = s.resource_id("vnet", required=True)
        assert subnet_id is not None and vnet is not None
        unique(subnet_id, path)
        subnets.append(SubnetInfo(subnet_id, vnet, s.resource_id("nsg"), s.resource_id("routeTable"),
                                  _strings(s, "prefixes", _prefix)))
    return Topology.of(nics, subnets, refreshed=refreshed, subscriptions=subscriptions, problems=problems)


# --------------------------------------------------------------------------- ARM objects


def _arm_nic(item: Any, path: str) -> NicInfo:
    """A NicInfo from Microsoft.Network/networkInterfaces JSON; _Invalid names a missing or ill-typed field."""
    nic = _Obj(item, path, _Invalid)
    nic_id = nic.resource_id("id", required=True)
    assert nic_id is not None
    nic.path = f"{path}({nic_id.rsplit('/', 1)[-1]})"
    properties = nic.obj("properties")
    assert properties is not None
    configs = properties.items("ipConfigurations", required=True)
    if not configs:
        properties.fail("ipConfigurations", "is empty")
    ips: list[tuple[bool, str]] = []
    subnets: list[tuple[bool, str]] = []
    for config_path, config in configs:
        c = _Obj(config, config_path, _Invalid)
        c_properties = c.obj("properties")
        assert c_properties is not None
        primary = c_properties.boolean("primary", len(configs) == 1)
        address = c_properties.data.get("privateIPAddress")
        if address is not None:
            ips.append((primary, _ip(address, c_properties.at("privateIPAddress"), _Invalid)))
        subnet = c_properties.ref("subnet")
        if subnet is not None:
            subnets.append((primary, subnet))
    ordered = [ip for _, ip in sorted(ips, key=lambda pair: not pair[0])]
    subnet_id = next((s for primary, s in subnets if primary), subnets[0][1] if subnets else None)
    return NicInfo(nic_id, properties.ref("virtualMachine"), subnet_id, properties.ref("networkSecurityGroup"),
                   tuple(dict.fromkeys(ordered)), properties.boolean("primary", False))


def _arm_subnets(item: Any, path: str, problem: Callable[[str], None]) -> list[SubnetInfo]:
    """The subnets of Microsoft.Network/virtualNetworks JSON; a bad subnet is reported and skipped,
    a VNet without an id or properties raises _Invalid."""
    vnet = _Obj(item, path, _Invalid)
    vnet_id = vnet.resource_id("id", required=True)
    assert vnet_id is not None
    vnet.path = f"{path}({vnet_id.rsplit('/', 1)[-1]})"
    properties = vnet.obj("properties")
    assert properties is not None
    subnets = []
    for subnet_path, raw in properties.items("subnets"):
        try:
            s = _Obj(raw, subnet_path, _Invalid)
            subnet_id = s.resource_id("id", required=True)
            assert subnet_id is not None
            s_properties = s.obj("properties")
            assert s_properties is not None
            if s_properties.data.get("addressPrefixes") is not None:
                prefixes = _strings(s_properties, "addressPrefixes", _prefix)
            elif s_properties.data.get("addressPrefix") is not None:
                prefixes = (_prefix(s_properties.data["addressPrefix"], s_properties.at("addressPrefix"), _Invalid),)
            else:
                prefixes = ()
            subnets.append(SubnetInfo(subnet_id, vnet_id, s_properties.ref("networkSecurityGroup"),
                                      s_properties.ref("routeTable"), prefixes))
        except _Invalid as exc:
            problem(f"subnet skipped: {exc}")
    return subnets


# --------------------------------------------------------------------------- collecting


def _subscriptions(subscriptions: Iterable[str]) -> list[str]:
    unique: dict[str, str] = {}
    for subscription in subscriptions:
        if not isinstance(subscription, str) or not _SUBSCRIPTION.match(subscription):
            raise ValueError(f"not a subscription id: {subscription!r}")
        unique.setdefault(subscription.lower(), subscription)
    return list(unique.values())


def collect(arm: ArmClient, subscriptions: Iterable[str], *, previous: Topology | None = None,
            now: dt.datetime | None = None) -> Topology:
    """The inventory of ``subscriptions``: two ARM list calls each (NICs, VNets with their subnets),
    every page's nextLink checked before it gets the token.

    An ARM object that lacks a field or has one of the wrong type is skipped with a logged reason
    (kept in ``problems``). A subscription that cannot be listed (403, throttled, ARM down) keeps
    what ``previous`` knew of it; if no subscription could be listed the first ArmError is raised,
    so that a stored inventory is never replaced by an empty one."""
    wanted = _subscriptions(subscriptions)
    nics: list[NicInfo] = []
    subnets: list[SubnetInfo] = []
    problems: list[str] = []
    failures: list[ArmError] = []

    def problem(reason: str) -> None:
        log.warning("topology: %s", reason)
        problems.append(reason)

    for subscription in wanted:
        try:
            raw_nics = arm.list_all(NIC_LIST.format(subscription=subscription), arm.api_version)
            raw_vnets = arm.list_all(VNET_LIST.format(subscription=subscription), arm.api_version)
        except ArmError as exc:
            failures.append(exc)
            kept = ""
            if previous is not None:
                nics += [n for n in previous.nics.values() if _subscription_of(n.id) == subscription.lower()]
                subnets += [s for s in previous.subnets.values() if _subscription_of(s.id) == subscription.lower()]
                kept = f"; kept its inventory of {previous.refreshed}"
            log.error("topology: subscription %s could not be listed: %s%s", subscription, exc, kept)
            problems.append(f"subscription {subscription} not listed: {exc.code}: {exc.message[:300]}{kept}")
            continue
        for index, item in enumerate(raw_nics):
            try:
                nics.append(_arm_nic(item, f"networkInterfaces[{index}]"))
            except _Invalid as exc:
                problem(f"NIC skipped: {exc}")
        for index, item in enumerate(raw_vnets):
            try:
                subnets += _arm_subnets(item, f"virtualNetworks[{index}]", problem)
            except _Invalid as exc:
                problem(f"VNet skipped: {exc}")
    if wanted and len(failures) == len(wanted):
        raise failures[0]
    refreshed = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
    return Topology.of(nics, subnets, refreshed=refreshed, subscriptions=wanted, problems=problems)


# --------------------------------------------------------------------------- targets


def _address_ip(address: str | None) -> str | None:
    """The IP of a connectivity destination address given as an IP or as a URL on an IP."""
    if not address:
        return None
    direct = _as_ip(address)
    if direct is not None:
        return direct
    try:
        host = urlsplit(address).hostname if "://" in address else None
    except ValueError:
        return None
    return _as_ip(host) if host else None


def _vm_nic(topology: Topology, vm_id: str, ip: str | None) -> NicInfo | None:
    """The VM's NIC holding ``ip``, else its primary NIC."""
    nics = topology.nics_of_vm(vm_id)
    holding = [n for n in nics if ip is not None and ip in n.private_ips]
    return holding[0] if holding else (nics[0] if nics else None)


def _first_ip(nic: NicInfo | None) -> str | None:
    return nic.private_ips[0] if nic is not None and nic.private_ips else None


def endpoints(target: Target, topology: Topology | None) -> Endpoints:
    """The NICs and addresses of the target's source and destination, for an investigation's IP flow
    verify (out of the source NIC, into the destination NIC) and next hop (from the source). A field
    is None where neither the target nor the inventory says."""
    spec = target.spec
    local_ip = _as_ip(spec.local_ip) if isinstance(spec, IpFlow) else (
        _as_ip(spec.source_ip) if isinstance(spec, NextHop) else None)
    if isinstance(spec, IpFlow):
        remote_ip = _as_ip(spec.remote_ip)
    elif isinstance(spec, NextHop):
        remote_ip = _as_ip(spec.destination_ip)
    else:
        remote_ip = _address_ip(spec.destination_address)
    if topology is None:
        return Endpoints(None, local_ip, None, remote_ip)

    source_nic = None
    if not isinstance(spec, Connectivity) and spec.nic_resource_id:
        source_nic = topology.nic(spec.nic_resource_id)
    if source_nic is None:
        source_nic = _vm_nic(topology, target.source_vm, local_ip)
    source_ip = local_ip or _first_ip(source_nic)

    destination_nic = None
    if isinstance(spec, Connectivity) and spec.destination_resource_id:
        destination_nic = topology.nic(spec.destination_resource_id) or _vm_nic(
            topology, spec.destination_resource_id, None)
        remote_ip = remote_ip or _first_ip(destination_nic)
    elif remote_ip is not None:
        destination_nic = topology.nic_by_ip(
            remote_ip, vnet=topology.vnet_of(source_nic) if source_nic is not None else None)
    return Endpoints(source_nic, source_ip, destination_nic, remote_ip)


def involved(target: Target, topology: Topology | None) -> frozenset[str]:
    """Every lower-cased ARM id the target involves: its source VM, its NIC, its connectivity
    destination resource and its watcher as written, and with an inventory, everything on the path
    of both ends (``Topology.related``): NICs, NSGs, subnets, route tables, VNets. A destination
    given as an address (connectivity address, ipFlow remote, nextHop destination) that is a known
    NIC's private IP involves that NIC, its VM and its path too."""
    spec = target.spec
    named = [target.source_vm]
    if not isinstance(spec, Connectivity) and spec.nic_resource_id:
        named.append(spec.nic_resource_id)
    if isinstance(spec, Connectivity) and spec.destination_resource_id:
        named.append(spec.destination_resource_id)
    ids = {_key(i) for i in named}
    if target.watcher is not None:
        ids.add(_key(target.watcher.resource_id))
    if topology is None:
        return frozenset(ids)
    for resource_id in named:
        ids |= topology.related(resource_id)
    ends = endpoints(target, topology)
    for nic in (ends.source_nic, ends.destination_nic):
        if nic is not None:
            ids |= topology.related(nic.id)
    return frozenset(ids)


def target_subscriptions(targets: Iterable[Target]) -> tuple[str, ...]:
    """The subscriptions the targets' resources live in (sources, NICs, destinations), in order:
    the ones ``refresh`` must list."""
    found: dict[str, str] = {}
    for target in targets:
        spec = target.spec
        ids = [target.source_vm, getattr(spec, "nic_resource_id", None), getattr(spec, "destination_resource_id", None)]
        for resource_id in ids:
            subscription = resource_id.split("/")[2] if resource_id and resource_id.count("/") > 2 else ""
            if _SUBSCRIPTION.match(subscription):
                found.setdefault(subscription.lower(), subscription)
    return tuple(found.values())


# --------------------------------------------------------------------------- the store


@dataclass
class TopologyStore:
    """The inventory as one blob (``topology.json`` in ``STATE_CONTAINER``), parsed once per ETag."""

    container: ContainerClient
    blob_name: str = BLOB_NAME
    # (etag, parsed), swapped as one value: concurrent invocations of one worker share the store
    _cached: tuple[str, Topology] | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TopologyStore:
        """From the settings ``NwcheckStorage`` (or its identity-based form) and ``STATE_CONTAINER``."""
        env = os.environ if env is None else env
        return cls(container_client(CONNECTION, env.get("STATE_CONTAINER") or DEFAULT_CONTAINER, env))

    def load(self) -> Topology | None:
        """The stored inventory; None when none has been stored yet. Downloads only when the blob's
        ETag changed; a blob that is not a valid inventory raises TopologyError naming the field."""
        blob = self.container.get_blob_client(self.blob_name)
        cached = self._cached
        try:
            changed = download_if_changed(blob, cached[0] if cached is not None else None)
        except ResourceNotFoundError:
            self._cached = None
            return None
        if changed is None and cached is not None:
            return cached[1]
        assert changed is not None
        data, etag = changed
        topology = Topology.from_json(data, source=blob.url)
        self._cached = (etag, topology)
        return topology

    def save(self, topology: Topology) -> None:
        """Replace the stored inventory (creating the container the first time)."""
        blob = self.container.get_blob_client(self.blob_name)
        data = topology.to_json().encode()
        settings = ContentSettings(content_type="application/json")
        with self._lock:
            try:
                answer = blob.upload_blob(data, overwrite=True, content_settings=settings)
            except ResourceNotFoundError:
                try:
                    self.container.create_container()
                except ResourceExistsError:
                    pass
                answer = blob.upload_blob(data, overwrite=True, content_settings=settings)
            self._cached = (str(answer["etag"]), topology)


def refresh(arm: ArmClient, subscriptions: Iterable[str], store: TopologyStore) -> Topology:
    """The timer's job: list ``subscriptions`` afresh and store the inventory. A subscription whose
    listing fails keeps its previous inventory; if none can be listed, ArmError is raised and the
    stored blob is left as it was."""
    try:
        previous = store.load()
    except TopologyError as exc:
        log.error("topology: the stored inventory is unusable and will be replaced: %s", exc)
        previous = None
    topology = collect(arm, subscriptions, previous=previous)
    store.save(topology)
    log.info("topology: %d NICs, %d subnets in %d subscriptions; %d problems", len(topology.nics),
             len(topology.subnets), len(topology.subscriptions), len(topology.problems))
    return topology
