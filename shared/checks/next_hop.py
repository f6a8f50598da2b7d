"""nextHop: where does traffic from ``source_vm`` to an IP go next?

Reading the result: ``nextHopType`` is required; known types are canonicalized case-insensitively
and unknown ones kept as sent (the enum is modelAsString). ``nextHopIpAddress`` and
``routeTableId`` (a route table id or "System Route") are optional.
"""

from __future__ import annotations

from typing import Any

from shared.results import Finding
from shared.targets import NEXT_HOP_TYPES, NextHop, Target

from .arm_json import ArmObject, canonical
from .base import CheckKind, wrong_spec

OPERATION = "nextHop"


def request_body(target: Target) -> dict[str, Any]:
    spec = target.spec
    if not isinstance(spec, NextHop):
        raise wrong_spec(target, NextHop)
    body: dict[str, Any] = {
        "targetResourceId": target.source_vm,
        "sourceIPAddress": spec.source_ip,
        "destinationIPAddress": spec.destination_ip,
    }
    if spec.nic_resource_id is not None:
        body["targetNicResourceId"] = spec.nic_resource_id
    return body


def finding(target: Target, arm_result: Any) -> Finding:
    root = ArmObject(arm_result, "")
    return Finding(
        status=canonical(root.required_text("nextHopType"), NEXT_HOP_TYPES),
        next_hop_ip=root.text("nextHopIpAddress"),
        route_table_id=root.text("routeTableId"),
    )


CHECK = CheckKind(OPERATION, request_body, finding)
