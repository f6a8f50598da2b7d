"""The normalized result of a check: what Network Watcher found (``Finding``) and the record the
pipeline keeps of one check (``CheckResult``).

A ``Finding`` is built by a check kind (``shared/checks``) from ARM's answer, or by
``error_finding`` / ``timeout_finding`` when there is no answer: an Unreachable path, a Deny, an
ARM error and a deadline are all results, never exceptions.

``CheckResult.to_message`` / ``from_message`` are the JSON form used between functions (queues,
durable state). ``from_message`` trusts nothing: it checks every field and raises ``ValueError``
naming the first bad one, e.g. ``finding.hops[2].issues[0].type: must be a string (got 5)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from shared.targets import KINDS

MESSAGE_VERSION = 1
# Longest text kept from ARM (names, ids, messages); longer text is cut, not rejected, so one
# odd value cannot turn a useful result into an error.
MAX_TEXT = 1024
# Most hops kept in a Finding; the rest are dropped and counted in ``Finding.hops_omitted``.
MAX_HOPS = 100
# Statuses that say the check could not tell, so they are neither healthy nor unhealthy.
INCONCLUSIVE = frozenset({"Error", "Timeout", "Unknown"})
TIMEOUT_CODE = "Timeout"


@dataclass(frozen=True)
class Issue:
    """One ConnectivityIssue of a hop. ``type``, ``origin`` and ``severity`` are ARM's
    modelAsString enums: known values are canonicalized, unknown ones kept as sent."""

    origin: str | None  # Local | Inbound | Outbound
    severity: str | None  # Error | Warning; None when ARM left it out (read as Error)
    type: str  # NetworkSecurityRule, UserDefinedRoute, AgentStopped, DnsResolution, ...
    context: tuple[tuple[str, str], ...] = ()  # (key, value), e.g. ("RuleName", "UserRule_Port80")

    @property
    def blocking(self) -> bool:
        return self.severity is None or self.severity == "Error"

    def context_value(self, key: str) -> str | None:
        """The first context value for ``key`` (case-insensitive, as ARM's keys are not pinned)."""
        for name, value in self.context:
            if name.lower() == key.lower():
                return value
        return None


@dataclass(frozen=True)
class Hop:
    """One ConnectivityHop, in the order ARM listed it."""

    type: str  # Source, VirtualAppliance, VnetLocal, Internet, Destination, ...
    address: str | None
    resource_id: str | None  # an ipConfiguration id, or the literals "Internet" / "Unknown"
    issues: tuple[Issue, ...] = ()
    next_hop_ids: tuple[str, ...] = ()
    id: str | None = None


@dataclass(frozen=True)
class Finding:
    """What the operation found, before the pipeline adds ids and times.

    ``status``: connectivity Reachable | Unreachable | Degraded | Unknown; ipFlow Allow | Deny;
    nextHop the nextHopType; Error or Timeout when there is no answer.
    """

    status: str
    latency_avg_ms: int | None = None
    latency_min_ms: int | None = None
    latency_max_ms: int | None = None
    probes_sent: int | None = None
    probes_failed: int | None = None
    hops: tuple[Hop, ...] = ()
    rule_name: str | None = None  # ipFlow ruleName, or the RuleName of the blocking issue
    blocking_hop: str | None = None  # address of the first hop with an Error-severity issue
    issue_type: str | None = None  # type of that issue
    route_type: str | None = None  # RouteType of that issue (UserDefinedRoute)
    next_hop_ip: str | None = None
    route_table_id: str | None = None  # a route table id, or "System Route"
    error_code: str | None = None
    error_message: str | None = None
    # Hops ARM listed beyond MAX_HOPS: not in ``hops``, but still searched for the blocking issue.
    hops_omitted: int = 0


def cut(text: str) -> str:
    return text[:MAX_TEXT]


def error_finding(code: str, message: str) -> Finding:
    """The check could not run or its answer was unusable (ARM error, bad result, refused URL)."""
    return Finding(status="Error", error_code=cut(code), error_message=cut(message))


def timeout_finding(message: str) -> Finding:
    """The operation did not finish before the check's deadline."""
    return Finding(status="Timeout", error_code=TIMEOUT_CODE, error_message=cut(message))


def parse_utc(text: str) -> dt.datetime:
    """An ISO-8601 time with a UTC offset ("Z" or +00:00); ValueError otherwise."""
    when = dt.datetime.fromisoformat(text)
    if when.utcoffset() != dt.timedelta(0):
        raise ValueError(f"{text!r} is not a UTC time")
    return when


def format_utc(when: dt.datetime) -> str:
    """``when`` (timezone-aware) as ``2026-11-22T10:00:00.123Z``, the form CheckResult keeps."""
    if when.tzinfo is None:
        raise ValueError("a timezone-aware time is required")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class CheckResult:
    """One completed check, as the pipeline records, ingests and alerts on it."""

    check_id: str
    target: str
    kind: str
    trigger: str  # schedule | queue | alert
    correlation_id: str | None
    expected: str
    finding: Finding
    scheduled: str | None  # ISO-8601 UTC, "2026-11-22T10:00:00.123Z"
    started: str
    completed: str
    polls: int
    network_watcher: str | None
    source_resource_id: str
    destination: str | None
    port: int | None
    protocol: str | None
    direction: str | None

    @property
    def healthy(self) -> bool | None:
        """None when the check could not tell (Error, Timeout, Unknown); else status == expected."""
        if self.finding.status in INCONCLUSIVE:
            return None
        return self.finding.status == self.expected

    @property
    def duration_ms(self) -> int:
        # Start and end may be stamped on different hosts; a skewed clock must not go negative.
        elapsed = parse_utc(self.completed) - parse_utc(self.started)
        return max(0, elapsed // dt.timedelta(milliseconds=1))

    def to_message(self) -> dict[str, Any]:
        return {
            "version": MESSAGE_VERSION,
            "check_id": self.check_id,
            "target": self.target,
            "kind": self.kind,
            "trigger": self.trigger,
            "correlation_id": self.correlation_id,
            "expected": self.expected,
            "finding": _finding_message(self.finding),
            "scheduled": self.scheduled,
            "started": self.started,
            "completed": self.completed,
            "polls": self.polls,
            "network_watcher": self.network_watcher,
            "source_resource_id": self.source_resource_id,
            "destination": self.destination,
            "port": self.port,
            "protocol": self.protocol,
            "direction": self.direction,
        }

    @classmethod
    def from_message(cls, data: Any) -> CheckResult:
        """Decode ``to_message``'s output; ValueError naming the field when anything is off."""
        msg = _Fields(data, "", _RESULT_FIELDS)
        version = msg.get("version")
        if type(version) is not int or version != MESSAGE_VERSION:
            raise ValueError(f"version: must be {MESSAGE_VERSION} (got {_show(version)})")
        kind = msg.text("kind")
        if kind not in KINDS:
            raise ValueError(f"kind: must be one of {', '.join(KINDS)} (got {_show(kind)})")
        return cls(
            check_id=msg.text("check_id"),
            target=msg.text("target"),
            kind=kind,
            trigger=msg.text("trigger"),
            correlation_id=msg.optional_text("correlation_id"),
            expected=msg.text("expected"),
            finding=_finding_from(msg.get("finding"), "finding"),
            scheduled=msg.optional_time("scheduled"),
            started=msg.time("started"),
            completed=msg.time("completed"),
            polls=msg.number("polls"),
            network_watcher=msg.optional_text("network_watcher"),
            source_resource_id=msg.text("source_resource_id"),
            destination=msg.optional_text("destination"),
            port=msg.optional_number("port", maximum=65535),
            protocol=msg.optional_text("protocol"),
            direction=msg.optional_text("direction"),
        )


# --------------------------------------------------------------------------- message form

_RESULT_FIELDS = (
    "version", "check_id", "target", "kind", "trigger", "correlation_id", "expected", "finding", "scheduled",
    "started", "completed", "polls", "network_watcher", "source_resource_id", "destination", "port", "protocol",
    "direction",
)
_FINDING_FIELDS = tuple(Finding.__dataclass_fields__)
_HOP_FIELDS = tuple(Hop.__dataclass_fields__)
_ISSUE_FIELDS = tuple(Issue.__dataclass_fields__)
_INT32 = 2**31 - 1


def _issue_message(issue: Issue) -> dict[str, Any]:
    return {"origin": issue.origin, "severity": issue.severity, "type": issue.type,
            "context": [[key, value] for key, value in issue.context]}


def _hop_message(hop: Hop) -> dict[str, Any]:
    return {"type": hop.type, "address": hop.address, "resource_id": hop.resource_id,
            "issues": [_issue_message(i) for i in hop.issues], "next_hop_ids": list(hop.next_hop_ids), "id": hop.id}


def _finding_message(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(finding, name) for name in _FINDING_FIELDS}
    data["hops"] = [_hop_message(h) for h in finding.hops]
    return data


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Fields:
    """One JSON object of a message: exact keys, no unknown ones, exact JSON types."""

    def __init__(self, data: Any, path: str, known: tuple[str, ...], required: tuple[str, ...] | None = None) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{path or 'message'}: must be an object (got {_show(data)})")
        self.path = path
        self.data = data
        for name in data:
            if name not in known:
                raise ValueError(f"{self.at(str(name))}: unknown field")
        for name in known if required is None else required:
            if name not in data:
                raise ValueError(f"{self.at(name)}: is required")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{self.at(key)}: must be a string or null (got {_show(value)})")
        return value

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{self.at(key)}: must be a non-empty string (got {_show(value)})")
        return value

    def optional_number(self, key: str, maximum: int = _INT32) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        # bool is an int subclass in Python but never a count in JSON.
        if type(value) is not int or not 0 <= value <= maximum:
            raise ValueError(f"{self.at(key)}: must be an integer 0..{maximum} or null (got {_show(value)})")
        return value

    def number(self, key: str) -> int:
        value = self.optional_number(key)
        if value is None:
            raise ValueError(f"{self.at(key)}: must be an integer (got null)")
        return value

    def optional_time(self, key: str) -> str | None:
        value = self.optional_text(key)
        if value is not None:
            try:
                parse_utc(value)
            except ValueError:
                raise ValueError(f"{self.at(key)}: must be an ISO-8601 UTC time (got {_show(value)})") from None
        return value

    def time(self, key: str) -> str:
        value = self.optional_time(key)
        if value is None:
            raise ValueError(f"{self.at(key)}: must be an ISO-8601 UTC time (got null)")
        return value

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise ValueError(f"{self.at(key)}: must be a list (got {_show(value)})")
        return value


def _pair(data: Any, path: str) -> tuple[str, str]:
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(x, str) for x in data)):
        raise ValueError(f"{path}: must be a [key, value] pair of strings (got {_show(data)})")
    return data[0], data[1]


def _issue_from(data: Any, path: str) -> Issue:
    f = _Fields(data, path, _ISSUE_FIELDS, required=("type",))
    context = f.items("context")
    return Issue(origin=f.optional_text("origin"), severity=f.optional_text("severity"), type=f.text("type"),
                 context=tuple(_pair(item, f"{f.at('context')}[{i}]") for i, item in enumerate(context)))


def _hop_from(data: Any, path: str) -> Hop:
    f = _Fields(data, path, _HOP_FIELDS, required=("type",))
    ids = f.items("next_hop_ids")
    for i, hop_id in enumerate(ids):
        if not isinstance(hop_id, str):
            raise ValueError(f"{f.at('next_hop_ids')}[{i}]: must be a string (got {_show(hop_id)})")
    return Hop(type=f.text("type"), address=f.optional_text("address"), resource_id=f.optional_text("resource_id"),
               issues=tuple(_issue_from(x, f"{f.at('issues')}[{i}]") for i, x in enumerate(f.items("issues"))),
               next_hop_ids=tuple(ids), id=f.optional_text("id"))


def _finding_from(data: Any, path: str) -> Finding:
    f = _Fields(data, path, _FINDING_FIELDS, required=("status",))
    return Finding(
        status=f.text("status"),
        latency_avg_ms=f.optional_number("latency_avg_ms"),
        latency_min_ms=f.optional_number("latency_min_ms"),
        latency_max_ms=f.optional_number("latency_max_ms"),
        probes_sent=f.optional_number("probes_sent"),
        probes_failed=f.optional_number("probes_failed"),
        hops=tuple(_hop_from(x, f"{f.at('hops')}[{i}]") for i, x in enumerate(f.items("hops"))),
        rule_name=f.optional_text("rule_name"),
        blocking_hop=f.optional_text("blocking_hop"),
        issue_type=f.optional_text("issue_type"),
        route_type=f.optional_text("route_type"),
        next_hop_ip=f.optional_text("next_hop_ip"),
        route_table_id=f.optional_text("route_table_id"),
        error_code=f.optional_text("error_code"),
        error_message=f.optional_text("error_message"),
        hops_omitted=f.optional_number("hops_omitted") or 0,
    )
