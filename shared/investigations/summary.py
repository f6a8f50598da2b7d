"""One investigation's summary: what was checked, what failed, and the hop, rule or route to blame.

Built from the investigation's record and the compact result of each of its checks (``compact``),
as a row of ``infra/tables/investigations.json``: one sentence for people, and the same as fields
for queries and workbooks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.results import CheckResult, format_utc, parse_utc
from shared.rows import check_row

CHECK_FAILED = ("Error", "Timeout", "Unknown")  # the check could not say; not a finding about the network
_COMPACT = ("CheckId", "TargetName", "Kind", "Status", "Expected", "Healthy", "Direction", "Destination",
            "DestinationPort", "BlockingHop", "RuleName", "IssueType", "RouteType", "NextHopIpAddress",
            "RouteTableId", "ErrorCode", "ErrorMessage")


def compact(result: CheckResult) -> dict[str, Any]:
    """The fields of a check's row that a summary needs (the full row is in NetworkWatcherCheck_CL)."""
    row = check_row(result)
    return {key: row.get(key) for key in _COMPACT}


@dataclass(frozen=True)
class Planned:
    check_id: str
    target: str
    role: str  # target | ipflow-out | ipflow-in | next-hop
    kind: str


@dataclass(frozen=True)
class Record:
    """What the webhook stored when it accepted the investigation."""

    investigation_id: str
    trigger: str  # alert | request
    alert_id: str | None
    alert_rule: str | None
    severity: str | None
    monitor_condition: str | None
    alert_target_ids: tuple[str, ...]
    targets: tuple[str, ...]
    checks: tuple[Planned, ...]
    started: str  # ISO-8601 UTC


@dataclass(frozen=True)
class Blame:
    check: str
    hop: str | None = None
    rule: str | None = None
    issue: str | None = None
    route_type: str | None = None
    route_table: str | None = None

    def words(self) -> str:
        parts = []
        if self.hop:
            parts.append(f"at hop {self.hop}")
        if self.rule:
            parts.append(f"by NSG rule {self.rule}")
        if self.route_type:
            table = f" of {self.route_table.rsplit('/', 1)[-1]}" if self.route_table else ""
            parts.append(f"by a route{table} with next hop {self.route_type}")
        if self.issue and not self.rule and not self.route_type:
            parts.append(f"({self.issue})")
        return " ".join(parts)


def _blame_in(row: Mapping[str, Any], role: str) -> Blame | None:
    """What one check's result blames, if anything."""
    name = str(row.get("TargetName"))
    if role in ("target",) and (row.get("BlockingHop") or row.get("RuleName") or row.get("RouteType") == "None"):
        return Blame(name, hop=row.get("BlockingHop"), rule=row.get("RuleName"), issue=row.get("IssueType"),
                     route_type=row.get("RouteType") if row.get("Kind") == "nextHop" else None,
                     route_table=row.get("RouteTableId"))
    if role.startswith("ipflow") and row.get("Status") == "Deny" and row.get("RuleName"):
        return Blame(name, rule=row.get("RuleName"), issue=f"{row.get('Direction')} flow denied")
    if role == "next-hop" and row.get("Status") == "None":
        return Blame(name, route_type="None", route_table=row.get("RouteTableId"))
    return None


def summarize(record: Record, results: Mapping[str, Mapping[str, Any]], now: dt.datetime) -> dict[str, Any]:
    """The row for NetworkWatcherInvestigation_CL; ``results`` maps check id → ``compact`` result."""
    own = {p.target: p for p in record.checks if p.role == "target"}
    failed_targets: list[str] = []
    unsure_targets: list[str] = []
    blame: Blame | None = None
    blamed_target: str | None = None
    for name in record.targets:
        row = results.get(own[name].check_id) if name in own else None
        if row is None or row.get("Status") in CHECK_FAILED:
            unsure_targets.append(name)
            continue
        if row.get("Healthy"):
            continue
        failed_targets.append(name)
        if blame is None:
            related = [p for p in record.checks if p.target == name]
            for planned in related:  # the target's own result first, then its diagnostics in order
                found = results.get(planned.check_id)
                if found is not None and (blame := _blame_in(found, planned.role)) is not None:
                    blamed_target = name
                    break
    checks = [_check_item(p, results.get(p.check_id)) for p in record.checks]
    missing = sum(1 for p in record.checks if p.check_id not in results)
    failed = sum(1 for p in record.checks if p.check_id in results and not results[p.check_id].get("Healthy"))
    verdict = "Blocked" if failed_targets else "Inconclusive" if unsure_targets else "Healthy"
    started = parse_utc(record.started)
    return {
        "TimeGenerated": format_utc(now),
        "InvestigationId": record.investigation_id,
        "Trigger": record.trigger,
        "AlertId": record.alert_id,
        "AlertRule": record.alert_rule,
        "Severity": record.severity,
        "MonitorCondition": record.monitor_condition,
        "AlertTargetIds": list(record.alert_target_ids),
        "Targets": list(record.targets),
        "Verdict": verdict,
        "Summary": _sentence(record, results, own, failed_targets, unsure_targets, blame, blamed_target, missing),
        "BlockingTarget": blame.check if blame else None,
        "BlockingHop": blame.hop if blame else None,
        "RuleName": blame.rule if blame else None,
        "IssueType": blame.issue if blame else None,
        "RouteType": blame.route_type if blame else None,
        "RouteTableId": blame.route_table if blame else None,
        "ChecksTotal": len(record.checks),
        "ChecksFailed": failed,
        "ChecksMissing": missing,
        "Checks": checks,
        "StartedTime": record.started,
        "DurationMs": max(0, int((now - started).total_seconds() * 1000)),
    }


def _check_item(planned: Planned, row: Mapping[str, Any] | None) -> dict[str, Any]:
    item: dict[str, Any] = {"checkId": planned.check_id, "target": planned.target, "role": planned.role,
                            "kind": planned.kind}
    if row is None:
        item["status"] = "Missing"
        return item
    item.update(status=row.get("Status"), expected=row.get("Expected"), healthy=row.get("Healthy"))
    for key, name in (("BlockingHop", "blockingHop"), ("RuleName", "ruleName"), ("RouteType", "routeType"),
                      ("ErrorCode", "errorCode")):
        if row.get(key):
            item[name] = row[key]
    return item


def _sentence(record: Record, results: Mapping[str, Mapping[str, Any]], own: Mapping[str, Planned],
              failed: Sequence[str], unsure: Sequence[str], blame: Blame | None, blamed: str | None,
              missing: int) -> str:
    total = len(record.targets)
    about = f"{len(record.checks)} checks of {total} target{'s' if total != 1 else ''}"
    if failed:
        first = blamed or failed[0]
        row = results[own[first].check_id]
        because = f", {blame.words()}" if blame and blame.words() else ", and no check named a hop, rule or route"
        lead = (f"{first} is {row.get('Status')} (expected {row.get('Expected')}){because}"
                if blame is None or blame.check == first else
                f"{first} is {row.get('Status')} (expected {row.get('Expected')}); {blame.check}{because}")
        return f"{lead}; {len(failed)} of {total} failed ({about})."
    if unsure:
        reasons = []
        for name in unsure:
            found = results.get(own[name].check_id) if name in own else None
            reasons.append(f"{name}: {found.get('Status')} {found.get('ErrorCode') or ''}".strip() if found
                           else f"{name}: no result")
        return f"Inconclusive: {len(unsure)} of {total} could not be checked ({'; '.join(reasons)}) ({about})."
    tail = f", {missing} without a result" if missing else ""
    return f"Every target is as expected ({about}{tail}): the paths checked are not what the alert is about."
