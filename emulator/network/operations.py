"""Network Watcher's connectivityCheck, ipFlowVerify and nextHop, computed from a scenario.

``Network`` is the public face: the HTTP layer calls its methods with the parsed JSON body
and turns an ``ArmError`` into an ARM error response.

Choices where Azure's behaviour is not confirmed by a primary source are marked
``UNCONFIRMED`` below; the error codes in particular are this emulator's own.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from ipaddress import AddressValueError, IPv4Address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from emulator.errors import ArmError

from .model import (
    Latency,
    Nic,
    Scenario,
    VirtualMachine,
    nic_to_arm,
    normalize_region,
    parse_arm_id,
    parse_scenario,
    read_scenario_data,
    same,
    vm_to_arm,
    vnet_to_arm,
)
from .nsg import ALL_PORTS, DENY, INBOUND, OUTBOUND, Flow, PortRange, SecurityRule, Verdict, evaluate_levels
from .routes import (
    INTERNET,
    NONE,
    VIRTUAL_APPLIANCE,
    VIRTUAL_NETWORK_GATEWAY,
    VNET_LOCAL,
    Route,
    lookup,
)

BAD_REQUEST = "InvalidRequestFormat"
NOT_FOUND = "NotFound"
# UNCONFIRMED codes (no primary source gives Azure's exact code for these cases):
WRONG_REGION = "TargetResourceNotInWatcherRegion"
VM_NOT_RUNNING = "VmNotRunning"
AGENT_NOT_INSTALLED = "NetworkWatcherAgentNotInstalled"

PROBES = 100  # the docs give 100 as the maximum number of probes per check
MAX_HOPS = 30  # a walk longer than this is a routing loop the visited-set missed
# Source port of a connectivity probe when the request gives none: any ephemeral port.
EPHEMERAL_PORTS: PortRange = (1024, 65535)
_HOP_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:nwcheck:emulator:connectivity-hop")

STATUS_WORDS = {
    "docs": {"ok": "Reachable", "down": "Unreachable", "degraded": "Degraded", "unknown": "Unknown"},
    "spec": {"ok": "Connected", "down": "Disconnected", "degraded": "Degraded", "unknown": "Unknown"},
}


# --------------------------------------------------------------------------- request bodies


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bad(field_name: str, problem: str) -> ArmError:
    return ArmError(400, BAD_REQUEST, f"{field_name}: {problem}")


class _Body:
    """A JSON object from the request. Property names match case-insensitively, as ARM's
    deserializer does (the ipFlowVerify walkthrough sends ``targetNICResourceId``)."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            kind = "null" if data is None else type(data).__name__
            raise _bad(path or "request body", f"must be a JSON object (got {kind})")
        self.data = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        if key in self.data:
            return self.data[key]
        for name, value in self.data.items():
            if isinstance(name, str) and name.lower() == key.lower():
                return value
        return None  # ARM treats an explicit null like an absent property

    def obj(self, key: str) -> _Body:
        value = self.get(key)
        if value is None:
            raise _bad(self.at(key), "is required")
        return _Body(value, self.at(key))

    def string(self, key: str, required: bool = True) -> str | None:
        value = self.get(key)
        if value is None:
            if required:
                raise _bad(self.at(key), "is required")
            return None
        if not isinstance(value, str):
            raise _bad(self.at(key), f"must be a string (got {_show(value)})")
        if not value.strip():
            raise _bad(self.at(key), "must not be empty")
        return value.strip()

    def req_string(self, key: str) -> str:
        value = self.string(key)
        assert value is not None
        return value

    def port(self, key: str) -> int:
        """An int32 port 0..65535; absent means 0. Digit strings are accepted because ARM's
        JSON deserializer converts them."""
        value = self.get(key)
        if value is None:
            return 0
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self.at(key), f"must be an integer port 0..65535 (got {_show(value)})")
        if not 0 <= value <= 65535:
            raise _bad(self.at(key), f"must be within 0..65535 (got {value})")
        return value

    def enum(self, key: str, options: tuple[str, ...], required: bool) -> str | None:
        value = self.get(key)
        if value is None:
            if required:
                raise _bad(self.at(key), f"is required (one of {', '.join(options)})")
            return None
        if isinstance(value, str):
            for option in options:
                if option.lower() == value.strip().lower():
                    return option
        raise _bad(self.at(key), f"must be one of {', '.join(options)} (got {_show(value)})")

    def ipv4(self, key: str) -> IPv4Address:
        text = self.req_string(key)
        try:
            return IPv4Address(text)
        except (AddressValueError, ValueError):
            raise _bad(self.at(key), f"{text!r} is not a valid IPv4 address") from None

    def resource_id(self, key: str, provider: str, kind: str, required: bool = True) -> str | None:
        text = self.string(key, required)
        if text is None:
            return None
        parsed = parse_arm_id(text)
        if parsed is None or not parsed.is_a(provider, kind):
            what = "virtual machine" if kind == "virtualMachines" else "network interface"
            raise _bad(self.at(key), f"{text!r} is not a {what} resource id")
        return text


def _flow_port(body: _Body, key: str, allow_star: bool, allow_range: bool) -> PortRange:
    """ipFlowVerify ports are strings: a port, ``*`` (source side only) or a remote range."""
    value = body.get(key)
    where = body.at(key)
    if value is None:
        raise _bad(where, "is required")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(where, f"must be a port string like '80' (got {_show(value)})")
    text = str(value).strip()
    if text == "*":
        if not allow_star:
            raise _bad(where, "'*' is only allowed for the source port of the flow")
        return ALL_PORTS
    match = re.fullmatch(r"(\d{1,5})(?:\s*-\s*(\d{1,5}))?", text)
    if match is None or (match.group(2) is not None and not allow_range):
        shape = "a port or a range like '80-120'" if allow_range else "a single port"
        raise _bad(where, f"must be {shape} (got {_show(value)})")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) is not None else low
    if high > 65535:
        raise _bad(where, f"ports must be within 0..65535 (got {_show(value)})")
    if low > high:
        raise _bad(where, f"range start must not exceed its end (got {_show(value)})")
    return (low, high)


@dataclass(frozen=True)
class ConnectivityRequest:
    source_id: str
    source_port: int
    destination_id: str | None
    destination_address: str | None
    destination_port: int
    protocol: str


def parse_connectivity_request(body: Any) -> ConnectivityRequest:
    root = _Body(body, "")
    source = root.obj("source")
    source_id = source.resource_id("resourceId", "Microsoft.Compute", "virtualMachines")
    assert source_id is not None
    source_port = source.port("port")
    destination = root.obj("destination")
    destination_id = destination.resource_id("resourceId", "Microsoft.Compute", "virtualMachines", required=False)
    address = destination.string("address", required=False)
    if destination_id is None and address is None:
        raise _bad("destination", "needs resourceId or address")
    destination_port = destination.port("port")
    protocol = root.enum("protocol", ("Tcp", "Http", "Https", "Icmp"), required=False) or "Tcp"
    root.enum("preferredIPVersion", ("IPv4", "IPv6"), required=False)
    if root.get("protocolConfiguration") is not None:
        config = _Body(root.get("protocolConfiguration"), "protocolConfiguration")
        if config.get("HTTPConfiguration") is not None:
            http = _Body(config.get("HTTPConfiguration"), config.at("HTTPConfiguration"))
            http.enum("method", ("Get",), required=False)
            codes = http.get("validStatusCodes")
            if codes is not None and (
                not isinstance(codes, list) or any(isinstance(c, bool) or not isinstance(c, int) for c in codes)
            ):
                raise _bad(http.at("validStatusCodes"), "must be a list of integers")
    return ConnectivityRequest(source_id, source_port, destination_id, address, destination_port, protocol)


@dataclass(frozen=True)
class IpFlowRequest:
    target_id: str
    direction: str
    protocol: str
    local_ports: PortRange
    remote_ports: PortRange
    local_ip: IPv4Address
    remote_ip: IPv4Address
    nic_id: str | None


def parse_ip_flow_request(body: Any) -> IpFlowRequest:
    root = _Body(body, "")
    target = root.resource_id("targetResourceId", "Microsoft.Compute", "virtualMachines")
    assert target is not None
    direction = root.enum("direction", (INBOUND, OUTBOUND), required=True)
    assert direction is not None
    # The spec enum is TCP|UDP; the 2017 walkthrough also offers '*'. Accept all three.
    protocol = root.enum("protocol", ("TCP", "UDP", "*"), required=True)
    assert protocol is not None
    outbound = direction == OUTBOUND
    local_ports = _flow_port(root, "localPort", allow_star=outbound, allow_range=False)
    remote_ports = _flow_port(root, "remotePort", allow_star=not outbound, allow_range=True)
    return IpFlowRequest(
        target,
        direction,
        {"TCP": "Tcp", "UDP": "Udp"}.get(protocol, "*"),
        local_ports,
        remote_ports,
        root.ipv4("localIPAddress"),
        root.ipv4("remoteIPAddress"),
        root.resource_id("targetNicResourceId", "Microsoft.Network", "networkInterfaces", required=False),
    )


@dataclass(frozen=True)
class NextHopRequest:
    target_id: str
    source_ip: IPv4Address
    destination_ip: IPv4Address
    nic_id: str | None


def parse_next_hop_request(body: Any) -> NextHopRequest:
    root = _Body(body, "")
    target = root.resource_id("targetResourceId", "Microsoft.Compute", "virtualMachines")
    assert target is not None
    return NextHopRequest(
        target,
        root.ipv4("sourceIPAddress"),
        root.ipv4("destinationIPAddress"),
        root.resource_id("targetNicResourceId", "Microsoft.Network", "networkInterfaces", required=False),
    )


# --------------------------------------------------------------------------- resolving targets


def _find_vm(scn: Scenario, resource_id: str, field_name: str) -> VirtualMachine:
    parsed = parse_arm_id(resource_id)
    assert parsed is not None  # the body parser checked the shape
    vm = scn.find_vm(parsed.subscription, parsed.resource_group, parsed.name)
    if vm is None:
        raise ArmError(404, NOT_FOUND, f"{field_name}: resource {resource_id} was not found.")
    return vm


def _target_vm(
    scn: Scenario, resource_id: str, field_name: str, subscription: str, watcher_region: str
) -> VirtualMachine:
    """The VM a check runs on: it must be in the watcher's subscription, region, and running."""
    vm = _find_vm(scn, resource_id, field_name)
    if not same(vm.subscription, subscription):
        raise ArmError(
            404,
            NOT_FOUND,
            f"{field_name}: resource {resource_id} was not found in subscription {subscription}.",
        )
    if normalize_region(vm.region) != normalize_region(watcher_region):
        raise ArmError(
            400,
            WRONG_REGION,
            f"{field_name}: virtual machine {vm.name} is in region {vm.region}, but this Network "
            f"Watcher is in {normalize_region(watcher_region)}; use the watcher of the VM's region.",
        )
    if vm.power_state != "running":
        # UNCONFIRMED code; the docs only say the VM must be allocated (ipFlowVerify).
        raise ArmError(
            400,
            VM_NOT_RUNNING,
            f"{field_name}: virtual machine {vm.name} is {vm.power_state}; it must be running.",
        )
    return vm


def _pick_nic(scn: Scenario, vm: VirtualMachine, nic_id: str | None, ip: IPv4Address, ip_field: str) -> Nic:
    """The NIC a flow is verified on: the one named, else the one holding the given IP."""
    if nic_id is not None:
        nic = scn.find_nic_by_id(nic_id)
        if nic is None or not same(nic.vm, vm.name):
            raise _bad("targetNicResourceId", f"{nic_id} is not a network interface of {vm.id}")
        if nic.ip != ip:
            raise _bad(ip_field, f"{ip} is not the IP address of {nic.name} ({nic.ip})")
        return nic
    if len(vm.nics) > 1 and any(n.ip_forwarding for n in vm.nics):
        # The spec: required "if VM has multiple NICs and IP forwarding is enabled on any".
        raise _bad(
            "targetNicResourceId",
            "is required: the VM has several NICs and IP forwarding is enabled on one of them",
        )
    for nic in vm.nics:
        if nic.ip == ip:
            return nic
    raise _bad(ip_field, f"{ip} is not an IP address of virtual machine {vm.name}")


def _verdict(scn: Scenario, nic: Nic, flow: Flow) -> Verdict:
    subnet_level, nic_level = scn.nsg_levels(nic)
    return evaluate_levels(flow, subnet_level, nic_level, scn.default_rules, scn.tag_context(nic))


# --------------------------------------------------------------------------- ipFlowVerify, nextHop


def ip_flow_verify(scn: Scenario, subscription: str, watcher_region: str, body: Any) -> dict[str, Any]:
    req = parse_ip_flow_request(body)
    vm = _target_vm(scn, req.target_id, "targetResourceId", subscription, watcher_region)
    nic = _pick_nic(scn, vm, req.nic_id, req.local_ip, "localIPAddress")
    if req.direction == INBOUND:
        flow = Flow(INBOUND, req.protocol, req.remote_ip, req.remote_ports, req.local_ip, req.local_ports)
    else:
        flow = Flow(OUTBOUND, req.protocol, req.local_ip, req.local_ports, req.remote_ip, req.remote_ports)
    verdict = _verdict(scn, nic, flow)
    result: dict[str, Any] = {"access": verdict.access}
    # With NSGs at both levels and both allowing, the rule reported is the last one
    # evaluated (UNCONFIRMED which one Azure names). No NSG at all: no ruleName, as the spec
    # says ("if input is not matched against any security rule, it is not displayed").
    if verdict.deciding is not None:
        result["ruleName"] = verdict.deciding.rule.arm_name
    return result


def next_hop(scn: Scenario, subscription: str, watcher_region: str, body: Any) -> dict[str, Any]:
    req = parse_next_hop_request(body)
    vm = _target_vm(scn, req.target_id, "targetResourceId", subscription, watcher_region)
    nic = _pick_nic(scn, vm, req.nic_id, req.source_ip, "sourceIPAddress")
    route = lookup(scn.routes_for(nic), req.destination_ip)
    assert route is not None  # 0.0.0.0/0 is always there
    result: dict[str, Any] = {"nextHopType": route.next_hop_type}
    hop_ip = route.next_hop_ip
    gateway = scn.vnet_of(nic).gateway
    if route.next_hop_type == VIRTUAL_NETWORK_GATEWAY and gateway is not None:
        hop_ip = gateway.address
    if hop_ip is not None:
        result["nextHopIpAddress"] = str(hop_ip)
    result["routeTableId"] = route.table_id_for_next_hop
    return result


# --------------------------------------------------------------------------- connectivityCheck


@dataclass
class _Hop:
    type: str
    address: str
    resource_id: str
    issues: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Answer:
    """The endpoint that answered the probes."""

    latency: Latency
    loss_percent: int


def _issue(origin: str, kind: str, context: list[dict[str, str]]) -> dict[str, Any]:
    return {"origin": origin, "severity": "Error", "type": kind, "context": context}


def _nsg_issue(origin: str, rule: SecurityRule) -> dict[str, Any]:
    # Data-plane naming (UserRule_/DefaultRule_), as the seed's "UserRule_Port80".
    return _issue(origin, "NetworkSecurityRule", [{"key": "RuleName", "value": rule.flow_log_name}])


def _route_issue(route: Route) -> dict[str, Any]:
    return _issue("Outbound", "UserDefinedRoute", [{"key": "RouteType", "value": route.route_type}])


def _nic_hop(kind: str, nic: Nic) -> _Hop:
    return _Hop(kind, str(nic.ip), nic.ipconfig_id)


@dataclass
class _Probe:
    """One connectivity check's packet: what every NSG on the path evaluates."""

    scn: Scenario
    source_ip: IPv4Address
    destination_ip: IPv4Address
    protocol: str  # Tcp or Icmp, as NSGs see it
    source_ports: PortRange
    destination_port: int

    def flow(self, direction: str) -> Flow:
        return Flow(
            direction,
            self.protocol,
            self.source_ip,
            self.source_ports,
            self.destination_ip,
            (self.destination_port, self.destination_port),
        )

    def check(self, nic: Nic, hop: _Hop, direction: str) -> None:
        """Apply a NIC's NSGs for one direction; a deny becomes an issue on the hop."""
        verdict = _verdict(self.scn, nic, self.flow(direction))
        if verdict.access == DENY and verdict.deciding is not None:
            hop.issues.append(_nsg_issue(direction, verdict.deciding.rule))

    def answer_from_vm(self, nic: Nic) -> _Answer | None:
        vm = self.scn.vm_of(nic)
        if vm.power_state != "running":
            return None  # a deallocated VM answers nothing
        return _Answer(vm.latency or self.scn.default_latency, vm.loss_percent)

    def answer_from_internet(self) -> _Answer | None:
        # The emulated internet only answers on the endpoints the scenario declares.
        endpoint = self.scn.internet_endpoint(self.destination_ip)
        if endpoint is None:
            return None
        if self.protocol != "Icmp" and endpoint.ports is not None and self.destination_port not in endpoint.ports:
            return None
        return _Answer(endpoint.latency or self.scn.default_latency, endpoint.loss_percent)

    def walk(self, source: Nic) -> tuple[list[_Hop], _Answer | None]:
        """Follow the packet hop by hop: outbound NSGs, route, next NIC's inbound NSGs.

        A blocked hop keeps its issue and the walk goes on, so the hops after the block are
        listed too (the seed lists the destination after the NSG that blocks it).
        """
        hops = [_nic_hop("Source", source)]
        current = source
        visited = {source.name.lower()}
        while len(hops) < MAX_HOPS:
            hop = hops[-1]
            self.check(current, hop, OUTBOUND)
            route = lookup(self.scn.routes_for(current), self.destination_ip)
            assert route is not None  # 0.0.0.0/0 always matches
            vnet = self.scn.vnet_of(current)
            kind = route.next_hop_type
            if kind == NONE:
                hop.issues.append(_route_issue(route))
                hops.append(_Hop("Destination", str(self.destination_ip), "Unknown"))
                return hops, None
            if kind == INTERNET:
                hops.append(_Hop("Internet", str(self.destination_ip), "Internet"))
                return hops, self.answer_from_internet()
            if kind == VIRTUAL_NETWORK_GATEWAY:
                # On-premises is outside the model: a declared gateway answers for it.
                gateway = vnet.gateway
                if gateway is None:
                    hops.append(_Hop(kind, str(self.destination_ip), "Unknown"))
                    return hops, None
                hops.append(_Hop(kind, str(gateway.address), gateway.id))
                latency = gateway.latency or self.scn.default_latency
                return hops, _Answer(latency, gateway.loss_percent)
            if kind == VNET_LOCAL:
                target = self.scn.nic_at(vnet.name, self.destination_ip)
                if target is None:
                    hops.append(_Hop("Destination", str(self.destination_ip), "Unknown"))
                    return hops, None
                arrival = _nic_hop(VNET_LOCAL, target)
                self.check(target, arrival, INBOUND)
                hops.append(arrival)
                return hops, self.answer_from_vm(target)
            assert kind == VIRTUAL_APPLIANCE and route.next_hop_ip is not None
            appliance = self.scn.nic_at(vnet.name, route.next_hop_ip)
            if appliance is None:
                hops.append(_Hop(kind, str(route.next_hop_ip), "Unknown"))
                return hops, None
            if appliance.name.lower() in visited:
                # UNCONFIRMED how Azure reports a UDR loop; flagged as a route issue here.
                hop.issues.append(_route_issue(route))
                return hops, None
            visited.add(appliance.name.lower())
            arrival = _nic_hop(VIRTUAL_APPLIANCE, appliance)
            self.check(appliance, arrival, INBOUND)
            hops.append(arrival)
            if appliance.ip == self.destination_ip:
                return hops, self.answer_from_vm(appliance)
            if not appliance.ip_forwarding or self.scn.vm_of(appliance).power_state != "running":
                # Azure drops forwarded packets at a NIC without IP forwarding, and a
                # deallocated appliance forwards nothing; the walk ends at the appliance.
                return hops, None
            current = appliance
        hops[-1].issues.append(_issue("Outbound", "UserDefinedRoute", []))
        return hops, None


def _hop_json(hops: list[_Hop], seed: str) -> list[dict[str, Any]]:
    """Hops with deterministic ids (uuid5 of the request and the hop's place in the path)."""
    ids = [
        str(uuid.uuid5(_HOP_NAMESPACE, f"{seed}|{i}|{h.type}|{h.address}|{h.resource_id}".lower()))
        for i, h in enumerate(hops)
    ]
    return [
        {
            "type": hop.type,
            "id": ids[i],
            "address": hop.address,
            "resourceId": hop.resource_id,
            "nextHopIds": [ids[i + 1]] if i + 1 < len(hops) else [],
            "issues": hop.issues,
        }
        for i, hop in enumerate(hops)
    ]


def _result(scn: Scenario, hops: list[_Hop], answer: _Answer | None, seed: str) -> dict[str, Any]:
    words = STATUS_WORDS[scn.status_vocabulary]
    result: dict[str, Any] = {"hops": _hop_json(hops, seed)}
    has_error = any(issue["severity"] == "Error" for hop in hops for issue in hop.issues)
    if has_error or answer is None or answer.loss_percent >= 100:
        result.update(connectionStatus=words["down"], probesSent=PROBES, probesFailed=PROBES)
        return result
    failed = PROBES * answer.loss_percent // 100
    result["connectionStatus"] = words["degraded"] if failed else words["ok"]
    # Latency fields appear only when the check got answers (docs).
    result["avgLatencyInMs"] = answer.latency.avg
    result["minLatencyInMs"] = answer.latency.min
    result["maxLatencyInMs"] = answer.latency.max
    result["probesSent"] = PROBES
    result["probesFailed"] = failed
    return result


def _destination_host(address: str) -> tuple[str, int | None, bool]:
    """(host or IP, port from the URL, is https) of destination.address: IP, host or URL."""
    text = address.strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
            url_port = parts.port
        except ValueError:
            raise _bad("destination.address", f"{text!r} is not a valid URL") from None
        if not parts.hostname:
            raise _bad("destination.address", f"{text!r} has no host")
        return parts.hostname, url_port, parts.scheme.lower() == "https"
    host = text.split("/", 1)[0]
    label = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
    if not re.fullmatch(rf"{label}(\.{label})*\.?", host):
        raise _bad("destination.address", f"{text!r} is not an IPv4 address, a host name or a URL")
    return host, None, False


def connectivity_check(scn: Scenario, subscription: str, watcher_region: str, body: Any) -> dict[str, Any]:
    req = parse_connectivity_request(body)
    vm = _target_vm(scn, req.source_id, "source.resourceId", subscription, watcher_region)
    if vm.agent == "missing":
        # UNCONFIRMED: no primary source gives Azure's code for a missing agent extension.
        raise ArmError(
            400,
            AGENT_NOT_INSTALLED,
            f"source.resourceId: the Network Watcher agent VM extension is not installed on virtual machine {vm.name}.",
        )
    source = vm.primary_nic
    seed = f"{source.ipconfig_id}|{req.destination_id or req.destination_address}|{req}"
    if vm.agent == "stopped":
        # The spec's AgentStopped issue; the check cannot run, so nothing is probed.
        hop = _nic_hop("Source", source)
        hop.issues.append(_issue("Local", "AgentStopped", []))
        return {
            "hops": _hop_json([hop], seed),
            "connectionStatus": STATUS_WORDS[scn.status_vocabulary]["unknown"],
            "probesSent": 0,
            "probesFailed": 0,
        }

    url_port: int | None = None
    https = req.protocol == "Https"
    if req.destination_id is not None:
        destination_ip = _find_vm(scn, req.destination_id, "destination.resourceId").primary_nic.ip
    else:
        assert req.destination_address is not None
        host, url_port, is_https_url = _destination_host(req.destination_address)
        https = https or is_https_url
        try:
            destination_ip = IPv4Address(host)
        except ValueError:
            endpoint = scn.resolve_host(host)
            if endpoint is None:
                hop = _nic_hop("Source", source)
                hop.issues.append(_issue("Local", "DnsResolution", []))
                return _result(scn, [hop], None, seed)
            destination_ip = endpoint.ip
    # Port 0 or absent: the URL's port, else 443 for https, else 80.
    port = req.destination_port or url_port or (443 if https else 80)
    probe = _Probe(
        scn,
        source.ip,
        destination_ip,
        "Icmp" if req.protocol == "Icmp" else "Tcp",
        (req.source_port, req.source_port) if req.source_port else EPHEMERAL_PORTS,
        port,
    )
    hops, answer = probe.walk(source)
    return _result(scn, hops, answer, seed)


# --------------------------------------------------------------------------- the public class


class Network:
    """A scenario plus the operations the emulator's HTTP layer serves from it."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario

    @classmethod
    def from_dict(cls, data: Any) -> Network:
        return cls(parse_scenario(data))

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    @property
    def status_vocabulary(self) -> str:
        return self._scenario.status_vocabulary

    def watcher_region(self, subscription: str, resource_group: str, name: str) -> str | None:
        watcher = self._scenario.find_watcher(subscription, resource_group, name)
        return watcher.region if watcher else None

    def list_vms(self, subscription: str, resource_group: str) -> list[dict[str, Any]]:
        return [
            vm_to_arm(vm)
            for vm in self._scenario.vms.values()
            if same(vm.subscription, subscription) and same(vm.resource_group, resource_group)
        ]

    def get_vm(self, subscription: str, resource_group: str, name: str) -> dict[str, Any] | None:
        vm = self._scenario.find_vm(subscription, resource_group, name)
        return vm_to_arm(vm) if vm else None

    def has_subscription(self, subscription: str) -> bool:
        return subscription.lower() in self._scenario.subscriptions

    def list_nics(self, subscription: str) -> list[dict[str, Any]]:
        """Every NIC of the subscription, in scenario order (Microsoft.Network/networkInterfaces JSON)."""
        return [
            nic_to_arm(self._scenario, vm, index)
            for vm in self._scenario.vms.values()
            if same(vm.subscription, subscription)
            for index in range(len(vm.nics))
        ]

    def list_vnets(self, subscription: str) -> list[dict[str, Any]]:
        """Every VNet of the subscription with its subnets (Microsoft.Network/virtualNetworks JSON)."""
        return [
            vnet_to_arm(self._scenario, vnet)
            for vnet in self._scenario.vnets.values()
            if same(vnet.subscription, subscription)
        ]

    def connectivity_check(self, subscription: str, watcher_region: str, body: Any) -> dict[str, Any]:
        return connectivity_check(self._scenario, subscription, watcher_region, body)

    def ip_flow_verify(self, subscription: str, watcher_region: str, body: Any) -> dict[str, Any]:
        return ip_flow_verify(self._scenario, subscription, watcher_region, body)

    def next_hop(self, subscription: str, watcher_region: str, body: Any) -> dict[str, Any]:
        return next_hop(self._scenario, subscription, watcher_region, body)

    def remove_security_rule(self, nsg_name: str, rule_name: str) -> None:
        self._scenario.remove_security_rule(nsg_name, rule_name)

    def add_security_rule(self, nsg_name: str, rule: dict[str, Any]) -> None:
        self._scenario.add_security_rule(nsg_name, rule)

    def set_vm_power_state(self, vm_name: str, state: str) -> None:
        self._scenario.set_vm_power_state(vm_name, state)

    def set_agent(self, vm_name: str, state: str) -> None:
        self._scenario.set_agent(vm_name, state)

    def copy(self) -> Network:
        return Network(copy.deepcopy(self._scenario))


def load_scenario(source: str | Path) -> Network:
    """A bundled scenario by name (``"seed"``) or a .yaml/.json file by path."""
    data = read_scenario_data(source)
    try:
        return Network.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"scenario {str(source)!r}: {exc}") from None
