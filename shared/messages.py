"""The check request: the versioned message on the requests queue (contract version 1).

The timer sweep, the investigations webhook and other services all put the same message on the
requests queue. Anyone with send rights may write it, so it is validated strictly before anything
else happens; a message that fails gets ``BadMessage`` naming the field, and never reaches ARM.

    {"version": 1,
     "target": "app-to-db",            exactly one of: the name of a stored target,
     "inline": {...},                  or a target definition, validated like the target list
     "checkId": "s-20261122T1000Z-…",  optional; stable across redeliveries (default: the queue message id)
     "trigger": "schedule",            schedule | queue | alert (default: queue)
     "correlationId": "…",             optional: an alert id, a producer's request id
     "priority": "normal",             normal | high: high goes on the urgent queue (URGENT_QUEUE),
                                       which the app drains apart from the sweep's backlog
     "scheduled": "2026-11-22T10:00:00.000Z",   optional: when the check was due
     "replyTo": "my-results"}          optional: a queue that also receives the result
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from shared.results import parse_utc
from shared.target_list import NAME, TargetListError, parse_target
from shared.targets import Target

VERSION = 1
TRIGGERS = ("schedule", "queue", "alert")
PRIORITIES = ("normal", "high")
MAX_BYTES = 49_152  # what a queue message holds before base64
_KEYS = ("version", "target", "inline", "checkId", "trigger", "correlationId", "scheduled", "replyTo", "priority")
_CHECK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_CORRELATION_ID = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no spaces: it lands in logs and KQL
_QUEUE_NAME = re.compile(r"[a-z0-9](?!.*--)[a-z0-9-]{1,54}[a-z0-9]")  # ≤ 56 chars leaves room for -poison


class BadMessage(ValueError):
    """A message that can never succeed: it goes to the poison queue with this reason."""


@dataclass(frozen=True)
class CheckRequest:
    target_name: str | None
    inline: Target | None
    check_id: str | None
    trigger: str
    correlation_id: str | None
    scheduled: str | None
    reply_to: str | None
    priority: str = "normal"

    def to_message(self) -> dict[str, Any]:
        if self.inline is not None:
            raise ValueError("an inline request is sent as the producer wrote it; keep the original message")
        message: dict[str, Any] = {"version": VERSION, "target": self.target_name, "trigger": self.trigger}
        if self.priority != "normal":
            message["priority"] = self.priority
        for key, value in (("checkId", self.check_id), ("correlationId", self.correlation_id),
                           ("scheduled", self.scheduled), ("replyTo", self.reply_to)):
            if value is not None:
                message[key] = value
        return message


def _optional(data: dict[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BadMessage(f"{key}: must be {what} (got {json.dumps(value)[:80]})")
    return value


def parse_request(body: str | bytes) -> CheckRequest:
    """Validate a requests-queue message body; raise BadMessage naming what is wrong."""
    size = len(body if isinstance(body, bytes) else body.encode())
    if size > MAX_BYTES:
        raise BadMessage(f"message is {size} bytes; at most {MAX_BYTES} are accepted")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage(f"message is not JSON (base64-encoded twice, or not encoded at all?): {exc}") from None
    if not isinstance(data, dict):
        raise BadMessage(f"message must be a JSON object, not {type(data).__name__}")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise BadMessage(f"unknown field(s) {unknown}; contract version {VERSION} has {list(_KEYS)}")
    version = data.get("version")
    # JSON has one number type: 1.0 is 1 (as the JSON Schema says too), but true is not.
    if isinstance(version, bool) or not isinstance(version, (int, float)) or version != VERSION:
        raise BadMessage(f"version: must be {VERSION} (got {json.dumps(version)})")
    has_target, has_inline = data.get("target") is not None, data.get("inline") is not None
    if has_target == has_inline:
        raise BadMessage("exactly one of 'target' (a stored target's name) and 'inline' (a definition) is required")
    target_name = _optional(data, "target", re.compile(NAME), "a target name (letters, digits, . _ -; ≤ 80)")
    inline = None
    if has_inline:
        try:
            inline = parse_target(data["inline"])
        except TargetListError as exc:
            raise BadMessage(f"inline target: {exc}") from None
    trigger = data.get("trigger", "queue")
    if trigger not in TRIGGERS:
        raise BadMessage(f"trigger: must be one of {list(TRIGGERS)} (got {json.dumps(trigger)[:80]})")
    priority = data.get("priority", "normal")
    if priority not in PRIORITIES:
        raise BadMessage(f"priority: must be one of {list(PRIORITIES)} (got {json.dumps(priority)[:80]})")
    scheduled = _optional(data, "scheduled", re.compile(r".{1,40}"), "an ISO-8601 UTC time")
    if scheduled is not None:
        try:
            parse_utc(scheduled)
        except ValueError:
            raise BadMessage(f"scheduled: must be an ISO-8601 UTC time (got {json.dumps(scheduled)})") from None
    return CheckRequest(
        target_name=target_name,
        inline=inline,
        check_id=_optional(data, "checkId", _CHECK_ID, "1-128 of letters, digits, . _ : - (starting alphanumeric)"),
        trigger=str(trigger),
        correlation_id=_optional(data, "correlationId", _CORRELATION_ID, "1-256 printable ASCII characters"),
        scheduled=scheduled,
        reply_to=_optional(data, "replyTo", _QUEUE_NAME, "a queue name (3-56 of a-z, 0-9, single hyphens)"),
        priority=str(priority),
    )
