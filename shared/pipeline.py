"""The check pipeline's decisions: accept a request, take a step, end with one result.

Every function here does one bounded step and returns an ``Outcome`` saying what to send next;
the caller (``function_app.py``) sends it. Nothing sleeps: a check that must wait (an operation
still running, ARM throttling, a 5xx) continues as a step message that becomes visible after the
wait. Failures the check cannot get past are results too (``Error``, ``Timeout``); a message that
can never succeed is poison, with the reason.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from shared.arm import ArmClient, Done, Pending, PermanentArmError, TransientArmError
from shared.checks import CHECKS, InvalidArmResult
from shared.messages import BadMessage, CheckRequest, parse_request
from shared.results import CheckResult, Finding, error_finding, format_utc, parse_utc, timeout_finding
from shared.steps import Step, parse_step
from shared.target_list import TargetList
from shared.targets import Connectivity, IpFlow, Target, WatcherRef

COMPUTE_API_VERSION = "2024-07-01"


@dataclass(frozen=True)
class Limits:
    deadline_s: int = 900  # a check not done by then ends as Timeout
    max_polls: int = 120
    max_attempts: int = 8  # transient failures of one step before the check ends as Error
    backoff_base_s: int = 2  # without Retry-After: 2, 4, 8, ... seconds
    backoff_max_s: int = 120


@dataclass(frozen=True)
class Outcome:
    """Exactly one of: a result, the next step (after ``delay_s``), a poison reason, or a duplicate."""

    result: CheckResult | None = None
    step: Step | None = None
    delay_s: int = 0
    poison: str | None = None
    reply_to: str | None = None
    duplicate: str | None = None  # a check id already claimed by another message: nothing to do


class WatcherResolver:
    """The Network Watcher of a target: its own, or Azure's default for the source VM's region,
    with the VM's region looked up once per process."""

    def __init__(self, arm: ArmClient) -> None:
        self.arm = arm
        self._regions: dict[str, str] = {}

    def __call__(self, target: Target) -> WatcherRef:
        if target.watcher is not None:
            return target.watcher
        key = target.source_vm.lower()
        region = self._regions.get(key)
        if region is None:
            location = self.arm.get(target.source_vm, COMPUTE_API_VERSION).get("location")
            if not isinstance(location, str) or not location.isalnum():
                raise PermanentArmError("InvalidArmResponse", f"VM {target.source_vm} has no valid location")
            region = self._regions[key] = location.lower()
        return WatcherRef(target.subscription, "NetworkWatcherRG", f"NetworkWatcher_{region}")


def _describe(target: Target) -> tuple[str | None, int | None, str | None, str | None]:
    """(destination, port, protocol, direction) for the result row."""
    spec = target.spec
    if isinstance(spec, Connectivity):
        return spec.destination_resource_id or spec.destination_address, spec.port, spec.protocol, None
    if isinstance(spec, IpFlow):
        port = spec.remote_port
        return spec.remote_ip, int(port) if port.isdigit() else None, spec.protocol, spec.direction
    return spec.destination_ip, None, None, None


_RANDOM = random.SystemRandom()  # jitter only; no secret depends on it


class Pipeline:
    def __init__(self, arm: ArmClient, targets: Callable[[], TargetList], *, limits: Limits | None = None,
                 watchers: Callable[[Target], WatcherRef] | None = None,
                 claims: Callable[[str, str], bool] | None = None,
                 allowed_subscriptions: frozenset[str] | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 jitter: Callable[[float], float] = lambda window: _RANDOM.uniform(0, window)) -> None:
        self.arm = arm
        self.targets = targets
        self.limits = limits or Limits()
        self.watchers = watchers or WatcherResolver(arm)
        self.claims = claims  # None: every request starts (tests of the steps alone)
        # Whoever may write to the requests queue must not aim the app's identity anywhere it can reach:
        # inline targets are limited to these subscriptions (None: any).
        self.allowed_subscriptions = None if allowed_subscriptions is None else frozenset(
            s.lower() for s in allowed_subscriptions)
        self.clock = clock
        self.jitter = jitter

    # ---- the requests queue -----------------------------------------------------------------
    def accept(self, body: str | bytes, message_id: str) -> Outcome:
        """A check request: validate it, resolve its target, and take the first step."""
        try:
            step = self._first_step(body, message_id, self.limits.deadline_s)
        except BadMessage as exc:
            return Outcome(poison=str(exc))
        if self.claims is not None and not self.claims(step.check_id, message_id):
            return Outcome(duplicate=f"check {step.check_id} was already started by another message")
        return self._start(step)

    def _first_step(self, body: str | bytes, message_id: str, deadline_s: int) -> Step:
        request = parse_request(body)
        now = self.clock()
        return Step(step="start", check_id=request.check_id or f"q-{message_id}", target=self._target(request),
                    trigger=request.trigger, correlation_id=request.correlation_id, scheduled=request.scheduled,
                    reply_to=request.reply_to, watcher=None, started=format_utc(now),
                    deadline=format_utc(now + dt.timedelta(seconds=deadline_s)))

    def _target(self, request: CheckRequest) -> Target:
        if request.inline is not None:
            subscription = request.inline.subscription.lower()
            if self.allowed_subscriptions is not None and subscription not in self.allowed_subscriptions:
                raise BadMessage(f"inline target: subscription {subscription} is not in ALLOWED_SUBSCRIPTIONS")
            return request.inline
        assert request.target_name is not None
        target = self.targets().by_name(request.target_name)
        if target is None:
            raise BadMessage(f"target: no target named {request.target_name!r} in the target list")
        return target

    # ---- the polls queue --------------------------------------------------------------------
    def advance(self, body: str | bytes) -> Outcome:
        """A step message: retry a start, or poll the operation."""
        try:
            step = parse_step(body)
        except BadMessage as exc:
            return Outcome(poison=str(exc))
        if self.clock() >= parse_utc(step.deadline):
            return self._end(step, timeout_finding(f"the check did not finish by its deadline {step.deadline}"))
        if step.step == "start":
            return self._start(step)
        return self._poll(step)

    # ---- the last delivery --------------------------------------------------------------------
    def give_up(self, body: str | bytes, message_id: str, reason: str, *, is_step: bool) -> Outcome | None:
        """On a message's last delivery after unexpected failures: its Error result, if it can be named."""
        try:
            step = parse_step(body) if is_step else self._first_step(body, message_id, 0)
        except BadMessage:
            return None
        return self._end(step, error_finding("StepFailed", reason))

    # ---- steps ------------------------------------------------------------------------------
    def _start(self, step: Step) -> Outcome:
        kind = CHECKS[step.target.kind]
        try:
            watcher = step.watcher or self.watchers(step.target)
            step = step.next(watcher=watcher)
            answer = self.arm.start(watcher, kind.operation, kind.request_body(step.target))
        except TransientArmError as exc:
            return self._retry(step, exc)
        except PermanentArmError as exc:
            return self._end(step, error_finding(exc.code, exc.message))
        return self._answered(step, answer)

    def _poll(self, step: Step) -> Outcome:
        if step.polls >= self.limits.max_polls:
            return self._end(step, timeout_finding(f"the operation was still running after {step.polls} polls"))
        assert step.location is not None and step.watcher is not None
        try:
            answer = self.arm.poll(step.location, step.watcher.subscription)
        except TransientArmError as exc:
            return self._retry(step, exc)
        except PermanentArmError as exc:
            return self._end(step, error_finding(exc.code, exc.message))
        return self._answered(step.next(polls=step.polls + 1, attempt=0), answer)

    def _answered(self, step: Step, answer: Done | Pending) -> Outcome:
        if isinstance(answer, Pending):
            return Outcome(step=step.next(step="poll", location=answer.location, attempt=0),
                           delay_s=answer.retry_after_s)
        try:
            finding = CHECKS[step.target.kind].finding(step.target, answer.result)
        except InvalidArmResult as exc:
            finding = error_finding("InvalidArmResult", str(exc))
        return self._end(step, finding)

    def _retry(self, step: Step, error: TransientArmError) -> Outcome:
        if error.status == 429:
            return self._throttled(step, error)
        attempt = step.attempt + 1
        delay = error.retry_after_s or min(self.limits.backoff_max_s, self.limits.backoff_base_s ** attempt)
        too_late = self.clock() + dt.timedelta(seconds=delay) >= parse_utc(step.deadline)
        if attempt >= self.limits.max_attempts or too_late:
            return self._end(step, error_finding(error.code, f"gave up after {attempt} tries: {error.message}"))
        return Outcome(step=step.next(attempt=attempt), delay_s=delay)

    def _throttled(self, step: Step, error: TransientArmError) -> Outcome:
        """ARM's "not now". Every check throttled together hears the same Retry-After, and retrying
        them all when it passes only empties the bucket again: each 429 of a check doubles the
        window its retry is spread over (after Retry-After), so a backlog drains at the bucket's
        pace. A 429 is not a failure and does not use up MAX_ATTEMPTS; the deadline bounds it."""
        throttled = step.throttled + 1
        window = min(self.limits.backoff_max_s, self.limits.backoff_base_s ** throttled)
        delay = max(1, error.retry_after_s or 0) + math.ceil(self.jitter(window))
        if self.clock() + dt.timedelta(seconds=delay) >= parse_utc(step.deadline):
            return self._end(step, error_finding(error.code, f"still throttled at the deadline after {throttled} "
                                                             f"answers 429: {error.message}"))
        return Outcome(step=step.next(throttled=throttled), delay_s=delay)

    def _end(self, step: Step, finding: Finding) -> Outcome:
        destination, port, protocol, direction = _describe(step.target)
        result = CheckResult(
            check_id=step.check_id, target=step.target.name, kind=step.target.kind, trigger=step.trigger,
            correlation_id=step.correlation_id, expected=step.target.expect, finding=finding,
            scheduled=step.scheduled, started=step.started, completed=format_utc(self.clock()), polls=step.polls,
            network_watcher=step.watcher.resource_id if step.watcher else None,
            source_resource_id=step.target.source_vm, destination=destination, port=port, protocol=protocol,
            direction=direction)
        return Outcome(result=result, reply_to=step.reply_to)

