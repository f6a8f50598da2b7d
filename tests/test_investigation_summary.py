"""The investigation summary: the verdict, the blame and the sentence, from the checks' results."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shared.investigations.summary import Planned, Record, summarize

NOW = dt.datetime(2026, 11, 22, 10, 0, 30, tzinfo=dt.UTC)
CHECKS = (Planned("inv-1-00", "web", "target", "connectivity"), Planned("inv-1-01", "web", "ipflow-out", "ipFlow"),
          Planned("inv-1-02", "web", "ipflow-in", "ipFlow"), Planned("inv-1-03", "web", "next-hop", "nextHop"))
RECORD = Record("inv-1", "alert", "/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/1", "cpu", "Sev3",
                "Fired", ("/subscriptions/x/resourcegroups/rg/providers/microsoft.compute/virtualmachines/db",),
                ("web",), CHECKS, "2026-11-22T10:00:00.000Z")


def row(name: str, kind: str, status: str, expected: str, **fields: Any) -> dict[str, Any]:
    return {"TargetName": name, "Kind": kind, "Status": status, "Expected": expected,
            "Healthy": status == expected, **fields}


REACHABLE = row("web", "connectivity", "Reachable", "Reachable")
UNREACHABLE = row("web", "connectivity", "Unreachable", "Reachable")
ALLOW_OUT = row("web.flow-out", "ipFlow", "Allow", "Allow", Direction="Outbound")
ALLOW_IN = row("web.flow-in", "ipFlow", "Allow", "Allow", Direction="Inbound")
DENY_IN = row("web.flow-in", "ipFlow", "Deny", "Allow", Direction="Inbound", RuleName="securityRules/DenyWeb")
LOCAL = row("web.next-hop", "nextHop", "VnetLocal", "VnetLocal")
DROPPED = row("web.next-hop", "nextHop", "None", "VnetLocal", RouteType="None",
              RouteTableId="/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt")

CASES = [
    ("own result names hop and rule",
     [UNREACHABLE | {"BlockingHop": "10.1.3.4", "RuleName": "UserRule_Port80", "IssueType": "NetworkSecurityRule"},
      ALLOW_OUT, ALLOW_IN, LOCAL],
     "Blocked", {"BlockingHop": "10.1.3.4", "RuleName": "UserRule_Port80", "BlockingTarget": "web"},
     "web is Unreachable (expected Reachable), at hop 10.1.3.4 by NSG rule UserRule_Port80"),
    ("an inbound deny explains it", [UNREACHABLE, ALLOW_OUT, DENY_IN, LOCAL],
     "Blocked", {"RuleName": "securityRules/DenyWeb", "BlockingTarget": "web.flow-in"},
     "web.flow-in, by NSG rule securityRules/DenyWeb"),
    ("a dropping route explains it", [UNREACHABLE, ALLOW_OUT, ALLOW_IN, DROPPED],
     "Blocked", {"RouteType": "None", "BlockingTarget": "web.next-hop"}, "by a route of rt with next hop None"),
    ("nothing named", [UNREACHABLE, ALLOW_OUT, ALLOW_IN, LOCAL], "Blocked", {"RuleName": None},
     "no check named a hop, rule or route"),
    ("all as expected", [REACHABLE, ALLOW_OUT, ALLOW_IN, LOCAL], "Healthy", {"ChecksFailed": 0},
     "Every target is as expected"),
    ("the check could not run", [row("web", "connectivity", "Error", "Reachable", ErrorCode="VmNotRunning"),
                                 ALLOW_OUT, ALLOW_IN, LOCAL],
     "Inconclusive", {"RuleName": None}, "web: Error VmNotRunning"),
    ("missing at the deadline", [None, ALLOW_OUT, ALLOW_IN, None], "Inconclusive", {"ChecksMissing": 2},
     "web: no result"),
]


@pytest.mark.parametrize(("case", "rows", "verdict", "fields", "words"), CASES, ids=[c[0] for c in CASES])
def test_summary(case: str, rows: list[dict[str, Any] | None], verdict: str, fields: dict[str, Any],
                 words: str) -> None:
    results = {c.check_id: r for c, r in zip(CHECKS, rows, strict=True) if r is not None}
    summary = summarize(RECORD, results, NOW)
    assert summary["Verdict"] == verdict
    for key, value in fields.items():
        assert summary[key] == value, key
    assert words in summary["Summary"], summary["Summary"]
    assert summary["ChecksTotal"] == 4 and summary["DurationMs"] == 30_000
    assert [c["status"] for c in summary["Checks"]] == [r["Status"] if r else "Missing" for r in rows]
