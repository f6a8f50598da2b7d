"""``nwcheck status``: the alert state of every target, from the alerts table the app keeps.

Each target's state is read through ``shared.alerts.store.AlertStore``; a target has three alert
tracks (network, check-health, warning), and each track that is not idle is one line: firing,
or pending (unhealthy results counting towards the failure threshold). A target with every track
idle is one ``ok`` line. With a target list (``--targets`` or ``$TARGETS_PATH``), its targets never
checked are listed too, and the thresholds shown are theirs.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from shared.cli.common import (
    OK,
    add_output,
    add_storage,
    azure_errors,
    command,
    read_target_list,
    setting,
    table,
    use_storage,
)
from shared.target_list import TargetList
from shared.targets import AlertSettings

if TYPE_CHECKING:
    from shared.alerts.state import AlertState, Track
    from shared.alerts.store import AlertStore

HEADER = ("target", "state", "kind", "severity", "since", "last status", "why", "last check")
TRACKS = (("network", None), ("check_health", "check-health"), ("warning", "warning"))


def add_parser(sub: Any) -> None:
    p = command(
        sub, "status", help="the alert state of every target",
        description="Show the alert state of every target, read from the app's alerts table ($ALERTS_TABLE, "
        "default nwcheckalerts): which alerts fire, since when, their kind and severity, and the last "
        "unhealthy status with the hop, rule or route to blame; and the alert events still waiting for "
        "delivery.")
    p.add_argument("--targets", metavar="FILE",
                   help="also list the targets of this list never checked (default: $TARGETS_PATH if set)")
    p.add_argument("--table", metavar="NAME", help="the alerts table (default: $ALERTS_TABLE or nwcheckalerts)")
    add_storage(p)
    add_output(p)
    p.set_defaults(func=run)


def _store(table_name: str) -> AlertStore:
    from azure.data.tables import TableClient

    from shared import storage
    from shared.alerts.store import AlertStore
    from shared.cli.common import CONNECTION

    target, credential = storage.service_endpoint(CONNECTION, "table")
    client = (TableClient.from_connection_string(target, table_name) if credential is None
              else TableClient(endpoint=target, table_name=table_name, credential=credential))
    return AlertStore(client)


def _line(name: str, track: Track, alert: str, settings: AlertSettings | None, last: str | None) -> dict[str, Any]:
    from shared.alerts.state import SEVERITY

    if track.firing:
        state = "firing" if track.notified else "firing (silenced)"
        if track.successes:
            of = f"/{settings.success_threshold}" if settings else ""
            state += f", resolving {track.successes}{of}"
    else:
        threshold = (settings.check_health_threshold if alert == "check-health" else settings.failure_threshold) \
            if settings else None
        state = f"pending {track.failures}" + (f"/{threshold}" if threshold else "")
    bad = track.last_bad
    why = ""
    if bad is not None:
        blame = [("hop", bad.blocking_hop), ("rule", bad.rule_name), ("route", bad.route_type),
                 ("", bad.error_code)]
        why = " ".join(f"{label} {value}".strip() for label, value in blame if value)
    return {"target": name, "state": state, "firing": track.firing, "kind": alert, "severity": SEVERITY[alert],
            "since": track.first_seen, "lastStatus": bad.status if bad else None,
            "expected": bad.expected if bad else None, "why": why, "lastCheck": last}


def lines(states: list[AlertState], target_list: TargetList | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen = set()
    for state in sorted(states, key=lambda s: s.target.lower()):
        seen.add(state.target.lower())
        target = target_list.by_name(state.target) if target_list else None
        settings = target.alert if target else None
        active = [(getattr(state, attr), alert or getattr(state, attr).alert or "reachability")
                  for attr, alert in TRACKS if getattr(state, attr).failures or getattr(state, attr).firing]
        if not active:
            out.append({"target": state.target, "state": "ok", "firing": False, "kind": None, "severity": None,
                        "since": None, "lastStatus": None, "expected": None, "why": "",
                        "lastCheck": state.last_completed})
        for track, alert in active:
            out.append(_line(state.target, track, alert, settings, state.last_completed))
    for target in target_list.targets if target_list else ():
        if target.name.lower() not in seen:
            out.append({"target": target.name, "state": "never checked", "firing": False, "kind": None,
                        "severity": None, "since": None, "lastStatus": None, "expected": None, "why": "",
                        "lastCheck": None})
    return out


def run(args: argparse.Namespace) -> int:
    use_storage(args.connection_string)
    listed = args.targets or setting("TARGETS_PATH", "")
    target_list = read_target_list(listed) if listed else None
    name = args.table or setting("ALERTS_TABLE", "nwcheckalerts")
    with azure_errors(f"could not read the alerts table {name}"):
        store = _store(name)
        try:
            states = store.states()
            queued = store.queued()
        except Exception as exc:
            from azure.core.exceptions import ResourceNotFoundError

            if not isinstance(exc, ResourceNotFoundError):
                raise
            states, queued = [], []  # no table yet: no target was ever evaluated
    rows = lines(states, target_list)
    failing = [q for q in queued if q.attempts]
    if args.output == "json":
        print(json.dumps({"table": name, "targets": rows, "eventsWaiting": len(queued),
                          "deliveryFailures": [{"target": q.target, "attempts": q.attempts, "error": q.last_error}
                                               for q in failing]}, indent=2))
        return OK
    if not rows:
        print(f"no alert state in {name} yet: no result has been evaluated")
    else:
        print(table(HEADER, [(r["target"], r["state"], r["kind"] or "", r["severity"] or "", r["since"] or "",
                              f"{r['lastStatus']} (expected {r['expected']})" if r["lastStatus"] else "",
                              r["why"], r["lastCheck"] or "") for r in rows]))
    firing = sum(r["firing"] for r in rows)
    print(f"\n{firing} alert(s) firing; {len(queued)} alert event(s) waiting for delivery"
          + (f", {len(failing)} after failed attempts (last error: {failing[-1].last_error})" if failing else ""))
    return OK
