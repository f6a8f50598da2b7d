"""connectivityCheck: can ``source_vm`` open a connection to a resource or an address, and if not,
which hop, rule or route stops it.

Reading the result:

- ``connectionStatus``: the docs say Reachable/Unreachable, the spec Connected/Disconnected; both
  are read, case-insensitively. Degraded stays Degraded; Unknown and any other string become
  Unknown, so a new word can never make a check healthy by accident.
- An ``AgentStopped`` issue or ``probesSent == 0`` also means Unknown: nothing was probed.
- The blocking issue is the first issue of severity Error (no severity counts as Error) on the
  first hop that has one; it gives ``blocking_hop``, ``issue_type``, and from its context
  ``rule_name`` (RuleName) and ``route_type`` (RouteType).
- Hops beyond ``MAX_HOPS`` are dropped and counted in ``Finding.hops_omitted``; the blocking issue
  is looked for in all of them first. Within a kept hop, issues, next hop ids and context items
  are cut at ``MAX_ITEMS`` without a marker (real answers carry a handful; this only bounds junk).
- A missing hop or issue ``type`` reads as ``Unknown``; a missing ``issues``, ``context`` or
  ``nextHopIds`` as empty. Context items are ``{"key", "value"}`` objects (other properties are
  ignored); an item with neither ``key`` nor ``value`` is read as the spec's map form
  (``IssueContext`` is a string map), each property one pair.
"""

from __future__ import annotations

from typing import Any

from shared.results import MAX_HOPS, MAX_TEXT, Finding, Hop, Issue
from shared.targets import Connectivity, Target

from .arm_json import ArmObject, canonical, show
from .base import CheckKind, InvalidArmResult, wrong_spec

OPERATION = "connectivityCheck"
MAX_ITEMS = 100
UNKNOWN = "Unknown"
_STATUSES = {
    "reachable": "Reachable",
    "connected": "Reachable",
    "unreachable": "Unreachable",
    "disconnected": "Unreachable",
    "degraded": "Degraded",
}
# The spec's IssueType enum plus CPU and Memory, which only the docs list.
ISSUE_TYPES = ("Unknown", "AgentStopped", "GuestFirewall", "DnsResolution", "SocketBind", "NetworkSecurityRule",
               "UserDefinedRoute", "PortThrottled", "Platform", "CPU", "Memory")
ORIGINS = ("Local", "Inbound", "Outbound")
SEVERITIES = ("Error", "Warning")


def request_body(target: Target) -> dict[str, Any]:
    spec = target.spec
    if not isinstance(spec, Connectivity):
        raise wrong_spec(target, Connectivity)
    if (spec.destination_resource_id is None) == (spec.destination_address is None):
        raise ValueError(f"target {target.name!r}: give exactly one of destination resource id and address")
    source: dict[str, Any] = {"resourceId": target.source_vm}
    if spec.source_port is not None:
        source["port"] = spec.source_port
    destination: dict[str, Any] = (
        {"resourceId": spec.destination_resource_id}
        if spec.destination_resource_id is not None
        else {"address": spec.destination_address}
    )
    destination["port"] = spec.port
    body: dict[str, Any] = {"source": source, "destination": destination}
    if spec.protocol is not None:
        body["protocol"] = spec.protocol
    return body


def finding(target: Target, arm_result: Any) -> Finding:
    root = ArmObject(arm_result, "")
    reported = root.required_text("connectionStatus")
    hops = [_hop(h) for h in root.objects("hops")]
    probes_sent = root.count("probesSent")
    status = _STATUSES.get(reported.strip().lower(), UNKNOWN)
    if probes_sent == 0 or any(issue.type == "AgentStopped" for hop in hops for issue in hop.issues):
        status = UNKNOWN  # the agent did not probe, so nothing was learnt about the path
    blocking = _blocking(hops)
    kept = tuple(_trim(hop) for hop in hops[:MAX_HOPS])
    return Finding(
        status=status,
        latency_avg_ms=root.count("avgLatencyInMs"),
        latency_min_ms=root.count("minLatencyInMs"),
        latency_max_ms=root.count("maxLatencyInMs"),
        probes_sent=probes_sent,
        probes_failed=root.count("probesFailed"),
        hops=kept,
        hops_omitted=len(hops) - len(kept),
        blocking_hop=blocking[0].address if blocking else None,
        issue_type=blocking[1].type if blocking else None,
        rule_name=blocking[1].context_value("RuleName") if blocking else None,
        route_type=blocking[1].context_value("RouteType") if blocking else None,
    )


CHECK = CheckKind(OPERATION, request_body, finding)


def _named(value: str | None) -> str:
    return value if value is not None and value.strip() else UNKNOWN


def _optional(value: str | None, known: tuple[str, ...]) -> str | None:
    return canonical(value, known) if value is not None and value.strip() else None


def _hop(obj: ArmObject) -> Hop:
    return Hop(
        type=_named(obj.text("type")),
        address=obj.text("address"),
        resource_id=obj.text("resourceId"),
        issues=tuple(_issue(issue) for issue in obj.objects("issues")),
        next_hop_ids=tuple(obj.texts("nextHopIds")),
        id=obj.text("id"),
    )


def _issue(obj: ArmObject) -> Issue:
    return Issue(
        origin=_optional(obj.text("origin"), ORIGINS),
        severity=_optional(obj.text("severity"), SEVERITIES),
        type=canonical(_named(obj.text("type")), ISSUE_TYPES),
        context=_context(obj.get("context"), obj.at("context")),
    )


def _context(value: Any, path: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):  # one map instead of a list of them: the spec's own shape
        items = [(path, value)]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    else:
        raise InvalidArmResult(f"{path}: must be a list of {{key, value}} objects (got {show(value)})")
    pairs: list[tuple[str, str]] = []
    for where, item in items:
        obj = ArmObject(item, where)
        if any(isinstance(name, str) and name.lower() in ("key", "value") for name in obj.data):
            key, text = obj.text("key"), obj.text("value")
            if key is None or text is None:
                raise InvalidArmResult(f"{obj.at('key' if key is None else 'value')}: is required in a key/value item")
            pairs.append((key, text))
            continue
        for name, text in obj.data.items():
            if text is None:
                continue
            if not isinstance(text, str):
                raise InvalidArmResult(f"{obj.at(str(name))}: must be a string (got {show(text)})")
            pairs.append((str(name)[:MAX_TEXT], text[:MAX_TEXT]))
    return tuple(pairs)


def _blocking(hops: list[Hop]) -> tuple[Hop, Issue] | None:
    for hop in hops:
        for issue in hop.issues:
            if issue.blocking:
                return hop, issue
    return None


def _trim(hop: Hop) -> Hop:
    if len(hop.issues) <= MAX_ITEMS and len(hop.next_hop_ids) <= MAX_ITEMS and all(
        len(issue.context) <= MAX_ITEMS for issue in hop.issues
    ):
        return hop
    issues = tuple(
        Issue(i.origin, i.severity, i.type, i.context[:MAX_ITEMS]) for i in hop.issues[:MAX_ITEMS]
    )
    return Hop(hop.type, hop.address, hop.resource_id, issues, hop.next_hop_ids[:MAX_ITEMS], hop.id)
