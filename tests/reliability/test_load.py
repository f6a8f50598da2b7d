"""A sweep of many targets against ARM-like throttling (writes: burst 200, then 50 per second) and
2 s operations, through the real functions in one instance-like worker (host.json's batchSize 16 +
newBatchThreshold 8 leased per queue, the Python worker's default thread pool). Every check ends
as a row, none is lost, and the app paces itself on 429s. `make test` runs 300 targets; the soak
(`make soak`, and CI through `make test`) runs 5,000."""

from __future__ import annotations

import time

import pytest

from emulator.load import Worker, all_ingested, wait_for
from emulator.stack import Emulator

BURST, REFILL, OPERATION_S = 200, 50, 2.0
VERDICTS = {"Reachable", "Unreachable", "Allow", "Deny", "VirtualAppliance", "Internet", "VnetLocal",
            "VirtualNetworkGateway", "None"}


def _load(emu: Emulator, scenario, targets: int, timeout_s: float, burst: int = BURST, refill: float = REFILL,
          max_429_per_target: float = 3) -> None:
    emu.arm.throttle.configure(write_burst=burst, write_refill=refill)
    emu.arm.lro.operation_seconds, emu.arm.lro.retry_after_s = OPERATION_S, 1
    stack = scenario(targets)
    started = time.monotonic()
    worker = Worker(stack.workdir / "w", stack.settings, sweep=True)
    try:
        swept = worker.swept()
        accepted = set(swept.check_ids)
        assert len(accepted) == targets
        finished = wait_for(all_ingested(emu, accepted, every_s=0), timeout_s, worker, every_s=0.5)
        makespan = time.monotonic() - started
        stats = worker.stop()
    finally:
        if worker.process.poll() is None:
            worker.kill()
    accounting = stack.account(accepted, f"load, {targets} targets")
    bound = max(0, targets - burst) / refill + OPERATION_S
    posts, throttled = emu.arm.posts, emu.arm.throttled
    print(f"  makespan {makespan:.1f} s (sweep to the last row); throttling lower bound {bound:.1f} s "
          f"({makespan / bound:.2f}x)\n"
          f"  sweep function {swept.seconds * 1000:.0f} ms for {targets} targets\n"
          f"  ARM: {posts} accepted POSTs, {throttled} answered 429 ({throttled / max(posts, 1):.2f} per POST)\n"
          f"  worker: {sum(stats['invocations'].values())} invocations {dict(stats['invocations'])}, "
          f"{sum(stats['function_seconds'].values()):.1f} function-seconds, longest {stats['longest_s']:.2f} s, "
          f"CPU {stats['cpu_s']:.1f} s, peak RSS {stats['max_rss_mb']:.0f} MB")
    assert finished, accounting.report()
    assert not accounting.lost and not accounting.unexpected and accounting.poison == []
    assert sum(accounting.statuses[s] for s in VERDICTS) == targets, accounting.statuses  # no Error, no Timeout
    assert posts == targets  # each check started exactly once
    assert stats["failed"] == 0 and stats["errors"] == []
    # Pacing: the throttled starts wait on the queue; a generous bound, far below hammering.
    assert throttled <= max_429_per_target * targets
    assert swept.seconds < 60  # the function timeout is 5 min: the fan-out is far within it
    assert makespan >= bound * 0.9  # sanity: the throttle really held it back


@pytest.mark.timeout(900)
def test_a_sweep_of_300_targets_under_throttling(emu: Emulator, scenario) -> None:
    _load(emu, scenario, 300, timeout_s=600)


@pytest.mark.timeout(900)
def test_a_scarce_write_bucket_is_waited_for_not_hammered(emu: Emulator, scenario) -> None:
    """Burst 10, refill 4/s for 120 targets: most starts meet a 429 at first. They spread their
    retries (a window that doubles per 429, after Retry-After) and use up no attempt, so every
    check completes; retrying each after its own 1 s Retry-After would end many as Error."""
    _load(emu, scenario, 120, timeout_s=600, burst=10, refill=4, max_429_per_target=5)


@pytest.mark.soak
@pytest.mark.timeout(2700)
def test_a_sweep_of_5000_targets_under_throttling(emu: Emulator, scenario) -> None:
    _load(emu, scenario, 5000, timeout_s=2400)
