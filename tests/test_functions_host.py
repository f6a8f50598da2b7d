"""The local stand-in for the Functions host, running function_app.py's real functions on Azurite."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

import function_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import LocalHost, resolve
from emulator.stack import Emulator
from shared import runtime
from shared.results import CheckResult
from tests.queues import raw_queue

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def host(emu: Emulator, azurite: Azurite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHost]:
    targets = tmp_path / "targets.yaml"  # the sample, with every target due every minute
    targets.write_text(re.sub(r"interval: \w+", "interval: 1m", (ROOT / "targets.sample.yaml").read_text()))
    suffix = uuid.uuid4().hex[:8]
    env = provision(azurite.connection_string, suffix) | {"TARGETS_PATH": str(targets),
                                                           "TIMER_SCHEDULE": "0 * * * * *"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runtime.reset()
    yield LocalHost(function_app.app, retry_visibility_s=0)
    runtime.reset()



def _same_minute_ahead() -> None:
    """Two ticks must fall in one minute: wait out the last seconds of this one."""
    second = dt.datetime.now(dt.UTC).second
    if second >= 55:
        time.sleep(61 - second)


def _drain(client: QueueClient) -> list[str]:
    out = []
    while batch := list(client.receive_messages(max_messages=32)):
        for message in batch:
            out.append(base64.b64decode(message.content).decode())
            client.delete_message(message)
    return out


def test_a_sweep_yields_exactly_one_result_per_target(emu: Emulator, azurite: Azurite, host: LocalHost) -> None:
    emu.arm.lro.operation_seconds, emu.arm.lro.retry_after_s = 3.0, 1
    assert host.tick("sweep") == 7
    results_queue = raw_queue(azurite, runtime.queue_name("results"))
    results: list[CheckResult] = []

    def collected() -> bool:
        results.extend(CheckResult.from_message(json.loads(m)) for m in _drain(results_queue))
        return len(results) >= 7

    assert host.run_until(collected, timeout_s=60)
    by_target = {r.target: r for r in results}
    assert len(results) == len(by_target) == 7
    assert by_target["app-to-db-port80"].finding.rule_name == "UserRule_Port80"
    assert by_target["internet-in-3389"].finding.status == "Deny"
    assert all(r.polls >= 3 for r in results)  # 3 s operations, polled every second
    steps = [i for i in host.invocations if i.function == "check_steps"]
    assert len(steps) >= 21
    assert [i for i in host.invocations if not i.ok] == []
    # No invocation waits out a Retry-After (1 s): each lasts only as long as its HTTP calls.
    assert max(i.seconds for i in host.invocations) < 1.0, sorted(i.seconds for i in host.invocations)[-3:]
    for kind in ("requests", "polls"):
        assert _drain(raw_queue(azurite, f"{runtime.queue_name(kind)}-poison")) == []


def test_a_repeated_sweep_in_the_same_minute_sends_the_same_check_ids(host: LocalHost, azurite: Azurite) -> None:
    _same_minute_ahead()
    host.tick("sweep")
    host.tick("sweep")
    ids = [json.loads(m)["checkId"] for m in _drain(raw_queue(azurite, runtime.queue_name("requests")))]
    assert len(ids) == 14 and len(set(ids)) == 7


def test_a_past_due_sweep_also_covers_the_minutes_it_may_have_missed(host: LocalHost, azurite: Azurite) -> None:
    host.tick("sweep", past_due=True)
    requests = [json.loads(m) for m in _drain(raw_queue(azurite, runtime.queue_name("requests")))]
    slots = {r["scheduled"] for r in requests}
    assert len(slots) == runtime.CATCH_UP_MINUTES + 1  # every target is due every minute here
    assert len(requests) == 7 * len(slots) == len({r["checkId"] for r in requests})


def test_a_repeated_sweep_runs_each_check_once(emu: Emulator, host: LocalHost, azurite: Azurite) -> None:
    emu.arm.lro.operation_seconds = 0.5
    _same_minute_ahead()
    assert host.tick("sweep") + host.tick("sweep") == 14
    results_queue = raw_queue(azurite, runtime.queue_name("results"))
    results: list[str] = []
    host.run_until(lambda: bool(results.extend(_drain(results_queue))) or len(results) >= 7, timeout_s=30)
    host.run_until(lambda: False, timeout_s=3)  # and nothing more arrives
    results.extend(_drain(results_queue))
    assert len(results) == 7 and emu.arm.posts == 7


def test_an_unencoded_message_fails_to_bind_until_it_is_poisoned(emu: Emulator, azurite: Azurite,
                                                                 host: LocalHost) -> None:
    requests = raw_queue(azurite, runtime.queue_name("requests"))
    requests.send_message('{"version": 1, "target": "app-to-bing"}')  # not base64: the trigger cannot bind it
    for _ in range(host.max_dequeue):
        host.pump("check_requests")
    poison = raw_queue(azurite, f"{runtime.queue_name('requests')}-poison")
    [message] = list(poison.receive_messages())
    assert message.content == '{"version": 1, "target": "app-to-bing"}'
    assert list(requests.receive_messages()) == []
    assert emu.arm_server.requests == []


def test_binding_expressions_need_their_setting() -> None:
    assert resolve("%A%-x", {"A": "q"}) == "q-x"
    with pytest.raises(KeyError, match="MISSING"):
        resolve("%MISSING%", {})


def _rows(emu: Emulator) -> list[str]:
    return [row["CheckId"] for row in emu.ingestion.rows_of("Custom-NetworkWatcherCheck")]


def test_every_result_becomes_one_row_in_log_analytics(emu: Emulator, host: LocalHost) -> None:
    emu.arm.lro.operation_seconds = 0.5
    assert host.tick("sweep") == 7
    assert host.run_until(lambda: len(_rows(emu)) >= 7, timeout_s=60, timers={"ingest": 1.0})
    assert len(_rows(emu)) == len(set(_rows(emu))) == 7
    assert emu.ingestion.calls <= 7


def test_an_ingestion_outage_of_30_s_in_a_sweep_loses_no_row(emu: Emulator, azurite: Azurite,
                                                              host: LocalHost) -> None:
    emu.arm.lro.operation_seconds = 0.5
    emu.faults.add(service="ingestion", kind="status", status=503, code="ServiceUnavailable", count=None)
    outage_ends = time.monotonic() + 30
    host.tick("sweep")

    def healed_and_done() -> bool:
        if time.monotonic() >= outage_ends:
            emu.faults.clear()
        return len(_rows(emu)) >= 7

    assert host.run_until(healed_and_done, timeout_s=120, timers={"ingest": 1.0})
    host.run_until(lambda: False, timeout_s=2, timers={"ingest": 1.0})
    rows = _rows(emu)
    assert sorted(rows) == sorted(set(rows)) and len(rows) == 7  # rows = results, none twice
    poison = raw_queue(azurite, f"{runtime.queue_name('results')}-poison")
    assert list(poison.receive_messages()) == []

