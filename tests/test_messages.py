"""The check request contract (version 1): what is accepted, and a clear reason for all else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.messages import MAX_BYTES, BadMessage, CheckRequest, parse_request

VM = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ContosoRG/providers/Microsoft.Compute/" \
     "virtualMachines/MultiTierApp0"
INLINE = {"name": "adhoc", "kind": "connectivity", "source": VM, "destination": {"address": "10.1.4.4", "port": 80}}


def test_stored_target_by_name_with_every_optional_field() -> None:
    request = parse_request(json.dumps({
        "version": 1, "target": "app-to-db-port80", "checkId": "s-20261122T1000Z-abc", "trigger": "schedule",
        "correlationId": "/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/1",
        "scheduled": "2026-11-22T10:00:00.000Z", "replyTo": "team-results", "priority": "high"}))
    assert request == CheckRequest("app-to-db-port80", None, "s-20261122T1000Z-abc", "schedule",
                                   "/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/1",
                                   "2026-11-22T10:00:00.000Z", "team-results", "high")
    assert parse_request(json.dumps(request.to_message())) == request


def test_minimal_messages_default_to_the_queue_trigger() -> None:
    assert parse_request('{"version": 1, "target": "x"}').trigger == "queue"
    inline = parse_request(json.dumps({"version": 1, "inline": INLINE}))
    assert inline.inline is not None and inline.inline.name == "adhoc" and inline.target_name is None


BAD: list[tuple[Any, str]] = [
    (b"\xff\xfe", "not JSON"),
    ("", "not JSON"),
    ("not json", "not JSON"),
    ("eyJ2ZXJzaW9uIjogMX0=", "not JSON"),  # base64 of a message: encoded twice
    ("[]", "JSON object, not list"),
    ("null", "JSON object, not NoneType"),
    ('"text"', "JSON object, not str"),
    ("1", "JSON object, not int"),
    ({}, "version"),
    ({"target": "x"}, "version: must be 1"),
    ({"version": 2, "target": "x"}, "version: must be 1 (got 2)"),
    ({"version": "1", "target": "x"}, "version: must be 1"),
    ({"version": True, "target": "x"}, "version: must be 1"),
    ({"version": 1}, "exactly one of"),
    ({"version": 1, "target": "x", "inline": INLINE}, "exactly one of"),
    ({"version": 1, "target": None, "inline": None}, "exactly one of"),
    ({"version": 1, "target": 7}, "target: must be a target name"),
    ({"version": 1, "target": ""}, "target: must be a target name"),
    ({"version": 1, "target": "a" * 81}, "target: must be a target name"),
    ({"version": 1, "target": "has space"}, "target: must be a target name"),
    ({"version": 1, "target": "../etc/passwd"}, "target: must be a target name"),
    ({"version": 1, "target": ["x"]}, "target: must be a target name"),
    ({"version": 1, "inline": "adhoc"}, "inline target"),
    ({"version": 1, "inline": {**INLINE, "kind": "traceroute"}}, "inline target"),
    ({"version": 1, "inline": {**INLINE, "colour": "red"}}, "colour"),
    ({"version": 1, "inline": {**INLINE, "destination": {"address": "http://u@evil", "port": 80}}}, "inline target"),
    ({"version": 1, "target": "x", "trigger": "cron"}, "trigger: must be one of"),
    ({"version": 1, "target": "x", "trigger": 1}, "trigger"),
    ({"version": 1, "target": "x", "checkId": ""}, "checkId"),
    ({"version": 1, "target": "x", "checkId": "-leading"}, "checkId"),
    ({"version": 1, "target": "x", "checkId": "a" * 129}, "checkId"),
    ({"version": 1, "target": "x", "checkId": "a/b"}, "checkId"),
    ({"version": 1, "target": "x", "checkId": 12}, "checkId"),
    ({"version": 1, "target": "x", "correlationId": "has space"}, "correlationId"),
    ({"version": 1, "target": "x", "correlationId": "x" * 257}, "correlationId"),
    ({"version": 1, "target": "x", "correlationId": "line\nbreak"}, "correlationId"),
    ({"version": 1, "target": "x", "scheduled": "yesterday"}, "scheduled"),
    ({"version": 1, "target": "x", "scheduled": "2026-11-22T10:00:00"}, "scheduled"),  # no zone
    ({"version": 1, "target": "x", "scheduled": 1700000000}, "scheduled"),
    ({"version": 1, "target": "x", "replyTo": "UPPER"}, "replyTo"),
    ({"version": 1, "target": "x", "replyTo": "a--b"}, "replyTo"),
    ({"version": 1, "target": "x", "replyTo": "ab"}, "replyTo"),
    ({"version": 1, "target": "x", "replyTo": "a" * 57}, "replyTo"),
    ({"version": 1, "target": "x", "replyTo": "https://evil.example/hook"}, "replyTo"),
    ({"version": 1, "target": "x", "priority": "urgent"}, "priority: must be one of"),
    ({"version": 1, "target": "x", "priority": 1}, "priority: must be one of"),
    ({"version": 1, "target": "x", "location": "https://management.azure.com/x"}, "unknown field(s) ['location']"),
    ({"version": 1, "target": "x", "Target": "y"}, "unknown field"),
    ({"version": 1, "target": "x", "pad": "y" * MAX_BYTES}, f"at most {MAX_BYTES}"),
]


@pytest.mark.parametrize(("body", "reason"), BAD, ids=[f"bad-{i}" for i in range(len(BAD))])
def test_malformed_requests_are_refused_with_the_reason(body: Any, reason: str) -> None:
    text = body if isinstance(body, (str, bytes)) else json.dumps(body)
    with pytest.raises(BadMessage) as info:
        parse_request(text)
    assert reason in str(info.value)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.sampled_from(["version", "target", "inline", "checkId", "trigger",
                                                       "scheduled", "replyTo", "x"]) | st.text(max_size=8),
                                      children, max_size=5), max_leaves=20)


@given(JSON)
def test_any_json_is_a_request_or_a_bad_message(data: Any) -> None:
    try:
        parse_request(json.dumps(data))
    except BadMessage:
        pass


@given(st.binary(max_size=200))
def test_any_bytes_are_a_request_or_a_bad_message(data: bytes) -> None:
    try:
        parse_request(data)
    except BadMessage:
        pass
