"""ipFlowVerify: would the NSG rules on ``source_vm``'s NIC allow this 5-tuple?

Reading the result: ``access`` is required and must be Allow or Deny (any case); ``ruleName`` is
optional (ARM leaves it out when no rule matched).
"""

from __future__ import annotations

from typing import Any

from shared.results import Finding
from shared.targets import IP_FLOW_STATUSES, IpFlow, Target

from .arm_json import ArmObject, canonical, show
from .base import CheckKind, InvalidArmResult, wrong_spec

OPERATION = "ipFlowVerify"


def request_body(target: Target) -> dict[str, Any]:
    spec = target.spec
    if not isinstance(spec, IpFlow):
        raise wrong_spec(target, IpFlow)
    body: dict[str, Any] = {
        "targetResourceId": target.source_vm,
        "direction": spec.direction,
        "protocol": spec.protocol,
        "localIPAddress": spec.local_ip,
        "localPort": spec.local_port,
        "remoteIPAddress": spec.remote_ip,
        "remotePort": spec.remote_port,
    }
    if spec.nic_resource_id is not None:
        body["targetNicResourceId"] = spec.nic_resource_id
    return body


def finding(target: Target, arm_result: Any) -> Finding:
    root = ArmObject(arm_result, "")
    access = root.required_text("access")
    status = canonical(access, IP_FLOW_STATUSES)
    if status not in IP_FLOW_STATUSES:
        # Unlike other enums, an unknown verdict cannot be kept: no target could expect it.
        raise InvalidArmResult(f"access: must be Allow or Deny (got {show(access)})")
    return Finding(status=status, rule_name=root.text("ruleName"))


CHECK = CheckKind(OPERATION, request_body, finding)
