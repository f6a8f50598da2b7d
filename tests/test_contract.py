"""The enqueue contract for other services: the published schema agrees with the app's validator,
the producer helper sends what the trigger reads, and inline targets stay in allowed subscriptions."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from emulator.azurite import Azurite
from emulator.stack import Emulator
from shared.messages import BadMessage, parse_request
from shared.producer import build_request, queue_for, requests_queue, send_request
from tests.test_messages import BAD, INLINE, MAX_BYTES
from tests.test_pipeline import SAMPLE, _pipeline

SCHEMAS = Path(__file__).resolve().parent.parent / "shared" / "schemas"


def _validator() -> Draft202012Validator:
    target_list = json.loads((SCHEMAS / "target-list.schema.json").read_text())
    request = json.loads((SCHEMAS / "check-request.v1.schema.json").read_text())
    registry = Registry().with_resources([(target_list["$id"], Resource.from_contents(target_list))])
    return Draft202012Validator(request, registry=registry)


GOOD: list[dict[str, Any]] = [
    {"version": 1, "target": "app-to-bing"},
    {"version": 1, "inline": INLINE, "checkId": "a:b.c-d", "trigger": "alert", "correlationId": "x/y",
     "scheduled": "2026-11-22T10:00:00.000Z", "replyTo": "team-results", "priority": "high"},
]


# The size limit is the app's alone (a schema cannot say "48 KiB"), so the oversized case is left out.
AGREEMENT = GOOD + [b for b, _ in BAD if isinstance(b, dict) and len(json.dumps(b)) <= MAX_BYTES] + [
    {"version": 1.0, "target": "x"}]  # JSON has one number type: 1.0 is 1 for both


@pytest.mark.parametrize("message", AGREEMENT)
def test_schema_and_validator_agree(message: dict[str, Any]) -> None:
    text = json.dumps(message)
    try:
        parse_request(text)
        app_says = True
    except BadMessage:
        app_says = False
    assert _validator().is_valid(message) == app_says, text[:200]


def test_producer_builds_validated_requests_the_trigger_can_read(azurite: Azurite) -> None:
    queue = requests_queue(azurite.connection_string, f"req{uuid.uuid4().hex[:8]}")
    queue.create_queue()
    send_request(queue, build_request(target="app-to-bing", correlation_id="deploy-1234"))
    [message] = queue.receive_messages()
    request = parse_request(message.content)
    assert (request.target_name, request.correlation_id, request.trigger) == ("app-to-bing", "deploy-1234", "queue")
    with pytest.raises(BadMessage, match="exactly one of"):
        build_request()
    with pytest.raises(BadMessage, match="inline target"):
        build_request(inline={"name": "x", "kind": "traceroute"})


def test_inline_targets_are_limited_to_allowed_subscriptions(emu: Emulator) -> None:
    pipeline = _pipeline(emu, SAMPLE)
    pipeline.allowed_subscriptions = frozenset({"11111111-1111-1111-1111-111111111111"})
    outcome = pipeline.accept(json.dumps(build_request(inline=INLINE)), "m1")
    assert outcome.poison is not None and "not in ALLOWED_SUBSCRIPTIONS" in outcome.poison
    assert emu.arm_server.requests == []
    pipeline.allowed_subscriptions = frozenset({"00000000-0000-0000-0000-000000000000"})
    assert pipeline.accept(json.dumps(build_request(inline=INLINE)), "m2").step is not None
    # stored targets are the operator's own: not limited
    pipeline.allowed_subscriptions = frozenset()
    assert pipeline.accept(json.dumps(build_request(target="app-to-bing")), "m3").step is not None


def test_high_priority_requests_belong_on_the_urgent_queue() -> None:
    assert queue_for(build_request(target="app-to-bing", priority="high")) == "nwcheck-urgent"
    assert queue_for(build_request(target="app-to-bing"), requests="mine") == "mine"
    with pytest.raises(BadMessage, match="priority"):
        build_request(target="app-to-bing", priority="asap")
