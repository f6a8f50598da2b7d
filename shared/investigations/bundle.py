"""From an alert to the checks that explain it: which stored targets it involves, and their bundle.

Matching uses only what is already known: the stored target list, and the topology inventory
(``shared/topology.py``, refreshed off the request path) that links a VM to its NICs, NSGs,
subnets, route tables and addresses. ARM is never called here.

A bundle, per matched target (all with trigger ``alert``, the alert id as correlation id, and
priority ``high``):

- the target's own check, by name;
- for a connectivity target, the checks that explain a failure, as inline targets built from the
  stored target and the inventory (never from the payload): IP flow verify outbound on the source
  NIC and inbound on the destination NIC, where the NIC and both addresses are known, and the next
  hop from the source.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.investigations.payload import AlertTrigger, DirectRequest
from shared.messages import VERSION
from shared.target_list import TargetList
from shared.targets import Connectivity, NextHop, Target
from shared.topology import Endpoints, Topology, endpoints, involved

MAX_TARGETS = 20  # per investigation: the webhook answers within a second, and the rest is noise


@dataclass(frozen=True)
class PlannedCheck:
    check_id: str
    target: str  # the stored target this check is about
    role: str  # target | ipflow-out | ipflow-in | next-hop
    kind: str
    message: dict[str, Any]  # the request, contract version 1


def investigation_id(trigger: AlertTrigger | DirectRequest) -> str:
    """Stable per (alert id, monitor condition), so an action group's retries find the same one;
    per requestId for the simple form (a new one each time without it)."""
    if isinstance(trigger, AlertTrigger):
        key = f"alert|{trigger.alert_id.lower()}|{trigger.monitor_condition}"
    elif trigger.request_id is not None:
        key = f"request|{trigger.request_id}"
    else:
        key = f"request|{uuid.uuid4()}"
    return "inv-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _name_of(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1].lower()


_NAMED_KINDS = ("/providers/microsoft.compute/virtualmachines/", "/providers/microsoft.network/networkinterfaces/")


def matches(target: Target, topology: Topology | None, ids: Collection[str], names: Collection[str],
            crossed: Collection[str] = ()) -> bool:
    """Does the target involve one of ``ids`` (lower-cased ARM ids), or a VM or NIC named in ``names``
    (configuration items: lower-cased computer or resource names)? ``crossed``: the NICs its latest
    connectivity result went through (a transit appliance's NIC, and with the inventory its NSG
    and subnet, count too)."""
    resources = set(involved(target, topology))
    for nic in crossed:
        resources |= topology.related(nic) if topology is not None else {nic.lower()}
    if not resources.isdisjoint(ids):
        return True
    return bool(names) and any(_name_of(r) in names for r in resources if any(k in r for k in _NAMED_KINDS))


def match(trigger: AlertTrigger | DirectRequest, target_list: TargetList, topology: Topology | None,
          paths: Mapping[str, Collection[str]] | None = None) -> tuple[list[Target], list[str]]:
    """The stored targets to investigate, in list order, and the names asked for but not stored."""
    if isinstance(trigger, DirectRequest) and trigger.targets:
        found = [t for name in trigger.targets if (t := target_list.by_name(name)) is not None]
        return found, [n for n in trigger.targets if target_list.by_name(n) is None]
    if isinstance(trigger, AlertTrigger):
        ids = {i.lower() for i in trigger.target_ids}
        names = {n.lower() for n in trigger.configuration_items}
    else:
        ids, names = {str(trigger.resource_id).lower()}, set()
    crossed = paths or {}
    return [t for t in target_list.targets if matches(t, topology, ids, names, crossed.get(t.name.lower(), ()))], []


def _port(spec: Connectivity) -> int | None:
    if spec.port:
        return spec.port
    scheme = urlsplit(spec.destination_address or "").scheme.lower()
    return {"https": 443, "http": 80}.get(scheme)


def _expected_next_hop(ends: Endpoints, topology: Topology | None) -> str:
    """What a next hop "should" be, for the row's Healthy column only: the summary blames a route
    when the next hop is None (dropped), whatever was expected."""
    if ends.destination_nic is not None and ends.source_nic is not None and topology is not None:
        source, destination = (topology.subnet(n.subnet or "") for n in (ends.source_nic, ends.destination_nic))
        same = source is not None and destination is not None and source.vnet.lower() == destination.vnet.lower()
        return "VnetLocal" if same else "VnetPeering"
    if ends.destination_ip is not None and ipaddress.ip_address(ends.destination_ip).is_global:
        return "Internet"
    return "VnetLocal"


def _diagnostics(target: Target, topology: Topology | None,
                 next_hops: dict[tuple[str, str], Target]) -> list[tuple[str, dict[str, Any]]]:
    spec = target.spec
    if not isinstance(spec, Connectivity):
        return []
    ends = endpoints(target, topology)
    port = _port(spec)
    source_ip, destination_ip = ends.source_ip, ends.destination_ip
    if source_ip is None or destination_ip is None:
        return []
    expect_flow = "Allow" if target.expect == "Reachable" else "Deny"
    base = target.name[:64]
    checks: list[tuple[str, dict[str, Any]]] = []
    watcher = {"watcher": target.watcher.resource_id} if target.watcher is not None else {}
    nic = {"nic": ends.source_nic.id} if ends.source_nic is not None else {}
    if port is not None and (spec.protocol or "Tcp").lower() != "icmp":
        checks.append(("ipflow-out", {
            "name": f"{base}.flow-out", "kind": "ipFlow", "vm": target.source_vm, **nic, **watcher,
            "direction": "Outbound", "protocol": "TCP", "local": {"ip": source_ip, "port": "*"},
            "remote": {"ip": destination_ip, "port": port}, "expect": expect_flow}))
        destination_nic = ends.destination_nic
        if destination_nic is not None and destination_nic.vm is not None:
            checks.append(("ipflow-in", {
                "name": f"{base}.flow-in", "kind": "ipFlow", "vm": destination_nic.vm, "nic": destination_nic.id,
                "direction": "Inbound", "protocol": "TCP", "local": {"ip": destination_ip, "port": port},
                "remote": {"ip": source_ip, "port": "*"}, "expect": expect_flow}))
    stored = next_hops.get((target.source_vm.lower(), destination_ip))
    if stored is None:  # a stored nextHop target of the same path says it better, with its own expectation
        checks.append(("next-hop", {
            "name": f"{base}.next-hop", "kind": "nextHop", "vm": target.source_vm, **nic, **watcher,
            "sourceIp": source_ip, "destinationIp": destination_ip, "expect": _expected_next_hop(ends, topology)}))
    return checks


def plan(investigation: str, targets: Sequence[Target], topology: Topology | None, *, correlation_id: str,
         allowed_subscriptions: frozenset[str] | None = None) -> list[PlannedCheck]:
    """The bundle's checks, with stable ids (``<investigation>-NN``): a retried webhook call plans the
    same ids, and the pipeline drops a check id it has already claimed. A stored nextHop target in
    the bundle replaces the next hop a connectivity target would add for the same path."""
    next_hops = {(t.source_vm.lower(), t.spec.destination_ip): t for t in targets if isinstance(t.spec, NextHop)}
    common = {"version": VERSION, "trigger": "alert", "correlationId": correlation_id, "priority": "high"}
    planned: list[PlannedCheck] = []

    def add(target: Target, role: str, kind: str, what: dict[str, Any]) -> None:
        check_id = f"{investigation}-{len(planned):02d}"
        planned.append(PlannedCheck(check_id, target.name, role, kind, {**common, **what, "checkId": check_id}))

    for target in targets:
        add(target, "target", target.kind, {"target": target.name})
        for role, inline in _diagnostics(target, topology, next_hops):
            subscription = str(inline["vm"]).split("/")[2].lower()
            if allowed_subscriptions is not None and subscription not in allowed_subscriptions:
                continue  # the pipeline would refuse it: inline checks only run in allowed subscriptions
            add(target, role, str(inline["kind"]), {"inline": inline})
    return planned
