"""LocalHost's ``threads`` option: one instance's concurrency (host.json batches on a worker's
thread pool), with the same queue semantics as the sequential pump."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from pathlib import Path

import pytest

import function_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import LocalHost
from emulator.load import write_targets
from emulator.stack import Emulator
from shared import runtime
from tests.queues import raw_queue


@pytest.mark.timeout(300)
def test_threads_run_a_batch_concurrently_and_lose_nothing(emu: Emulator, azurite: Azurite, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    names = write_targets(tmp_path / "targets.json", 40)
    env = provision(azurite.connection_string, uuid.uuid4().hex[:8]) | {"TARGETS_PATH": str(tmp_path / "targets.json")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runtime.reset()
    emu.arm.lro.operation_seconds = 0.3
    emu.faults.add(service="arm", kind="slow", seconds=0.3, operation="*", count=None)  # every ARM call is slow
    host = LocalHost(function_app.app, threads=4, retry_visibility_s=0)
    meta, user = host.functions["check_requests"]
    lock, now, peak = threading.Lock(), [0], [0]

    def counting(**kwargs):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        try:
            user(**kwargs)
        finally:
            with lock:
                now[0] -= 1

    host.functions["check_requests"] = (meta, counting)
    requests = raw_queue(azurite, env["REQUESTS_QUEUE"])
    bad = base64.b64encode(b"not json").decode()
    requests.send_message(bad)  # poison, as in the sequential pump
    for i, name in enumerate(names):
        body = json.dumps({"version": 1, "target": name, "checkId": f"t-{i}"})
        requests.send_message(base64.b64encode(body.encode()).decode())
    rows = lambda: {r["CheckId"] for r in emu.ingestion.rows_of("Custom-NetworkWatcherCheck")}  # noqa: E731
    try:
        assert host.run_until(lambda: len(rows()) >= len(names), timeout_s=240, timers={"ingest": 1})
    finally:
        runtime.reset()
    assert rows() == {f"t-{i}" for i in range(len(names))}
    assert 1 < peak[0] <= 4, peak  # concurrent, never more than the worker's threads
    assert host.in_flight() == 0 and host.errors == []
    poison = raw_queue(azurite, f"{env['REQUESTS_QUEUE']}-poison")
    assert len(list(poison.receive_messages(max_messages=32))) == 1
