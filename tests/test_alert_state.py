"""The alert state machine, table-driven with an injected clock.

Each case is a sequence of results, one a line: ``"<minute> <status>[:<latency ms>] [silenced]"``,
each checked (and evaluated) at that minute after T0, and the events each one raises, written
``"<kind> <alert>"`` with ``" (silenced)"`` for events held back, joined by "; ".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.alerts.state import MAX_CHECK_IDS, AlertEvent, AlertState, evaluate
from shared.results import CheckResult, Finding, error_finding, format_utc, timeout_finding
from shared.targets import AlertSettings
from tests.test_results import BLOCKED, VM

T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


def finding(status: str, latency: int | None = None) -> Finding:
    if status == "Unreachable":
        return BLOCKED
    if status == "Error":
        return error_finding("AuthorizationFailed", "The client does not have authorization")
    if status == "Timeout":
        return timeout_finding("the operation did not finish in 120 s")
    return Finding(status=status, latency_avg_ms=latency)


def result(status: str, minute: float = 0, *, expected: str = "Reachable", latency: int | None = None,
           check_id: str | None = None, kind: str = "connectivity") -> CheckResult:
    completed = T0 + dt.timedelta(minutes=minute)
    return CheckResult(
        check_id=check_id or f"app-to-db@{minute:g}", target="app-to-db", kind=kind, trigger="schedule",
        correlation_id=None, expected=expected, finding=finding(status, latency),
        scheduled=format_utc(completed - dt.timedelta(seconds=3)),
        started=format_utc(completed - dt.timedelta(seconds=3)), completed=format_utc(completed), polls=1,
        network_watcher=None, source_resource_id=VM, destination="Database0", port=80, protocol="Tcp",
        direction=None)


def run(lines: list[str], settings: AlertSettings, expected: str = "Reachable",
        kind: str = "connectivity") -> tuple[list[str], list[list[AlertEvent]], AlertState | None]:
    state: AlertState | None = None
    shown: list[str] = []
    raised: list[list[AlertEvent]] = []
    for line in lines:
        minute, status, *flags = line.split()
        status, _, latency = status.partition(":")
        r = result(status, float(minute), expected=expected, latency=int(latency) if latency else None, kind=kind)
        state, events = evaluate(state, r, settings, now=T0 + dt.timedelta(minutes=float(minute), seconds=5),
                                 silenced="silenced" in flags)
        raised.append(events)
        shown.append("; ".join(f"{e.kind} {e.alert}" + (" (silenced)" if e.silenced else "") for e in events))
    return shown, raised, state


DEFAULT = AlertSettings()
# (name, settings, expect, results, events per result)
CASES: list[tuple[str, AlertSettings, str, list[str], list[str]]] = [
    # --- thresholds
    ("one unhealthy result is not enough", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Reachable"], ["", ""]),
    ("two unhealthy in a row fire, once", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Unreachable", "10 Unreachable"], ["", "Fired reachability", ""]),
    ("failure threshold 3", AlertSettings(failure_threshold=3), "Reachable",
     ["0 Unreachable", "5 Unreachable", "10 Unreachable"], ["", "", "Fired reachability"]),
    ("failure threshold 1 fires at once", AlertSettings(failure_threshold=1), "Reachable",
     ["0 Unreachable"], ["Fired reachability"]),
    ("two healthy in a row resolve", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Unreachable", "10 Reachable", "15 Reachable", "20 Reachable"],
     ["", "Fired reachability", "", "Resolved reachability", ""]),
    ("success threshold 3", AlertSettings(success_threshold=3), "Reachable",
     ["0 Unreachable", "5 Unreachable", "10 Reachable", "15 Reachable", "20 Reachable"],
     ["", "Fired reachability", "", "", "Resolved reachability"]),
    ("Deny where Allow is expected", DEFAULT, "Allow",
     ["0 Deny", "5 Deny", "10 Allow", "15 Allow"], ["", "Fired reachability", "", "Resolved reachability"]),
    # --- flapping
    ("a target that flaps never fires", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Reachable", "10 Unreachable", "15 Reachable", "20 Unreachable", "25 Reachable"],
     ["", "", "", "", "", ""]),
    ("a fired alert that flaps stays fired until it is steady", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Unreachable", "10 Reachable", "15 Unreachable", "20 Reachable", "25 Unreachable",
      "30 Reachable", "35 Reachable"],
     ["", "Fired reachability", "", "", "", "", "", "Resolved reachability"]),
    # --- reminders (repeat every 30 minutes; results every 10)
    ("reminders while firing, counted from the last notification", AlertSettings(repeat_interval_s=1800),
     "Reachable",
     ["0 Unreachable", "10 Unreachable", "20 Unreachable", "30 Unreachable", "40 Unreachable", "50 Unreachable",
      "60 Unreachable", "70 Unreachable", "80 Reachable", "90 Reachable"],
     ["", "Fired reachability", "", "", "Reminder reachability", "", "", "Reminder reachability", "",
      "Resolved reachability"]),
    ("a reminder waits for an unhealthy result", AlertSettings(repeat_interval_s=1800), "Reachable",
     ["0 Unreachable", "10 Unreachable", "40 Reachable", "50 Unreachable"],
     ["", "Fired reachability", "", "Reminder reachability"]),
    # --- must stay closed: security, Sev1
    ("a port that must stay closed is open", DEFAULT, "Deny",
     ["0 Allow", "5 Allow", "10 Deny", "15 Deny"], ["", "Fired security", "", "Resolved security"]),
    ("a path that must stay unreachable is reachable, even degraded", DEFAULT, "Unreachable",
     ["0 Reachable", "5 Degraded", "10 Unreachable", "15 Unreachable"],
     ["", "Fired security", "", "Resolved security"]),
    ("another next hop than expected", DEFAULT, "VirtualAppliance",
     ["0 Internet", "5 Internet", "10 VirtualAppliance", "15 VirtualAppliance"],
     ["", "Fired reachability", "", "Resolved reachability"]),
    # --- could not tell: check-health only, after its own threshold (3)
    ("errors never fire a reachability alert; a check-health alert after three", DEFAULT, "Reachable",
     ["0 Error", "5 Timeout", "10 Unknown", "15 Error", "20 Reachable", "25 Reachable"],
     ["", "", "Fired check-health", "", "", "Resolved check-health"]),
    ("check-health threshold 1", AlertSettings(check_health_threshold=1), "Allow",
     ["0 Timeout", "5 Allow", "10 Allow"], ["Fired check-health", "", "Resolved check-health"]),
    ("a could-not-tell neither counts nor breaks a run of unhealthy results", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Error", "10 Unreachable"], ["", "", "Fired reachability"]),
    ("a could-not-tell never resolves: a silent probe is not a healthy path", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Unreachable", "10 Reachable", "15 Error", "20 Timeout", "25 Error", "30 Reachable"],
     ["", "Fired reachability", "", "", "", "Fired check-health", "Resolved reachability"]),
    ("no reminder on a could-not-tell", AlertSettings(repeat_interval_s=600, check_health_threshold=5),
     "Reachable",
     ["0 Unreachable", "5 Unreachable", "20 Error", "30 Unreachable"],
     ["", "Fired reachability", "", "Reminder reachability"]),
    # --- warnings, Sev4: Degraded, or slower than the latency threshold
    ("degraded is a warning, not an outage", DEFAULT, "Reachable",
     ["0 Degraded", "5 Degraded", "10 Reachable", "15 Reachable"], ["", "Fired warning", "", "Resolved warning"]),
    ("slow is a warning when there is a threshold", AlertSettings(latency_threshold_ms=200), "Reachable",
     ["0 Reachable:350", "5 Reachable:201", "10 Reachable:200", "15 Reachable:20"],
     ["", "Fired warning", "", "Resolved warning"]),
    ("no threshold, no latency warning", DEFAULT, "Reachable",
     ["0 Reachable:9000", "5 Reachable:9000"], ["", ""]),
    ("degraded after an outage resolves it and starts a warning", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Unreachable", "10 Degraded", "15 Degraded", "20 Unreachable", "25 Reachable",
      "30 Reachable"],
     ["", "Fired reachability", "", "Resolved reachability; Fired warning", "", "", "Resolved warning"]),
    # --- silences: the state moves, notifications are held back
    ("fired in a silence: recorded, sent when the silence is over", DEFAULT, "Reachable",
     ["0 Unreachable silenced", "5 Unreachable silenced", "10 Unreachable silenced", "15 Unreachable",
      "20 Unreachable"],
     ["", "Fired reachability (silenced)", "", "Fired reachability", ""]),
    ("fired and resolved within a silence: nothing to send", DEFAULT, "Reachable",
     ["0 Unreachable silenced", "5 Unreachable silenced", "10 Reachable silenced", "15 Reachable silenced",
      "20 Reachable"],
     ["", "Fired reachability (silenced)", "", "Resolved reachability (silenced)", ""]),
    ("a notified alert that resolves in a silence is resolved for its receivers", DEFAULT, "Reachable",
     ["0 Unreachable", "5 Unreachable", "10 Reachable silenced", "15 Reachable silenced"],
     ["", "Fired reachability", "", "Resolved reachability"]),
    ("no reminders in a silence; the one due goes out after it", AlertSettings(repeat_interval_s=1800),
     "Reachable",
     ["0 Unreachable", "10 Unreachable", "40 Unreachable silenced", "50 Unreachable silenced", "60 Unreachable"],
     ["", "Fired reachability", "", "", "Reminder reachability"]),
    ("the overdue Fired goes out on the next result even if it is healthy", DEFAULT, "Reachable",
     ["0 Unreachable silenced", "5 Unreachable silenced", "10 Reachable", "15 Reachable"],
     ["", "Fired reachability (silenced)", "Fired reachability", "Resolved reachability"]),
    ("the overdue Fired goes out on a could-not-tell too", DEFAULT, "Reachable",
     ["0 Unreachable silenced", "5 Unreachable silenced", "10 Error"],
     ["", "Fired reachability (silenced)", "Fired reachability"]),
    ("check-health alerts are silenced alike", DEFAULT, "Reachable",
     ["0 Error silenced", "5 Error silenced", "10 Error silenced", "15 Error"],
     ["", "", "Fired check-health (silenced)", "Fired check-health"]),
]


@pytest.mark.parametrize(("settings", "expect", "lines", "events"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_state_machine(settings: AlertSettings, expect: str, lines: list[str], events: list[str]) -> None:
    kind = "ipFlow" if expect in ("Allow", "Deny") else "nextHop" if expect == "VirtualAppliance" else "connectivity"
    shown, _, _ = run(lines, settings, expect, kind)
    assert shown == events


# --------------------------------------------------------------------------- what an event says


def test_a_fired_event_names_target_status_expectation_hop_rule_times_checks_and_severity() -> None:
    _, raised, _ = run(["0 Unreachable", "5 Unreachable"], DEFAULT)
    (fired,) = raised[1]
    assert fired == AlertEvent(
        event_id="app-to-db/reachability/2026-11-22T10:00:00.000Z/Fired", kind="Fired", alert="reachability",
        target="app-to-db", status="Unreachable", expected="Reachable", severity="Sev2", blocking_hop="10.1.3.4",
        rule_name="UserRule_Port80", route_type=None, issue_type="NetworkSecurityRule",
        first_seen="2026-11-22T10:00:00.000Z", last_seen="2026-11-22T10:05:00.000Z",
        check_ids=("app-to-db@0", "app-to-db@5"), at="2026-11-22T10:05:05.000Z", silenced=False)
    assert fired.summary == ("Sev2 reachability Fired: app-to-db: Unreachable, expected Reachable "
                             "(hop 10.1.3.4, rule UserRule_Port80)")


def test_severities_and_summaries_of_each_alert() -> None:
    _, security, _ = run(["0 Allow", "5 Allow"], DEFAULT, "Deny", "ipFlow")
    _, health, _ = run(["0 Error", "5 Error", "10 Error"], DEFAULT)
    _, warning, _ = run(["0 Reachable:300", "5 Reachable:310"], AlertSettings(latency_threshold_ms=200))
    assert [(e.severity, e.summary) for e in (security[1][0], health[2][0], warning[1][0])] == [
        ("Sev1", "Sev1 security Fired: app-to-db: Allow, expected Deny; a path that must stay closed is open"),
        ("Sev3", "Sev3 check-health Fired: app-to-db: the check could not tell: Error AuthorizationFailed"),
        ("Sev4", "Sev4 warning Fired: app-to-db: Reachable, 310 ms on average"),
    ]
    assert health[2][0].error_message == "The client does not have authorization"


def test_resolved_describes_the_result_that_resolved_and_the_whole_episode() -> None:
    _, raised, _ = run(["0 Unreachable", "5 Unreachable", "10 Reachable", "15 Reachable"], DEFAULT)
    (resolved,) = raised[3]
    assert (resolved.status, resolved.blocking_hop, resolved.rule_name, resolved.severity) == (
        "Reachable", None, None, "Sev2")
    assert (resolved.first_seen, resolved.last_seen) == ("2026-11-22T10:00:00.000Z", "2026-11-22T10:05:00.000Z")
    assert resolved.check_ids == ("app-to-db@0", "app-to-db@5", "app-to-db@10", "app-to-db@15")
    assert resolved.event_id == "app-to-db/reachability/2026-11-22T10:00:00.000Z/Resolved"
    assert resolved.summary == "Sev2 reachability Resolved: app-to-db: now Reachable (expected Reachable)"


def test_event_ids_are_stable_per_episode_and_numbered_per_reminder() -> None:
    lines = ["0 Unreachable silenced", "5 Unreachable silenced", "10 Unreachable", "45 Unreachable",
             "80 Unreachable", "85 Reachable", "90 Reachable", "95 Unreachable", "100 Unreachable"]
    _, raised, _ = run(lines, AlertSettings(repeat_interval_s=1800))
    ids = [e.event_id for events in raised for e in events]
    episode = "app-to-db/reachability/2026-11-22T10:00:00.000Z"
    second = "app-to-db/reachability/2026-11-22T11:35:00.000Z"
    assert ids == [f"{episode}/Fired", f"{episode}/Fired", f"{episode}/Reminder-1", f"{episode}/Reminder-2",
                   f"{episode}/Resolved", f"{second}/Fired"]
    assert [e.event_id for events in run(lines, AlertSettings(repeat_interval_s=1800))[1] for e in events] == ids


def test_an_episode_keeps_its_most_recent_check_ids() -> None:
    _, raised, _ = run([f"{m} Unreachable" for m in range(0, 5 * 30, 5)], AlertSettings(repeat_interval_s=60))
    last = raised[-1][-1]
    assert last.kind == "Reminder" and len(last.check_ids) == MAX_CHECK_IDS
    assert last.check_ids[-1] == "app-to-db@145" and last.first_seen == "2026-11-22T10:00:00.000Z"


# --------------------------------------------------------------------------- idempotency


def test_a_redelivered_or_older_result_changes_nothing() -> None:
    first, second = result("Unreachable", 0), result("Unreachable", 5)
    state, _ = evaluate(None, first, DEFAULT, now=T0, silenced=False)
    state, events = evaluate(state, second, DEFAULT, now=T0, silenced=False)
    assert [e.kind for e in events] == ["Fired"]
    for again in (second, first, result("Reachable", 4, check_id="late")):
        same, events = evaluate(state, again, DEFAULT, now=T0 + dt.timedelta(hours=5), silenced=False)
        assert same is state and events == []
    # the same completed time with another check id is another result
    tied, _ = evaluate(state, result("Reachable", 5, check_id="tied"), DEFAULT, now=T0, silenced=False)
    assert tied.network.successes == 1


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(None, result("Reachable"), DEFAULT, now=dt.datetime(2026, 11, 22), silenced=False)


# --------------------------------------------------------------------------- serialized forms


def test_state_survives_json_as_the_store_keeps_it() -> None:
    _, _, state = run(["0 Unreachable", "5 Unreachable", "10 Degraded", "15 Error"], DEFAULT)
    assert state is not None and state.network.firing and state.network.successes == 1
    assert state.check_health.failures == 1 and state.warning.failures == 1
    assert AlertState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


@pytest.mark.parametrize("data", [None, [], {"version": 2}, {"version": 1}, {**AlertState("t").to_dict(), "target": 5},
                                  {**AlertState("t").to_dict(), "network": {"failures": 1}}])
def test_unreadable_state_is_a_value_error(data: Any) -> None:
    with pytest.raises(ValueError, match="alert state"):
        AlertState.from_dict(data)


def test_event_message_round_trips_and_is_checked() -> None:
    _, raised, _ = run(["0 Unreachable", "5 Unreachable"], DEFAULT)
    event = raised[1][0]
    message = json.loads(json.dumps(event.to_message()))
    assert message["version"] == 1 and message["summary"] == event.summary
    assert AlertEvent.from_message(message) == event
    for change, error in (({"kind": "Pending"}, "kind must be"), ({"silenced": 0}, "silenced must be bool"),
                          ({"check_ids": "x"}, "check_ids must be"), ({"target": None}, "target must be str"),
                          ({"version": 7}, "not a version 1")):
        with pytest.raises(ValueError, match=error):
            AlertEvent.from_message({**message, **change})


# --------------------------------------------------------------------------- properties

STATUSES = st.sampled_from(["Reachable", "Unreachable", "Degraded", "Error", "Timeout", "Unknown"])


@given(st.lists(st.tuples(STATUSES, st.booleans(), st.integers(1, 240)), max_size=40),
       st.integers(1, 4), st.integers(1, 4))
def test_properties_of_any_sequence(steps: list[tuple[str, bool, int]], fail: int, ok: int) -> None:
    settings = AlertSettings(failure_threshold=fail, success_threshold=ok, repeat_interval_s=3600)
    state: AlertState | None = None
    minute = 0
    sent: dict[str, list[str]] = {}
    held: set[str] = set()
    for status, silenced, gap in steps:
        minute += gap
        state, events = evaluate(state, result(status, minute), settings, now=T0 + dt.timedelta(minutes=minute),
                                 silenced=silenced)
        for e in events:
            if status in ("Error", "Timeout", "Unknown") and e.alert == "reachability":
                # a could-not-tell moves no network alert; it may only carry out a Fired held back
                assert e.kind == "Fired" and not e.silenced and e.event_id in held
            if e.silenced:
                held.add(e.event_id)
            else:
                sent.setdefault(e.alert, []).append(e.kind)
            assert e.severity == {"reachability": "Sev2", "check-health": "Sev3", "warning": "Sev4"}[e.alert]
    for kinds in sent.values():
        # receivers see Fired, (Reminder)*, Resolved, Fired, ...: never an end without a start
        opened = False
        for kind in kinds:
            assert (kind == "Fired") != opened, kinds
            opened = kind != "Resolved"


@given(st.lists(st.sampled_from(["Unreachable", "Error"]), min_size=1, max_size=30))
def test_a_flapping_target_never_fires(bad: list[str]) -> None:
    # unhealthy (or could-not-tell) and healthy results taking turns: no network alert, ever
    lines = [f"{i * 10} {status}" for i, status in enumerate(bad)]
    lines = [line for pair in zip(lines, [f"{i * 10 + 5} Reachable" for i in range(len(bad))], strict=True)
             for line in pair]
    shown, _, _ = run(lines, DEFAULT)
    assert not any("reachability" in s for s in shown)


def test_settings_from_a_target_are_the_defaults_documented() -> None:
    assert dataclasses.astuple(DEFAULT) == (2, 2, 4 * 3600, None, 3)
