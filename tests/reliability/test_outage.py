"""Outages in the middle of a sweep: storage (Azurite, persistent on disk) restarted, the Logs
Ingestion endpoint down, the identity endpoint failing. Each ends with its accounting: nothing
lost, and token errors are retries and Error results, never reachability alerts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from emulator.azurite import Azurite
from emulator.load import Worker, all_ingested, rows_of, wait_for
from emulator.stack import Emulator
from shared.producer import build_request, requests_queue, send_request

TARGETS = 300
VERDICTS = {"Reachable", "Unreachable", "Allow", "Deny", "VirtualAppliance"}


def _start(emu: Emulator) -> None:
    emu.arm.throttle.configure(write_burst=200, write_refill=50)
    emu.arm.lro.operation_seconds, emu.arm.lro.retry_after_s = 2.0, 1


def _finish(emu: Emulator, stack, worker: Worker, accepted: set[str], title: str, timeout_s: float = 400):
    try:
        finished = wait_for(all_ingested(emu, accepted, every_s=0), timeout_s, worker, every_s=0.5)
        stats = worker.stop()
    finally:
        if worker.process.poll() is None:
            worker.kill()
    accounting = stack.account(accepted, title)
    assert finished, accounting.report()
    assert not accounting.lost and not accounting.unexpected and accounting.poison == []
    assert {str(r["CheckId"]) for r in rows_of(emu)} == accepted
    return accounting, stats


@pytest.mark.timeout(600)
def test_azurite_restarted_mid_sweep_loses_no_check(emu: Emulator, scenario, tmp_path: Path) -> None:
    _start(emu)
    storage = Azurite(location=tmp_path / "azurite")
    try:
        stack = scenario(TARGETS, azurite_=storage)
        worker = Worker(stack.workdir / "w", stack.settings, sweep=True, lease_s=5)
        accepted = set(worker.swept().check_ids)
        # Mid-sweep: a quarter of the checks started (a busy machine can ingest all rows in one batch,
        # so waiting for rows could miss the sweep's middle).
        assert wait_for(lambda: emu.arm.posts >= TARGETS // 4, 300, worker, every_s=0.05)
        ports = storage.ports
        storage.stop()
        at_stop = len(rows_of(emu))
        time.sleep(10)
        storage = Azurite(location=tmp_path / "azurite", ports=ports)
        print(f"\nAzurite stopped after {at_stop} of {TARGETS} rows, restarted on the same folder 10 s later "
              "(the storage SDK's own retries ride over part of it)")
        assert at_stop < TARGETS
        _accounting, stats = _finish(emu, stack, worker, accepted, "Azurite restart mid-sweep")
        print(f"  worker: {stats['failed']} failed invocations, {len(stats['errors'])} storage errors around them")
    finally:
        storage.stop()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("down_s", [20, pytest.param(60, marks=pytest.mark.soak)], ids=["20s", "60s"])
def test_ingestion_down_mid_sweep_loses_no_row(emu: Emulator, scenario, down_s: int) -> None:
    _start(emu)
    stack = scenario(TARGETS)
    worker = Worker(stack.workdir / "w", stack.settings, sweep=True)
    accepted = set(worker.swept().check_ids)
    # Mid-sweep: checks are running and few or no rows are in yet, so the outage meets uploads
    # (waiting for a share of the rows could miss it: a busy machine can ingest all in one batch).
    assert wait_for(lambda: emu.arm.posts >= TARGETS // 4, 300, worker, every_s=0.05)
    fault = emu.faults.add(service="ingestion", kind="status", status=503, code="ServiceUnavailable",
                           operation="upload", count=None)
    at_down = len(rows_of(emu))
    time.sleep(down_s)
    emu.faults.clear()
    print(f"\nLogs Ingestion down (503) for {down_s} s after {at_down} of {TARGETS} rows; "
          f"{fault.hits} upload calls refused")
    assert at_down < TARGETS and fault.hits > 0
    _finish(emu, stack, worker, accepted, f"ingestion down {down_s} s", timeout_s=600)


@pytest.mark.timeout(900)
def test_identity_failing_gives_retries_and_errors_never_reachability_alerts(emu: Emulator, scenario) -> None:
    """A sweep while the identity endpoint fails, then, once it is back, every target checked again
    (a producer's requests). Token errors end as Error results that fire nothing; the real
    unexpected verdicts of the second round do fire. Two rounds, not one outage of a fixed length:
    on an idle machine all 300 checks started within the first seconds and every one of them used up
    its attempts inside the outage, so no real verdict was left to compare with."""
    _start(emu)
    # An unexpected verdict fires on the first result, so a token error taken for one would fire too.
    stack = scenario(TARGETS, MAX_ATTEMPTS="3")
    path = Path(stack.settings["TARGETS_PATH"])
    path.write_text(path.read_text().replace('"failureThreshold": 2', '"failureThreshold": 1'))
    assert '"failureThreshold": 1' in path.read_text()
    fault = emu.faults.add(service="identity", kind="status", status=500, operation="token", count=None)
    worker = Worker(stack.workdir / "w", stack.settings, sweep=True)
    try:
        swept = set(worker.swept().check_ids)
        # Every check of the sweep has ended (its result waits on the results queue: uploads need a
        # token too, so none reaches Log Analytics before the identity is back).
        results = QueueClient.from_connection_string(stack.settings["NwcheckStorage"], stack.settings["RESULTS_QUEUE"])
        assert wait_for(lambda: results.get_queue_properties().approximate_message_count >= len(swept), 300, worker,
                        every_s=0.5)
        emu.faults.clear()
        print(f"\nidentity endpoint answered 500 through the first round ({fault.hits} token requests)")
        queue = requests_queue(stack.settings["NwcheckStorage"], stack.settings["REQUESTS_QUEUE"])
        again = set()
        for target in json.loads(path.read_text())["targets"]:
            request = build_request(target["name"], check_id=f"again-{target['name']}")
            send_request(queue, request)
            again.add(request["checkId"])
    except BaseException:
        worker.kill()
        raise
    _accounting, _ = _finish(emu, stack, worker, swept | again, "identity failing, then every target again")
    rows = rows_of(emu)
    errors = {str(r["CheckId"]): r for r in rows if r["Status"] not in VERDICTS}
    assert errors, "the token outage should have ended some checks as Error"
    assert set(errors) <= swept  # the second round ran with a working identity
    assert {r["Status"] for r in errors.values()} == {"Error"}
    assert {r["ErrorCode"] for r in errors.values()} == {"TokenUnavailable"}, {r["ErrorCode"] for r in errors.values()}
    assert all(r["Healthy"] is None for r in errors.values())
    alerts = emu.ingestion.rows_of("Custom-NetworkWatcherAlert")
    fired = [a for a in alerts if a["AlertKind"] == "reachability" and a["EventKind"] == "Fired"]
    fired_by = {str(check) for a in fired for check in a["CheckIds"]}
    unhealthy = {str(r["CheckId"]) for r in rows if r["Healthy"] is False}
    print(f"  {len(errors)} Error results (TokenUnavailable), {len(fired)} reachability alerts, "
          f"for the {len(unhealthy)} real unexpected verdicts")
    assert fired, "the real unexpected verdicts should have fired"
    assert fired_by and fired_by <= unhealthy and not fired_by & set(errors)
