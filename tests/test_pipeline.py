"""The pipeline's steps against the emulator: one result per check, waits as step messages.

These tests drive the steps directly (a step's delay is not waited for here); the queues and the
functions around them are tested separately.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from azure.identity import ManagedIdentityCredential

from emulator.httpserver import Reply, Request, RunningServer
from emulator.stack import Emulator
from shared.arm import ArmClient
from shared.pipeline import Limits, Outcome, Pipeline
from shared.results import CheckResult
from shared.target_list import TargetList, parse_target_list

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = parse_target_list((ROOT / "targets.sample.yaml").read_text())


def _pipeline(emu: Emulator, targets: TargetList = SAMPLE, **limits: int) -> Pipeline:
    arm = ArmClient(emu.arm_server.url, ManagedIdentityCredential(client_id=emu.identity.client_id),
                    api_version="2024-05-01", timeout=(2, 2))
    return Pipeline(arm, lambda: targets, limits=Limits(**limits))


def _request(target: str, **extra: object) -> str:
    return json.dumps({"version": 1, "target": target, **extra})


STEP_PAUSE_S = 0.02  # between steps, for the step's delay (Retry-After); see run()


def run(pipeline: Pipeline, body: str, message_id: str = "m1") -> tuple[Outcome, list[Outcome]]:
    """Every step of one check, one after the other. A step's delay is shortened to STEP_PAUSE_S,
    not skipped: back to back, 120 local polls took less than the 0.2 s operation on an idle
    machine, and the check ended as a Timeout after MAX_POLLS."""
    outcome = pipeline.accept(body, message_id)
    steps = []
    while outcome.step is not None:
        steps.append(outcome)
        time.sleep(min(outcome.delay_s, STEP_PAUSE_S))
        outcome = pipeline.advance(json.dumps(outcome.step.to_message()))
    return outcome, steps


@pytest.fixture
def pipeline(emu: Emulator) -> Pipeline:
    emu.arm.lro.operation_seconds = 0.2
    return _pipeline(emu)


@pytest.mark.parametrize(("target", "status", "blocking"), [
    ("app-to-db-port80", "Unreachable", ("10.1.3.4", "NetworkSecurityRule", "UserRule_Port80")),
    ("app-to-13.107.21.200", "Unreachable", ("10.1.1.4", "UserDefinedRoute", None)),
    ("app-to-bing", "Reachable", (None, None, None)),
    ("app-to-blob", "Reachable", (None, None, None)),
    ("app-out-443", "Allow", (None, None, "defaultSecurityRules/AllowInternetOutBound")),
    ("internet-in-3389", "Deny", (None, None, "defaultSecurityRules/DefaultInboundDenyAll")),
    ("app-nexthop-db", "VirtualAppliance", (None, None, None)),
])
def test_every_seed_target_ends_in_one_result(emu: Emulator, pipeline: Pipeline, target: str, status: str,
                                              blocking: tuple) -> None:
    result, steps = run(pipeline, _request(target, trigger="schedule"))
    assert result.result is not None and result.poison is None
    finding = result.result.finding
    assert finding.status == status
    assert (finding.blocking_hop, finding.issue_type, finding.rule_name) == blocking
    assert result.result.check_id == "q-m1"
    assert result.result.polls >= 1 and len(steps) >= 1  # it went through Location polls
    assert result.result.network_watcher.endswith("/networkWatchers/NetworkWatcher_westcentralus")
    assert CheckResult.from_message(json.loads(json.dumps(result.result.to_message()))) == result.result


def test_health_follows_the_expectation(pipeline: Pipeline) -> None:
    denied, _ = run(pipeline, _request("internet-in-3389"))
    blocked, _ = run(pipeline, _request("app-to-db-port80"))
    assert denied.result is not None and denied.result.healthy is True  # it must stay closed, and is
    assert blocked.result is not None and blocked.result.healthy is False


def test_the_source_vm_region_is_looked_up_once(emu: Emulator, pipeline: Pipeline) -> None:
    for i in range(3):
        run(pipeline, _request("app-to-bing"), f"m{i}")
    vm_reads = [r for r in emu.arm_server.requests if "/virtualMachines/" in r.target]
    assert len(vm_reads) == 1


@pytest.mark.parametrize(("body", "reason"), [
    ("{", "not JSON"),
    (_request("no-such-target"), "no target named 'no-such-target'"),
    (json.dumps({"version": 1}), "exactly one of"),
])
def test_bad_requests_are_poison_with_a_reason_and_reach_no_arm(emu: Emulator, pipeline: Pipeline, body: str,
                                                                 reason: str) -> None:
    outcome = pipeline.accept(body, "m1")
    assert outcome.poison is not None and reason in outcome.poison
    assert outcome.result is None and outcome.step is None
    assert emu.arm_server.requests == []


def test_throttling_becomes_a_delayed_retry_then_succeeds(emu: Emulator, pipeline: Pipeline) -> None:
    emu.faults.add(service="arm", kind="status", operation="connectivityCheck", status=429,
                   code="SubscriptionRequestsThrottled", retry_after=7, count=2)
    first = pipeline.accept(_request("app-to-bing"), "m1")
    # After Retry-After, spread over a window of 2 s (the first 429 of this check).
    assert first.step is not None and first.step.step == "start" and 7 <= first.delay_s <= 9
    assert (first.step.throttled, first.step.attempt) == (1, 0)
    result, _ = run(pipeline, _request("app-to-bing"), "m2")
    assert result.result is not None and result.result.finding.status == "Reachable"


def test_throttled_checks_pace_themselves_and_do_not_use_up_attempts(emu: Emulator) -> None:
    """Twelve 429s in a row with max_attempts 3: the retries spread over windows that double (2, 4,
    8, ... up to backoff_max_s) after Retry-After, and the check still succeeds."""
    emu.arm.lro.operation_seconds = 0.1
    emu.faults.add(service="arm", kind="status", operation="connectivityCheck", status=429,
                   code="SubscriptionRequestsThrottled", retry_after=1, count=12)
    pipeline = _pipeline(emu, max_attempts=3)
    pipeline.jitter = lambda window: window  # the whole window, to see it
    result, steps = run(pipeline, _request("app-to-bing"))
    assert result.result is not None and result.result.finding.status == "Reachable"
    throttled = [s.delay_s for s in steps if s.step is not None and s.step.step == "start"]
    assert throttled == [1 + min(120, 2 ** n) for n in range(1, 13)]


def test_throttled_until_the_deadline_ends_as_an_error(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="status", operation="connectivityCheck", status=429,
                   code="SubscriptionRequestsThrottled", retry_after=1, count=None)
    pipeline = _pipeline(emu, deadline_s=60)
    pipeline.jitter = lambda window: window
    result, steps = run(pipeline, _request("app-to-bing"))
    assert result.result is not None and result.result.finding.error_code == "SubscriptionRequestsThrottled"
    assert "still throttled at the deadline after 6 answers 429" in (result.result.finding.error_message or "")
    assert [s.delay_s for s in steps] == [3, 5, 9, 17, 33]  # the next, 65 s, would pass the deadline
    assert result.result.healthy is None  # could not tell: never a reachability alert


def test_persistent_5xx_ends_as_an_error_result_after_the_attempts(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="status", operation="connectivityCheck", status=500, count=None)
    result, steps = run(_pipeline(emu, max_attempts=3), _request("app-to-bing"))
    assert result.result is not None
    assert (result.result.finding.status, result.result.finding.error_code) == ("Error", "InternalServerError")
    assert [s.delay_s for s in steps] == [2, 4]  # no Retry-After: exponential backoff
    assert result.result.healthy is None  # could not tell: never a reachability alert


@pytest.mark.parametrize(("fault", "code"), [
    ({"kind": "status", "status": 403, "code": "AuthorizationFailed"}, "AuthorizationFailed"),
    ({"kind": "status", "status": 404, "code": "NotFound"}, "NotFound"),
    ({"kind": "no_location"}, "MissingLocation"),
])
def test_permanent_arm_errors_end_at_once(emu: Emulator, pipeline: Pipeline, fault: dict, code: str) -> None:
    emu.faults.add(service="arm", operation="connectivityCheck", **fault)
    result, steps = run(pipeline, _request("app-to-bing"))
    assert steps == []
    assert result.result is not None and result.result.finding.error_code == code


def test_malformed_result_is_an_error_result(emu: Emulator, pipeline: Pipeline) -> None:
    emu.faults.add(service="arm", kind="malformed_json", operation="poll")
    result, _ = run(pipeline, _request("app-to-bing"))
    assert result.result is not None and result.result.finding.error_code == "InvalidArmResponse"


def test_operation_that_never_completes_times_out(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="never_complete", operation="connectivityCheck")
    result, _ = run(_pipeline(emu, max_polls=4), _request("app-to-bing"))
    assert result.result is not None and result.result.finding.status == "Timeout"
    assert result.result.polls == 4


class _Recorder:
    name = "recorder"

    def handle(self, request: Request) -> Reply:
        return Reply(200, b"{}")


def test_foreign_location_is_never_fetched_and_no_token_leaves(emu: Emulator, pipeline: Pipeline) -> None:
    recorder = RunningServer(_Recorder(), emu.tls.server_context())
    try:
        evil = (f"{recorder.url}/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Network/"
                "locations/westcentralus/operationResults/x?api-version=2024-05-01")
        emu.faults.add(service="arm", kind="foreign_location", operation="connectivityCheck", location=evil)
        result, _ = run(pipeline, _request("app-to-bing"))
        assert result.result is not None and result.result.finding.error_code == "UnsafeLocation"
        # A forged step on the polls queue pointing there is refused the same way.
        start = pipeline.accept(_request("app-to-db-port80"), "m2")
        assert start.step is not None
        forged = start.step.to_message() | {"location": evil}
        outcome = pipeline.advance(json.dumps(forged))
        assert outcome.result is not None and outcome.result.finding.error_code == "UnsafeLocation"
        assert recorder.requests == []
    finally:
        recorder.stop()


def test_a_step_past_its_deadline_ends_as_timeout(pipeline: Pipeline) -> None:
    start = pipeline.accept(_request("app-to-bing"), "m1")
    assert start.step is not None
    late = start.step.to_message() | {"deadline": "2020-01-01T00:00:00.000Z"}
    outcome = pipeline.advance(json.dumps(late))
    assert outcome.result is not None and outcome.result.finding.status == "Timeout"


def test_reply_to_is_carried_to_the_result(pipeline: Pipeline) -> None:
    result, _ = run(pipeline, _request("app-to-bing", replyTo="team-results", correlationId="abc"))
    assert result.reply_to == "team-results"
    assert result.result is not None and result.result.correlation_id == "abc"


def test_clock_is_injectable_for_deadlines(emu: Emulator) -> None:
    now = [dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)]
    pipe = _pipeline(emu)
    pipe.clock = lambda: now[0]
    start = pipe.accept(_request("app-to-bing"), "m1")
    assert start.step is not None and start.step.deadline == "2026-11-22T10:15:00.000Z"
