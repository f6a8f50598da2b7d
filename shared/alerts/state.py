"""The alert state machine: one target's state and one result in; its next state and the events it
raised out. Pure: no I/O, and ``now`` is a parameter, so every rule is a table-driven test.

Each target has three tracks, one per alert family; a result is unhealthy (U), healthy (H) or
neither (-, the track ignores it: it neither counts nor breaks a run) for each:

=================================  ===========  ============  =======
result                             network      check-health  warning
=================================  ===========  ============  =======
Error, Timeout, Unknown            -            U             -
status == expect                   H            H             H (U if slower than the threshold)
Degraded, expect Reachable         H            H             U
Unreachable, expect Reachable      U            H             -
open where it must stay closed     U security   H             -
any other status != expect         U            H             -
=================================  ===========  ============  =======

"Open where it must stay closed": expect Unreachable or Deny, found Reachable, Degraded or Allow.
Every other network alert is a ``reachability`` alert (Unreachable, Deny, another next hop).

Per track:

- **Fired** when ``failure_threshold`` unhealthy results come in a row (check-health:
  ``check_health_threshold``). A healthy result before that starts over: a target that flaps
  never fires.
- **Resolved** when ``success_threshold`` healthy results come in a row while firing; an
  unhealthy one starts the count over, so a flapping alert stays fired rather than churning.
- **Reminder** on an unhealthy result while firing, once ``repeat_interval_s`` has passed since
  the last Fired or Reminder went out (by ``now``).

Silences (``silenced=True``) hold notifications back, never the state:

- A Fired raised while silenced is returned with ``silenced=True`` (record it, do not send it).
  The first result after the silence that finds the alert still firing, whatever its health,
  raises the overdue Fired (same ``event_id``), and reminders count from then.
- No Reminder is raised while silenced.
- A Resolved goes out exactly when its Fired went out, silence or not: receivers that were told
  about an alert are told it ended, and are never told of an end without a start.

Severities: ``security`` Sev1, ``reachability`` Sev2, ``check-health`` Sev3 (a broken probe is
not a broken network, but a silent one hides it), ``warning`` Sev4. Sev0 is left for people.

A result already seen (its check id among the last few) or older than the newest one seen
(``completed``) changes nothing: queues redeliver, and an old result must not undo a newer one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.results import INCONCLUSIVE, CheckResult, format_utc, parse_utc
from shared.targets import AlertSettings

STATE_VERSION = 1
EVENT_VERSION = 1
Kind = Literal["Fired", "Resolved", "Reminder"]
SEVERITY = {"security": "Sev1", "reachability": "Sev2", "check-health": "Sev3", "warning": "Sev4"}
CLOSED = frozenset({"Unreachable", "Deny"})  # expectations of a path that must stay closed
MAX_CHECK_IDS = 20  # per episode, the most recent; first_seen still says when it began
RECENT_IDS = 10  # check ids remembered to drop redeliveries
MAX_TEXT = 512  # per text kept in state: a few tracks must stay far below Table's 64 KiB a property

_BAD, _GOOD = "bad", "good"  # a track's verdict on a result; None: not its business


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:MAX_TEXT]


@dataclass(frozen=True)
class Evidence:
    """What one result showed, as far as an alert reports it."""

    check_id: str
    completed: str
    status: str
    expected: str
    blocking_hop: str | None = None
    rule_name: str | None = None
    route_type: str | None = None
    issue_type: str | None = None
    latency_avg_ms: int | None = None
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def of(cls, result: CheckResult) -> Evidence:
        f = result.finding
        return cls(check_id=result.check_id[:256], completed=result.completed, status=f.status,
                   expected=result.expected, blocking_hop=_cut(f.blocking_hop), rule_name=_cut(f.rule_name),
                   route_type=_cut(f.route_type), issue_type=_cut(f.issue_type), latency_avg_ms=f.latency_avg_ms,
                   error_code=_cut(f.error_code), error_message=_cut(f.error_message))


@dataclass(frozen=True)
class Track:
    """One alert family of one target. Idle is ``Track()``; an episode runs from its first
    unhealthy result until it resolves (or, never fired, until a healthy result)."""

    failures: int = 0  # unhealthy results in a row
    successes: int = 0  # healthy results in a row while firing
    firing: bool = False
    notified: bool = False  # its Fired went out; so will its Resolved
    alert: str | None = None  # the episode's alert (reachability | security | check-health | warning)
    first_seen: str | None = None  # completed time of the episode's first unhealthy result
    last_seen: str | None = None  # ... and of its latest
    check_ids: tuple[str, ...] = ()  # the episode's results, the most recent MAX_CHECK_IDS
    last_bad: Evidence | None = None
    reminders: int = 0
    last_notified: str | None = None  # ``now`` when the last Fired or Reminder went out


@dataclass(frozen=True)
class AlertState:
    """Everything the alerts of one target remember between results."""

    target: str
    last_completed: str | None = None  # the newest result seen
    recent_check_ids: tuple[str, ...] = ()
    network: Track = field(default_factory=Track)
    check_health: Track = field(default_factory=Track)
    warning: Track = field(default_factory=Track)

    def to_dict(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: Any) -> AlertState:
        """``to_dict``'s output back; ValueError if it is not (say, written by a newer version)."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"alert state: not version {STATE_VERSION} state")
        try:
            tracks = {name: _track(data[name]) for name in ("network", "check_health", "warning")}
            state = cls(target=data["target"], last_completed=data["last_completed"],
                        recent_check_ids=tuple(data["recent_check_ids"]), **tracks)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"alert state: malformed ({exc!r})") from None
        if not isinstance(state.target, str):
            raise ValueError("alert state: target must be a string")
        return state


def _track(data: dict[str, Any]) -> Track:
    data = dict(data)
    bad = data.pop("last_bad", None)
    data["check_ids"] = tuple(data["check_ids"])
    return Track(**data, last_bad=None if bad is None else Evidence(**bad))


@dataclass(frozen=True)
class AlertEvent:
    """A Fired, Resolved or Reminder of one alert of one target.

    Fired and Reminder describe the episode's latest unhealthy result; Resolved, the result that
    resolved it. ``event_id`` is the same for the same event however often it is raised or sent
    (an overdue Fired included), so receivers can drop duplicates of at-least-once delivery.
    """

    event_id: str
    kind: Kind
    alert: str
    target: str
    status: str
    expected: str
    severity: str
    blocking_hop: str | None
    rule_name: str | None
    route_type: str | None
    issue_type: str | None
    first_seen: str
    last_seen: str
    check_ids: tuple[str, ...]
    at: str  # when it was raised, ISO-8601 UTC
    silenced: bool  # held back by a silence: recorded, never sent
    latency_avg_ms: int | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def summary(self) -> str:
        """One line for people: what, where, why."""
        if self.kind == "Resolved":
            what = f"now {self.status} (expected {self.expected})"
        elif self.alert == "check-health":
            what = f"the check could not tell: {self.status}" + (f" {self.error_code}" if self.error_code else "")
        elif self.alert == "warning":
            slow = f", {self.latency_avg_ms} ms on average" if self.latency_avg_ms is not None else ""
            what = f"{self.status}{slow}"
        else:
            closed = "; a path that must stay closed is open" if self.alert == "security" else ""
            what = f"{self.status}, expected {self.expected}{closed}"
            why = [f"{label} {value}" for label, value in (("hop", self.blocking_hop), ("rule", self.rule_name),
                                                          ("route", self.route_type)) if value]
            what += f" ({', '.join(why)})" if why else ""
        return f"{self.severity} {self.alert} {self.kind}: {self.target}: {what}"

    def to_message(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["check_ids"] = list(self.check_ids)
        return {"version": EVENT_VERSION, **data, "summary": self.summary}

    @classmethod
    def from_message(cls, data: Any) -> AlertEvent:
        """``to_message``'s output back; ValueError naming the first bad field."""
        if not isinstance(data, dict) or data.get("version") != EVENT_VERSION:
            raise ValueError(f"alert event: not a version {EVENT_VERSION} event")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for name in fields:
            value = data.get(name)
            optional = name in _OPTIONAL_EVENT_FIELDS
            kind = _EVENT_TYPES.get(name, str)
            if value is None and optional:
                values[name] = None
            elif name == "check_ids":
                if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                    raise ValueError("alert event: check_ids must be a list of strings")
                values[name] = tuple(value)
            elif type(value) is not kind:
                raise ValueError(f"alert event: {name} must be {kind.__name__}")
            else:
                values[name] = value
        if values["kind"] not in ("Fired", "Resolved", "Reminder"):
            raise ValueError("alert event: kind must be Fired, Resolved or Reminder")
        return cls(**values)


_OPTIONAL_EVENT_FIELDS = frozenset({"blocking_hop", "rule_name", "route_type", "issue_type", "latency_avg_ms",
                                    "error_code", "error_message"})
_EVENT_TYPES: dict[str, type] = {"silenced": bool, "latency_avg_ms": int}


# --------------------------------------------------------------------------- verdicts


def _network(result: CheckResult) -> tuple[str | None, str]:
    """(verdict, alert) of the network track."""
    status, expected = result.finding.status, result.expected
    alert = "security" if expected in CLOSED else "reachability"
    if status in INCONCLUSIVE:
        return None, alert
    if status == expected or (status == "Degraded" and expected == "Reachable"):
        return _GOOD, alert
    return _BAD, alert


def _check_health(result: CheckResult) -> str:
    return _BAD if result.finding.status in INCONCLUSIVE else _GOOD


def _warning(result: CheckResult, settings: AlertSettings) -> str | None:
    status, expected, latency = result.finding.status, result.expected, result.finding.latency_avg_ms
    if expected == "Reachable" and status == "Degraded":
        return _BAD
    if status != expected:
        return None  # an outage or a could-not-tell: the other tracks' business
    limit = settings.latency_threshold_ms
    slow = status == "Reachable" and limit is not None and latency is not None and latency > limit
    return _BAD if slow else _GOOD


# --------------------------------------------------------------------------- one track


@dataclass(frozen=True)
class _Step:
    """What one result brings to every track."""

    target: str
    evidence: Evidence
    settings: AlertSettings
    now: dt.datetime
    silenced: bool

    @property
    def at(self) -> str:
        return format_utc(self.now)


def _event(step: _Step, track: Track, kind: Kind, evidence: Evidence, silenced: bool) -> AlertEvent:
    assert track.alert is not None and track.first_seen is not None and track.last_seen is not None
    suffix = f"-{track.reminders}" if kind == "Reminder" else ""
    return AlertEvent(
        event_id=f"{step.target}/{track.alert}/{track.first_seen}/{kind}{suffix}", kind=kind, alert=track.alert,
        target=step.target, status=evidence.status, expected=evidence.expected, severity=SEVERITY[track.alert],
        blocking_hop=evidence.blocking_hop, rule_name=evidence.rule_name, route_type=evidence.route_type,
        issue_type=evidence.issue_type, first_seen=track.first_seen, last_seen=track.last_seen,
        check_ids=track.check_ids, at=step.at, silenced=silenced, latency_avg_ms=evidence.latency_avg_ms,
        error_code=evidence.error_code, error_message=evidence.error_message)


def _reminder_due(track: Track, step: _Step) -> bool:
    if track.last_notified is None:
        return True
    return step.now - parse_utc(track.last_notified) >= dt.timedelta(seconds=step.settings.repeat_interval_s)


def _advance(track: Track, verdict: str | None, alert: str, threshold: int,
             step: _Step) -> tuple[Track, list[AlertEvent]]:
    events: list[AlertEvent] = []
    ev = step.evidence
    if verdict == _BAD:
        track = dataclasses.replace(
            track, failures=track.failures + 1, successes=0, alert=track.alert or alert,
            first_seen=track.first_seen or ev.completed, last_seen=ev.completed,
            check_ids=(*track.check_ids, ev.check_id)[-MAX_CHECK_IDS:], last_bad=ev)
        if not track.firing and track.failures >= threshold:
            track = dataclasses.replace(track, firing=True)
            events.append(_event(step, track, "Fired", ev, step.silenced))
            if not step.silenced:
                track = dataclasses.replace(track, notified=True, last_notified=step.at)
        elif track.firing and track.notified and not step.silenced and _reminder_due(track, step):
            track = dataclasses.replace(track, reminders=track.reminders + 1, last_notified=step.at)
            events.append(_event(step, track, "Reminder", ev, False))
    elif verdict == _GOOD and not track.firing:
        track = Track()  # a run of unhealthy results broken before it fired: forgotten
    elif verdict == _GOOD:
        track = dataclasses.replace(track, failures=0, successes=track.successes + 1,
                                    check_ids=(*track.check_ids, ev.check_id)[-MAX_CHECK_IDS:])
        if track.successes >= step.settings.success_threshold:
            events.append(_event(step, track, "Resolved", ev, not track.notified))
            track = Track()
    if track.firing and not track.notified and not step.silenced:
        # The silence is over and the alert still fires: the Fired it held back goes out now.
        held, track = track.last_bad, dataclasses.replace(track, notified=True, last_notified=step.at)
        assert held is not None
        events.append(_event(step, track, "Fired", held, False))
    return track, events


# --------------------------------------------------------------------------- one result


def _seen(state: AlertState, result: CheckResult) -> bool:
    if result.check_id[:256] in state.recent_check_ids:
        return True
    return state.last_completed is not None and parse_utc(result.completed) < parse_utc(state.last_completed)


def evaluate(state: AlertState | None, result: CheckResult, settings: AlertSettings, *, now: dt.datetime,
             silenced: bool) -> tuple[AlertState, list[AlertEvent]]:
    """The target's next state and the events ``result`` raised (silenced ones included, marked).

    ``state`` None is a target never seen. A result already seen, or older than the newest seen,
    returns ``state`` itself and no events.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    state = state or AlertState(target=result.target)
    if _seen(state, result):
        return state, []
    step = _Step(target=state.target, evidence=Evidence.of(result), settings=settings, now=now, silenced=silenced)
    verdict, alert = _network(result)
    network, raised = _advance(state.network, verdict, alert, settings.failure_threshold, step)
    check_health, more = _advance(state.check_health, _check_health(result), "check-health",
                                  settings.check_health_threshold, step)
    raised += more
    warning, more = _advance(state.warning, _warning(result, settings), "warning", settings.failure_threshold, step)
    raised += more
    return AlertState(target=state.target, last_completed=result.completed,
                      recent_check_ids=(*state.recent_check_ids, step.evidence.check_id)[-RECENT_IDS:],
                      network=network, check_health=check_health, warning=warning), raised
