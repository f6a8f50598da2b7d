"""Check results for people: one table row per result, and the hop path of a connectivity check with
its blocking hop, and the rule or route to blame, marked."""

from __future__ import annotations

from typing import Any

from shared.cli.common import table
from shared.results import CheckResult, Hop, Issue

HEADER = ("target", "kind", "status", "expected", "as expected", "latency ms", "polls", "time s", "why")
BLOCKING = "<== blocking"
MAX_WHY = 160


def _short(resource_id: str | None) -> str:
    """The last segment of an ARM id (a route table's name); other text as it is."""
    if not resource_id:
        return ""
    return resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id.startswith("/") else resource_id


def verdict(result: CheckResult) -> str:
    return {True: "yes", False: "NO", None: "-"}[result.healthy]


def why(result: CheckResult) -> str:
    """The reason in one cell: what blocks a path, which rule decided, where traffic goes, or the error."""
    f = result.finding
    if f.error_code is not None or f.status in ("Error", "Timeout"):
        text = f"{f.error_code or f.status}: {f.error_message or ''}".strip()
    elif result.kind == "connectivity":
        blame = [("hop", f.blocking_hop), ("", f.issue_type), ("rule", f.rule_name), ("route", f.route_type)]
        text = " ".join(f"{label} {value}".strip() for label, value in blame if value)
    elif result.kind == "ipFlow":
        text = f"rule {f.rule_name}" if f.rule_name else ""
    else:
        parts = [f"next hop {f.next_hop_ip}" if f.next_hop_ip else "",
                 f"route table {_short(f.route_table_id)}" if f.route_table_id else ""]
        text = ", ".join(p for p in parts if p)
    return text if len(text) <= MAX_WHY else text[:MAX_WHY - 3] + "..."


def row(result: CheckResult) -> tuple[str, ...]:
    f = result.finding
    latency = ("/".join("" if v is None else str(v) for v in (f.latency_avg_ms, f.latency_min_ms, f.latency_max_ms))
               if f.latency_avg_ms is not None else "")
    return (result.target, result.kind, f.status, result.expected, verdict(result), latency, str(result.polls),
            f"{result.duration_ms / 1000:.1f}", why(result))


def results_table(results: list[CheckResult]) -> str:
    return table(HEADER, [row(r) for r in results])


def _issue(issue: Issue) -> str:
    """``NetworkSecurityRule rule UserRule_Port80 (Outbound, Error)``."""
    labels = {"rulename": "rule", "routetype": "route"}
    context = " ".join(f"{labels.get(key.lower(), key + '=')}{' ' if key.lower() in labels else ''}{value}"
                       for key, value in issue.context)
    extra = ", ".join(x for x in (issue.origin, issue.severity) if x)
    return " ".join(x for x in (issue.type, context, f"({extra})" if extra else "") if x)


def _blocking_index(hops: tuple[Hop, ...]) -> int | None:
    """The first hop with a blocking issue, the one the finding names (see shared/checks/connectivity)."""
    for index, hop in enumerate(hops):
        if any(issue.blocking for issue in hop.issues):
            return index
    return None


def hop_path(result: CheckResult) -> str:
    """The hops of a connectivity result, one a line, the blocking one marked ``>>`` and ``<== blocking``."""
    f = result.finding
    where = f"{_short(result.source_resource_id)} -> {_short(result.destination)}"
    where += f":{result.port}" if result.port else ""
    lines = [f"{result.target}: {f.status}, expected {result.expected} ({where})"]
    if not f.hops:
        lines.append("  (no hops reported)")
        return "\n".join(lines)
    blocking = _blocking_index(f.hops)
    rows = []
    for index, hop in enumerate(f.hops):
        issues = "; ".join(_issue(issue) for issue in hop.issues)
        mark = ">>" if index == blocking else ""
        if index == blocking:
            issues += f"  {BLOCKING}"
        rows.append((mark, str(index + 1), hop.type, hop.address or "", issues))
    body = table(("", "#", "hop", "address", "issues"), rows)
    lines += ["  " + line for line in body.splitlines()]
    if f.hops_omitted:
        lines.append(f"  ... and {f.hops_omitted} more hop(s) not kept")
    return "\n".join(lines)


def result_json(result: CheckResult) -> dict[str, Any]:
    """The result's queue message form (the documented contract), with the verdict beside it."""
    return {**result.to_message(), "healthy": result.healthy}
