"""Results into Log Analytics through the real LogsIngestionClient, Azurite queues and the emulator:
batched, only failed rows retried, 429 Retry-After honoured, poison with a reason, replay."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace

import pytest
from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.stack import Emulator
from shared import runtime, storage
from shared.ingest import ResultsDrain
from shared.replay import replay
from shared.results import CheckResult
from shared.rows import table
from tests.test_results import result

STREAM = table()["stream"]


def _queue(azurite: Azurite, name: str) -> QueueClient:
    client = QueueClient.from_connection_string(azurite.connection_string, name,
                                                message_encode_policy=TextBase64EncodePolicy(),
                                                message_decode_policy=TextBase64DecodePolicy())
    client.create_queue()
    return client


@pytest.fixture
def drain(emu: Emulator, azurite: Azurite) -> ResultsDrain:
    name = f"results-{uuid.uuid4().hex[:8]}"
    client = LogsIngestionClient(emu.settings()["LOGS_INGESTION_ENDPOINT"],
                                 ManagedIdentityCredential(client_id=emu.identity.client_id), retry_total=0)
    return ResultsDrain(_queue(azurite, name), _queue(azurite, f"{name}-poison"), client, emu.ingestion.rule_id,
                        STREAM, max_dequeue=3, lease_s=30, retry_s=1)


def _enqueue(drain: ResultsDrain, count: int, **changes: object) -> list[str]:
    ids = []
    for i in range(count):
        item = replace(result(), check_id=f"c-{uuid.uuid4().hex[:6]}-{i}", **changes)
        storage.send(drain.queue, item.to_message())
        ids.append(item.check_id)
    return ids


def _ingested_ids(emu: Emulator) -> list[str]:
    return [row["CheckId"] for row in emu.ingestion.rows_of(STREAM)]


def test_a_batch_is_uploaded_in_few_calls_and_deleted(emu: Emulator, drain: ResultsDrain) -> None:
    ids = _enqueue(drain, 300)
    seen: list[CheckResult] = []
    drain.on_ingested = seen.extend
    first, second = drain.run(), drain.run()
    assert (first.received, first.ingested, second.received) == (256, 256, 44)
    assert sorted(_ingested_ids(emu)) == sorted(ids)
    assert emu.ingestion.calls == 2  # one call per batch: the rows fit in 1 MB
    assert sorted(r.check_id for r in seen) == sorted(ids)
    assert list(drain.queue.receive_messages()) == []


def test_only_the_failed_chunk_is_retried(emu: Emulator, drain: ResultsDrain) -> None:
    big = replace(result().finding, error_message="x" * 30_000)  # ~31 KB rows: 100 of them need 3+ chunks
    ids = _enqueue(drain, 100, finding=big)
    emu.faults.add(service="ingestion", kind="slow", seconds=0)
    emu.faults.add(service="ingestion", kind="status", status=503, code="ServiceUnavailable")
    seen: list[CheckResult] = []
    drain.on_ingested = seen.extend
    report = drain.run()
    assert 0 < report.retried < 100 and report.ingested == 100 - report.retried
    assert {r.check_id for r in seen} == set(_ingested_ids(emu))  # alerts only for what was ingested
    time.sleep(1.2)  # the failed chunk's messages reappear after retry_s
    again = drain.run()
    assert again.ingested == report.retried
    assert sorted(_ingested_ids(emu)) == sorted(ids)  # every row, none twice


def test_throttling_honours_retry_after(emu: Emulator, drain: ResultsDrain) -> None:
    _enqueue(drain, 3)
    emu.faults.add(service="ingestion", kind="status", status=429, code="TooManyRequests", retry_after=30)
    report = drain.run()
    assert (report.retried == 3 and "429" in report.errors[0]) or "TooManyRequests" in report.errors[0]
    assert drain.run().received == 0  # invisible for the 30 s the service asked for


def test_after_the_last_delivery_the_result_is_poisoned_whole_and_can_be_replayed(
        emu: Emulator, drain: ResultsDrain) -> None:
    [check_id] = _enqueue(drain, 1)
    emu.faults.add(service="ingestion", kind="status", status=500, count=None)
    poisoned = None
    deadline = time.monotonic() + 20  # deliveries after 1, then 2 s of backoff
    while poisoned is None and time.monotonic() < deadline:
        drain.run()
        poisoned = next(iter(drain.poison.receive_messages(visibility_timeout=1)), None)
        time.sleep(0.3)
    assert poisoned is not None
    record = json.loads(poisoned.content)
    assert "could not be ingested after 3 tries" in record["reason"]
    assert CheckResult.from_message(json.loads(record["message"])).check_id == check_id
    time.sleep(1.1)
    emu.faults.clear()
    assert replay(drain.queue, drain.poison) == 1
    assert drain.run().ingested == 1
    assert _ingested_ids(emu) == [check_id]


def test_a_message_that_is_no_result_is_poisoned_at_once(emu: Emulator, drain: ResultsDrain) -> None:
    storage.send_text(drain.queue, '{"version": 1, "check_id": 5}')
    report = drain.run()
    assert report.poisoned == 1 and emu.ingestion.calls == 0
    [poisoned] = list(drain.poison.receive_messages())
    assert "not a result message" in json.loads(poisoned.content)["reason"]


def test_an_identity_outage_loses_nothing(emu: Emulator, drain: ResultsDrain) -> None:
    ids = _enqueue(drain, 2)
    emu.faults.add(service="identity", kind="status", status=503, count=None)
    fresh = ResultsDrain(drain.queue, drain.poison, LogsIngestionClient(
        emu.settings()["LOGS_INGESTION_ENDPOINT"], ManagedIdentityCredential(client_id=emu.identity.client_id),
        retry_total=0), emu.ingestion.rule_id, STREAM, max_dequeue=3, retry_s=1)
    assert fresh.run().retried == 2
    emu.faults.clear()
    time.sleep(1.2)
    assert drain.run().ingested == 2 and sorted(_ingested_ids(emu)) == sorted(ids)


def test_an_ingest_run_takes_no_new_batch_past_its_budget(emu: Emulator, azurite: Azurite,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """host.json's functionTimeout is 5 minutes: a run stops taking batches once its budget is spent,
    and the next run goes on."""
    env = provision(azurite.connection_string, uuid.uuid4().hex[:8])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TARGETS_PATH", "targets.sample.yaml")
    runtime.reset()
    try:
        queue = storage.queue_client("NwcheckStorage", env["RESULTS_QUEUE"])
        for i in range(300):
            storage.send(queue, replace(result(), check_id=f"b-{i}").to_message())
        spent = runtime.ingest(budget_s=0)  # the first batch, then the budget is spent
        assert (spent.received, len(_ingested_ids(emu))) == (256, 256)
        rest = runtime.ingest()
        assert rest.received == 44 and len(set(_ingested_ids(emu))) == 300
    finally:
        runtime.reset()
