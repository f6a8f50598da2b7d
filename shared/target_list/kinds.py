"""Each kind's own part of a target: the readers of connectivity, ipFlow and nextHop fields, each
giving the source VM's id and the kind's spec (``_SPECS`` picks one by kind)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from shared.target_list.document import _show
from shared.target_list.patterns import _FLOW_PORT, CONNECTIVITY_PROTOCOLS, DIRECTIONS, FLOW_PROTOCOLS
from shared.target_list.reader import _address, _arm_id, _Check, _ipv4, _is_url, _subscription, _url_port
from shared.targets import Connectivity, IpFlow, NextHop

_Spec = tuple[str | None, Connectivity | IpFlow | NextHop | None]  # (VM id, the kind's part)


def _connectivity(c: _Check, raw: dict[str, Any]) -> _Spec:
    for key in ("source", "destination"):
        if key not in raw:
            c.bad(key, "is required")
    vm = _arm_id(c, "source", raw["source"], "vm") if "source" in raw else None
    source_port = c.integer("sourcePort", raw["sourcePort"], 0, 65535) if "sourcePort" in raw else None
    protocol = c.choice("protocol", raw["protocol"], CONNECTIVITY_PROTOCOLS) if "protocol" in raw else None
    if "destination" not in raw:
        return vm, None
    before = len(c.problems)
    dest = c.mapping("destination", raw["destination"], ("resourceId", "address", "port"))
    if dest is None:
        return vm, None
    if ("resourceId" in dest) == ("address" in dest):
        c.bad("destination", "needs exactly one of resourceId (a VM) or address (an IP, host name or URL)")
    resource_id = _arm_id(c, "destination.resourceId", dest["resourceId"], "vm") if "resourceId" in dest else None
    address = _address(c, "destination.address", dest["address"]) if "address" in dest else None
    port: int | None = 0
    if "port" in dest:
        port = c.integer("destination.port", dest["port"], 0, 65535)
        url_port = _url_port(address) if address else None
        if port is not None and url_port is not None and url_port != port:
            c.bad("destination.port", f"is {port}, but the URL says port {url_port}")
    elif not _is_url(dest.get("address")) and raw.get("protocol") != "Icmp":
        # A URL names its port, and ICMP has none; any other destination needs one.
        c.bad("destination.port", "is required (unless the address is a URL or the protocol is Icmp)")
    if len(c.problems) > before:
        return vm, None
    return vm, Connectivity(destination_resource_id=resource_id, destination_address=address, port=port or 0,
                            protocol=protocol, source_port=source_port)


def _flow_port(c: _Check, path: str, value: Any, *, star: bool, allow_range: bool) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        port = c.integer(path, value, 0, 65535)
        return None if port is None else str(port)
    shape = "a port 0..65535" + (", a range like '1024-65535'" if allow_range else "") + (" or '*'" if star else "")
    if not isinstance(value, str):
        c.bad(path, f"must be {shape} (got {_show(value)})")
        return None
    text = c.string(path, value, max_len=16)
    if text is None:
        return None
    if text == "*":
        if star:
            return text
        c.bad(path, "'*' is only allowed for the source side of the flow (local when Outbound, remote when "
                    "Inbound)")
        return None
    match = _FLOW_PORT.fullmatch(text)
    if match is None or (match[2] is not None and not allow_range):
        c.bad(path, f"must be {shape} (got {_show(text)})")
        return None
    if match[2] is not None and int(match[1]) > int(match[2]):
        c.bad(path, f"range start must not exceed its end (got {_show(text)})")
        return None
    return text


def _endpoint(c: _Check, raw: dict[str, Any], key: str, star: bool,
              allow_range: bool) -> tuple[str | None, str | None]:
    side = c.mapping(key, raw[key], ("ip", "port"), required=("ip", "port")) if key in raw else None
    if side is None:
        return None, None
    ip = _ipv4(c, f"{key}.ip", side["ip"]) if "ip" in side else None
    port = _flow_port(c, f"{key}.port", side["port"], star=star, allow_range=allow_range) if "port" in side else None
    return ip, port


def _vm_and_nic(c: _Check, raw: dict[str, Any], required: Iterable[str]) -> tuple[str | None, str | None]:
    for key in required:
        if key not in raw:
            c.bad(key, "is required")
    vm = _arm_id(c, "vm", raw["vm"], "vm") if "vm" in raw else None
    nic = _arm_id(c, "nic", raw["nic"], "nic") if "nic" in raw else None
    if vm and nic and _subscription(vm) != _subscription(nic):
        c.bad("nic", f"is in subscription {nic.split('/')[2]}, but the VM is in {vm.split('/')[2]}")
    return vm, nic


def _ip_flow(c: _Check, raw: dict[str, Any]) -> _Spec:
    before = len(c.problems)
    vm, nic = _vm_and_nic(c, raw, ("vm", "direction", "protocol", "local", "remote"))
    direction = c.choice("direction", raw["direction"], DIRECTIONS) if "direction" in raw else None
    protocol = c.choice("protocol", raw["protocol"], FLOW_PROTOCOLS) if "protocol" in raw else None
    # '*' is allowed only for the flow's source port, which depends on the direction.
    local_ip, local_port = _endpoint(c, raw, "local", star=direction == "Outbound", allow_range=False)
    remote_ip, remote_port = _endpoint(c, raw, "remote", star=direction == "Inbound", allow_range=True)
    if len(c.problems) > before or None in (direction, protocol, local_ip, local_port, remote_ip, remote_port):
        return vm, None
    return vm, IpFlow(direction=cast(str, direction), protocol=cast(str, protocol), local_ip=cast(str, local_ip),
                      local_port=cast(str, local_port), remote_ip=cast(str, remote_ip),
                      remote_port=cast(str, remote_port), nic_resource_id=nic)


def _next_hop(c: _Check, raw: dict[str, Any]) -> _Spec:
    before = len(c.problems)
    vm, nic = _vm_and_nic(c, raw, ("vm", "sourceIp", "destinationIp"))
    source_ip = _ipv4(c, "sourceIp", raw["sourceIp"]) if "sourceIp" in raw else None
    destination_ip = _ipv4(c, "destinationIp", raw["destinationIp"]) if "destinationIp" in raw else None
    if len(c.problems) > before or source_ip is None or destination_ip is None:
        return vm, None
    return vm, NextHop(source_ip=source_ip, destination_ip=destination_ip, nic_resource_id=nic)


_SPECS = {"connectivity": _connectivity, "ipFlow": _ip_flow, "nextHop": _next_hop}
