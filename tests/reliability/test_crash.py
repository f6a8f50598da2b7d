"""SIGKILL the worker in the middle of a sweep and start another: every accepted check still ends
as a row. Duplicates only where at-least-once delivery allows them (a step that ran again after
the kill), and all of them removable by check id."""

from __future__ import annotations

import time

import pytest

from emulator.load import Worker, all_ingested, rows_of, wait_for
from emulator.stack import Emulator

TARGETS = 300
LEASE_S = 5  # the host leases for minutes; short here so that the killed worker's messages come back soon


@pytest.mark.timeout(600)
def test_a_worker_killed_mid_sweep_loses_no_check(emu: Emulator, scenario) -> None:
    emu.arm.throttle.configure(write_burst=200, write_refill=50)
    emu.arm.lro.operation_seconds, emu.arm.lro.retry_after_s = 2.0, 1
    stack = scenario(TARGETS)
    first = Worker(stack.workdir / "w", stack.settings, sweep=True, lease_s=LEASE_S, name="first")
    try:
        accepted = set(first.swept().check_ids)
        assert len(accepted) == TARGETS
        # Killed while starting the checks: some started, none ingested yet.
        assert wait_for(lambda: emu.arm.posts >= TARGETS // 3, 300, first, every_s=0.02)
    finally:
        first.kill()
    print(f"\nfirst worker killed (SIGKILL) after {emu.arm.posts} of {TARGETS} operations started, "
          f"{len(rows_of(emu))} rows")
    second = Worker(stack.workdir / "w", stack.settings, lease_s=LEASE_S, name="second")
    try:
        # Killed again while ingesting: some rows in, some results leased by its ingest.
        assert wait_for(lambda: len(rows_of(emu)) > 0, 300, second, every_s=0.02)
    finally:
        second.kill()
    at_kill = len({r["CheckId"] for r in rows_of(emu)})
    print(f"second worker killed after {at_kill} of {TARGETS} checks ingested, {emu.arm.posts} operations started")
    assert at_kill < TARGETS  # really in the middle

    started = time.monotonic()
    third = Worker(stack.workdir / "w", stack.settings, lease_s=LEASE_S, name="third")
    try:
        finished = wait_for(all_ingested(emu, accepted, every_s=0), 400, third, every_s=0.5)
        stats = third.stop()
    finally:
        if third.process.poll() is None:
            third.kill()
    accounting = stack.account(accepted, "crash (two SIGKILLs mid-sweep, then a new worker)")
    print(f"  the third worker finished in {time.monotonic() - started:.1f} s; "
          f"ARM started {emu.arm.posts} operations for {TARGETS} checks; "
          f"{sum(stats['invocations'].values())} invocations")
    assert finished, accounting.report()
    assert not accounting.lost and not accounting.unexpected and accounting.poison == []
    # Duplicates are the same check again: one check id, one target, one verdict.
    by_id: dict[str, set[tuple[str, str]]] = {}
    for row in rows_of(emu):
        by_id.setdefault(row["CheckId"], set()).add((row["TargetName"], row["Status"]))
    assert set(by_id) == accepted and all(len(v) == 1 for v in by_id.values())
    # A start is repeated only for a check claimed by a killed worker without its step sent (few).
    assert emu.arm.posts <= TARGETS + 2 * 24
