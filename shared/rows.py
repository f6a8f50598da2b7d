"""A CheckResult as a row of the Log Analytics table declared in ``infra/tables/checks.json``.

The columns are read from that file (the Bicep and the emulator read it too), and a test checks
that every row built here has exactly those columns with values of their types. Values that would
exceed the Logs Ingestion limits are cut on purpose, with a marker: a string over 64 KB would be
truncated by Azure silently, and a row over 1 MB would be refused whole.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from shared.results import CheckResult, Hop

TABLES = Path(__file__).resolve().parent.parent / "infra" / "tables"
MAX_FIELD_BYTES = 32 * 1024  # well under the 64 KB field limit, so a row stays far below 1 MB
_WATCHER_REGION = re.compile(r"/networkWatchers/NetworkWatcher_([A-Za-z0-9]+)$", re.IGNORECASE)


@cache
def table(name: str = "checks") -> dict[str, Any]:
    """The table file: ``table``, ``stream`` and ``columns`` [{name, type, description}]."""
    return dict(json.loads((TABLES / f"{name}.json").read_text()))


def cut_text(value: str | None) -> str | None:
    if value is None or len(value.encode()) <= MAX_FIELD_BYTES:
        return value
    kept = value.encode()[: MAX_FIELD_BYTES - 64].decode(errors="ignore")
    return f"{kept}…[truncated: {len(value.encode())} bytes]"


def cut_dynamic(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop trailing items until the JSON fits, and say how many were dropped."""
    kept = list(items)
    while kept and len(json.dumps(kept).encode()) > MAX_FIELD_BYTES:
        kept.pop()
    if len(kept) < len(items):
        kept.append({"truncated": len(items) - len(kept)})
    return kept


def _hop(hop: Hop) -> dict[str, Any]:
    return {"type": hop.type, "address": hop.address, "resourceId": hop.resource_id, "id": hop.id,
            "nextHopIds": list(hop.next_hop_ids),
            "issues": [{"origin": i.origin, "severity": i.severity, "type": i.type, "context": dict(i.context)}
                       for i in hop.issues]}


def check_row(result: CheckResult) -> dict[str, Any]:
    """The row of ``result``: every column of the checks table, None where it does not apply."""
    f = result.finding
    watcher = result.network_watcher
    region = _WATCHER_REGION.search(watcher or "")
    issues = [{"hop": hop.address, "origin": i.origin, "severity": i.severity, "type": i.type,
               "context": dict(i.context)} for hop in f.hops for i in hop.issues]
    return {
        "TimeGenerated": result.completed,
        "CheckId": result.check_id,
        "TargetName": result.target,
        "Kind": result.kind,
        "Status": f.status,
        "Expected": result.expected,
        "Healthy": result.healthy,
        "Trigger": result.trigger,
        "CorrelationId": result.correlation_id,
        "SourceResourceId": result.source_resource_id,
        "Destination": result.destination,
        "DestinationPort": result.port,
        "Protocol": result.protocol,
        "Direction": result.direction,
        "LatencyAvgMs": f.latency_avg_ms,
        "LatencyMinMs": f.latency_min_ms,
        "LatencyMaxMs": f.latency_max_ms,
        "ProbesSent": f.probes_sent,
        "ProbesFailed": f.probes_failed,
        "RuleName": f.rule_name,
        "BlockingHop": f.blocking_hop,
        "IssueType": f.issue_type,
        "RouteType": f.route_type,
        "NextHopIpAddress": f.next_hop_ip,
        "RouteTableId": f.route_table_id,
        "HopCount": len(f.hops) + f.hops_omitted if f.hops else None,
        "Hops": cut_dynamic([_hop(h) for h in f.hops]),
        "Issues": cut_dynamic(issues),
        "ErrorCode": f.error_code,
        "ErrorMessage": cut_text(f.error_message),
        "ScheduledTime": result.scheduled,
        "StartedTime": result.started,
        "DurationMs": result.duration_ms,
        "Polls": result.polls,
        "NetworkWatcher": watcher,
        "SubscriptionId": result.source_resource_id.split("/")[2] if result.source_resource_id.count("/") > 2
        else None,
        "Region": region.group(1).lower() if region else None,
    }
