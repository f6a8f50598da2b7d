"""``nwcheck run``: run checks now and wait for their results (a terminal may wait; a function may not).

Each check goes through the app's own pipeline (``shared.pipeline.Pipeline``): the same request
validation, watcher resolution, request bodies, ARM client, Location checks, retries and result
reading. Only the waiting differs: where the app re-enqueues a step to become visible after
Retry-After, this command sleeps that long in a worker thread, several checks at once. The whole
run has one deadline (``--timeout``): a check not done by then ends as Timeout, like a check past
its deadline in the app.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import math
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from shared.cli.common import (
    DIFFERS,
    FAILED,
    OK,
    CliError,
    add_output,
    command,
    positive,
    read_target_list,
    setting,
    targets_path,
)
from shared.target_list import TargetList
from shared.targets import Target

if TYPE_CHECKING:
    from shared.arm import ArmClient
    from shared.pipeline import Limits, Outcome, Pipeline
    from shared.results import CheckResult

GLOB_CHARS = frozenset("*?[")
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_PARALLEL = 8


def add_parser(sub: Any) -> None:
    p = command(
        sub, "run", help="run checks now and wait for their results",
        description="Run checks of the target list now, from this machine, and print their results: a table, "
        "and the hop path of each connectivity check with the blocking hop and its rule or route marked. "
        "Uses DefaultAzureCredential (az login, environment, managed identity) against ARM_ENDPOINT "
        "(default https://management.azure.com); the settings `make emulator` prints point it at the local "
        "emulator (ARM_ENDPOINT, REQUESTS_CA_BUNDLE, IDENTITY_ENDPOINT, ...).",
        notes="When some results differ from what their targets expect and others could not run, the exit code "
        "is 1.")
    p.add_argument("names", nargs="*", metavar="TARGET",
                   help="target names or glob patterns such as 'app-to-*' (quote them), ignoring case")
    p.add_argument("--all", action="store_true", help="every valid target of the list")
    p.add_argument("--targets", metavar="FILE", help="the target list, JSON or YAML (default: $TARGETS_PATH)")
    p.add_argument("--timeout", type=positive(float), default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                   help=f"end checks still running after this long as Timeout (default: {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--parallel", type=positive(int), default=DEFAULT_PARALLEL, metavar="N",
                   help=f"checks running at once (default: {DEFAULT_PARALLEL})")
    add_output(p)
    p.set_defaults(func=run)


# --------------------------------------------------------------------------- choosing targets


def select(target_list: TargetList, names: list[str], every: bool) -> list[Target]:
    """The targets to check, in the list's order; CliError naming every name that matches nothing."""
    if every and names:
        raise CliError("give target names or --all, not both")
    if not every and not names:
        raise CliError("name the targets to check (names or glob patterns), or give --all")
    if every:
        chosen = list(target_list.targets)
        if not chosen:
            raise CliError("the target list has no valid target")
        return chosen
    invalid: dict[str, list[str]] = {}
    for error in target_list.errors:
        if error.target is not None:
            invalid.setdefault(error.target.lower(), []).append(str(error))
    wanted: set[str] = set()
    problems = []
    for name in names:
        if GLOB_CHARS & set(name):
            matches = [t.name for t in target_list.targets if fnmatch.fnmatchcase(t.name.lower(), name.lower())]
            if not matches:
                problems.append(f"no target matches {name!r}")
            wanted.update(m.lower() for m in matches)
        elif target_list.by_name(name) is not None:
            wanted.add(name.lower())
        elif name.lower() in invalid:
            problems.append(f"target {name!r} is invalid and cannot run: " + "; ".join(invalid[name.lower()]))
        else:
            close = get_close_matches(name, [t.name for t in target_list.targets], n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(f"no target named {name!r} in the target list{hint}")
    if problems:
        raise CliError("\n".join(problems))
    return [t for t in target_list.targets if t.name.lower() in wanted]


# --------------------------------------------------------------------------- running checks


class Interrupted(Exception):
    pass


@dataclass
class Runner:
    """Drives each check through the pipeline, waiting in this thread where the app would re-enqueue."""

    arm: ArmClient
    target_list: TargetList
    limits: Limits
    deadline: float  # time.time() when the run ends
    stop: threading.Event
    watchers: Any = None  # one WatcherResolver for all checks: each VM's region is read once

    def check(self, target: Target) -> CheckResult:
        from shared import storage
        from shared.pipeline import Pipeline
        from shared.results import format_utc
        from shared.steps import Step

        check_id = f"cli-{uuid.uuid4().hex[:20]}"
        remaining = self.deadline - time.time()
        pipeline = Pipeline(self.arm, lambda: self.target_list, watchers=self.watchers,
                            limits=replace(self.limits, deadline_s=max(1, math.ceil(remaining))))
        if remaining <= 0:
            # Out of time before it could start: the pipeline ends it as a Timeout without calling ARM.
            now = format_utc(dt.datetime.now(dt.UTC))
            step = Step(step="start", check_id=check_id, target=target, trigger="queue", correlation_id=None,
                        scheduled=None, reply_to=None, watcher=None, started=now, deadline=now)
            outcome = pipeline.advance(storage.encode_message(step.to_message()))
        else:
            request = storage.encode_message({"version": 1, "target": target.name, "checkId": check_id})
            outcome = self._take(pipeline, request, check_id, is_step=False)
        while outcome.result is None:
            if outcome.step is None:
                raise RuntimeError(f"the pipeline refused the check of {target.name}: "
                                   f"{outcome.poison or outcome.duplicate}")
            self._wait(outcome)
            outcome = self._take(pipeline, storage.encode_message(outcome.step.to_message()), check_id, is_step=True)
        return outcome.result

    def _wait(self, outcome: Outcome) -> None:
        """Retry-After (or the pipeline's backoff), but not past the check's deadline."""
        from shared.results import parse_utc

        assert outcome.step is not None
        left = (parse_utc(outcome.step.deadline) - dt.datetime.now(dt.UTC)).total_seconds()
        if self.stop.wait(max(0.0, min(float(outcome.delay_s), left + 0.05))):
            raise Interrupted

    @staticmethod
    def _take(pipeline: Pipeline, body: str, check_id: str, *, is_step: bool) -> Outcome:
        """One step; an unexpected failure ends the check as an Error result, as on a message's last delivery."""
        try:
            return pipeline.advance(body) if is_step else pipeline.accept(body, check_id)
        except Exception as exc:
            ended = pipeline.give_up(body, check_id, f"{type(exc).__name__}: {exc}", is_step=is_step)
            if ended is None:
                raise
            return ended


def run_checks(targets: list[Target], target_list: TargetList, *, timeout_s: float, parallel: int,
               progress: bool = False) -> list[CheckResult]:
    import requests
    from azure.identity import DefaultAzureCredential

    from shared.arm import ArmClient
    from shared.pipeline import Limits, WatcherResolver

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(10, parallel))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    arm = ArmClient(setting("ARM_ENDPOINT", "https://management.azure.com"), DefaultAzureCredential(),
                    api_version=setting("NETWORK_API_VERSION", "2024-05-01"), session=session)
    # The run's deadline bounds every check; polls are not counted, the clock is.
    limits = Limits(max_polls=1_000_000, max_attempts=int(setting("MAX_ATTEMPTS", "8")),
                    backoff_base_s=int(setting("BACKOFF_BASE_S", "2")))
    stop = threading.Event()
    runner = Runner(arm, target_list, limits, time.time() + timeout_s, stop, WatcherResolver(arm))

    def one(target: Target) -> CheckResult:
        result = runner.check(target)
        if progress:
            print(f"  {result.target}: {result.finding.status} ({result.duration_ms / 1000:.1f} s)",
                  file=sys.stderr, flush=True)
        return result

    pool = ThreadPoolExecutor(max_workers=min(parallel, len(targets)), thread_name_prefix="nwcheck-run")
    try:
        futures = [pool.submit(one, target) for target in targets]
        pending = set(futures)
        while pending:
            # Wake up now and then: the kernel may hand a Ctrl-C to a worker thread, and Python then
            # raises KeyboardInterrupt only when the main thread runs again, never while it sleeps
            # on a future.
            done, pending = wait(pending, timeout=0.2)
            for future in done:
                future.result()  # the first failure ends the run at once
        return [future.result() for future in futures]
    except BaseException:
        stop.set()  # waiting workers end at once; a request in flight ends within its timeout
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def exit_code(results: list[CheckResult]) -> int:
    """1 if any result differs from what its target expects; else 3 if any could not tell; else 0."""
    if any(r.healthy is False for r in results):
        return DIFFERS
    if any(r.healthy is None for r in results):
        return FAILED
    return OK


def run(args: argparse.Namespace) -> int:
    from shared.cli import render

    path = targets_path(args.targets)
    target_list = read_target_list(path)
    chosen = select(target_list, args.names, args.all)
    for error in target_list.errors:
        print(f"warning: {path}: {error} (target skipped)", file=sys.stderr)
    progress = args.output == "table" and sys.stderr.isatty()
    if progress:
        print(f"checking {len(chosen)} target(s), at most {args.parallel} at once, timeout {args.timeout:g} s",
              file=sys.stderr, flush=True)
    started = time.monotonic()
    results = run_checks(chosen, target_list, timeout_s=args.timeout, parallel=args.parallel, progress=progress)
    elapsed = time.monotonic() - started
    code = exit_code(results)
    differ = sum(r.healthy is False for r in results)
    failed = sum(r.healthy is None for r in results)
    summary = {"checks": len(results), "asExpected": len(results) - differ - failed, "differ": differ,
               "couldNotTell": failed, "seconds": round(elapsed, 3), "exitCode": code}
    if args.output == "json":
        print(json.dumps({"results": [render.result_json(r) for r in results], "summary": summary}, indent=2))
        return code
    print(render.results_table(results))
    for result in results:
        if result.kind == "connectivity" and result.finding.status not in ("Error", "Timeout"):
            print()
            print(render.hop_path(result))
    print()
    print(f"{len(results)} check(s) in {elapsed:.1f} s: {summary['asExpected']} as expected, {differ} differ, "
          f"{failed} could not tell (Error, Timeout or Unknown).")
    return code
