"""The app's internal step message, on the polls queue that only the app writes to.

A check that cannot finish in one invocation continues as a step: ``start`` (POST the operation
again after a transient failure) or ``poll`` (GET the operation's Location). The message carries
everything the next step needs, the resolved target included, so a target list edited while a
check runs cannot change that check. It is still validated on the way in: a queue is not a
trust boundary to lean on, and its Location is checked again before any token is attached.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from shared.messages import BadMessage
from shared.results import parse_utc
from shared.target_list import TargetListError, parse_target, target_to_dict
from shared.targets import Target, WatcherRef

VERSION = 1
_KEYS = frozenset({"version", "step", "checkId", "target", "trigger", "correlationId", "scheduled", "replyTo",
                   "watcher", "started", "deadline", "attempt", "polls", "location", "throttled"})
_CHECK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_ARM_NAME = re.compile(r"[A-Za-z0-9._()-]{1,90}")
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
MAX_ATTEMPT = 1000


@dataclass(frozen=True)
class Step:
    step: Literal["start", "poll"]
    check_id: str
    target: Target
    trigger: str
    correlation_id: str | None
    scheduled: str | None
    reply_to: str | None
    watcher: WatcherRef | None  # None until resolved from the source VM's region
    started: str  # when the check was accepted
    deadline: str  # after it the check ends as a Timeout result
    attempt: int = 0  # tries of this step so far (transient failures)
    polls: int = 0  # GETs of the Location so far
    location: str | None = None
    throttled: int = 0  # 429 answers so far (not failures: they pace the check, the deadline bounds them)

    def next(self, **changes: Any) -> Step:
        return replace(self, **changes)

    def to_message(self) -> dict[str, Any]:
        watcher = None if self.watcher is None else {
            "subscription": self.watcher.subscription, "resourceGroup": self.watcher.resource_group,
            "name": self.watcher.name}
        return {"version": VERSION, "step": self.step, "checkId": self.check_id,
                "target": target_to_dict(self.target), "trigger": self.trigger,
                "correlationId": self.correlation_id, "scheduled": self.scheduled, "replyTo": self.reply_to,
                "watcher": watcher, "started": self.started, "deadline": self.deadline,
                "attempt": self.attempt, "polls": self.polls, "location": self.location,
                "throttled": self.throttled}


def _bad(field: str, problem: str) -> BadMessage:
    return BadMessage(f"step message: {field}: {problem}")


def _time(data: dict[str, Any], key: str, required: bool) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _bad(key, "must be an ISO-8601 UTC time")
    try:
        parse_utc(value)
    except ValueError:
        raise _bad(key, f"must be an ISO-8601 UTC time (got {value[:40]!r})") from None
    return value


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if type(value) is not int or not 0 <= value <= MAX_ATTEMPT:
        raise _bad(key, f"must be an integer 0..{MAX_ATTEMPT}")
    return value


def _text(data: dict[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not 0 < len(value) <= limit):
        raise _bad(key, f"must be a string of 1..{limit} characters")
    return value


def parse_step(body: str | bytes) -> Step:
    """Validate a polls-queue message; raise BadMessage naming what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage(f"step message is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadMessage(f"step message must be a JSON object, not {type(data).__name__}")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise BadMessage(f"step message: unknown field(s) {unknown}")
    if type(data.get("version")) is not int or data["version"] != VERSION:
        raise _bad("version", f"must be {VERSION}")
    step = data.get("step")
    if step not in ("start", "poll"):
        raise _bad("step", "must be 'start' or 'poll'")
    check_id = data.get("checkId")
    if not isinstance(check_id, str) or not _CHECK_ID.fullmatch(check_id):
        raise _bad("checkId", "must be 1-128 of letters, digits, . _ : -")
    try:
        target = parse_target(data.get("target"))
    except TargetListError as exc:
        raise _bad("target", str(exc)) from None
    if data.get("trigger") not in ("schedule", "queue", "alert"):
        raise _bad("trigger", "must be schedule, queue or alert")
    watcher_data = data.get("watcher")
    watcher = None
    if watcher_data is not None:
        if not isinstance(watcher_data, dict) or set(watcher_data) != {"subscription", "resourceGroup", "name"}:
            raise _bad("watcher", "must be {subscription, resourceGroup, name}")
        values = (watcher_data["subscription"], watcher_data["resourceGroup"], watcher_data["name"])
        if not all(isinstance(v, str) for v in values) or not _GUID.fullmatch(values[0]) or not all(
                _ARM_NAME.fullmatch(v) for v in values[1:]):
            raise _bad("watcher", "has an invalid subscription id, resource group or name")
        watcher = WatcherRef(*values)
    location = _text(data, "location", 4096)
    if step == "poll" and location is None:
        raise _bad("location", "is required for a poll step")
    return Step(step=step, check_id=check_id, target=target, trigger=data["trigger"],
                correlation_id=_text(data, "correlationId", 256), scheduled=_time(data, "scheduled", False),
                reply_to=_text(data, "replyTo", 56), watcher=watcher,
                started=str(_time(data, "started", True)), deadline=str(_time(data, "deadline", True)),
                attempt=_count(data, "attempt"), polls=_count(data, "polls"), location=location,
                throttled=_count(data, "throttled"))
