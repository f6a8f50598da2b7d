"""The webhook's enqueueing, on Azurite: a bundle goes onto the urgent queue several messages at a
time (in sequence, a large bundle's round trips to Azure Storage would miss the one-second answer),
and a delivery that failed halfway is completed by the action group's retry."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from emulator.azurite import Azurite
from emulator.load import write_targets
from shared import storage
from shared.investigations.service import Investigations
from shared.investigations.store import InvestigationStore
from shared.target_list import parse_target_list
from tests.test_investigation_payload import JSON, sample
from tests.test_investigation_store import recorded


class Sender:
    """Sends to a real queue, and notes how many sends were in flight at once. A send waits a
    little for a second one to join it, so that concurrency shows however fast Azurite is."""

    def __init__(self, queue: QueueClient, fail_at: int | None = None, join_s: float = 0.5) -> None:
        self.queue, self.fail_at, self.join_s = queue, fail_at, join_s
        self.lock = threading.Lock()
        self.in_flight = self.peak = self.calls = 0
        self.joined = threading.Event()

    def __call__(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.calls += 1
            number = self.calls
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            if self.in_flight >= 2:
                self.joined.set()
        try:
            self.joined.wait(self.join_s)
            if number == self.fail_at:
                raise ConnectionError("the queue service went away")
            storage.send(self.queue, message)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def service(azurite: Azurite, tmp_path: Path) -> Callable[[Sender | None], tuple[Investigations, Sender]]:
    path = tmp_path / "targets.json"
    write_targets(path, 140)  # twenty of each sample target: an alert on Database0 matches 20 (the cap)
    targets = parse_target_list(path.read_bytes())
    suffix = uuid.uuid4().hex[:10]
    table = TableClient.from_connection_string(azurite.connection_string, f"inv{suffix}")
    store = InvestigationStore(table)
    store.ensure_table()
    queue = QueueClient.from_connection_string(azurite.connection_string, f"urgent-{suffix}",
                                               message_encode_policy=TextBase64EncodePolicy(),
                                               message_decode_policy=TextBase64DecodePolicy())
    queue.create_queue()

    def make(sender: Sender | None = None) -> tuple[Investigations, Sender]:
        sender = sender or Sender(queue)
        return Investigations(targets=lambda: targets, topology=lambda: None, store=store, enqueue=sender), sender

    return make


def _queued(sender: Sender) -> list[str]:
    queue = sender.queue
    ids = []
    while batch := list(queue.receive_messages(max_messages=32, visibility_timeout=60)):
        ids += [json.loads(m.content)["checkId"] for m in batch]
    return ids


def test_a_bundle_is_sent_several_messages_at_a_time(service: Any) -> None:
    investigations, sender = service()
    answer = investigations.accept(json.dumps(sample()).encode(), JSON)
    assert answer.status == 202, answer.body
    assert len(answer.body["targets"]) == 20 and len(answer.body["checkIds"]) >= 20
    assert sender.peak > 1, "the bundle was sent one message after the other"
    assert sorted(_queued(sender)) == sorted(answer.body["checkIds"])


def test_a_delivery_that_failed_halfway_is_completed_by_the_retry(service: Any) -> None:
    investigations, failing = service()
    failing.fail_at = 5
    body = json.dumps(sample()).encode()
    with pytest.raises(ConnectionError):  # the host answers 500: the action group retries
        investigations.accept(body, JSON)
    first = set(_queued(failing))
    investigations, sender = service(Sender(failing.queue))
    answer = investigations.accept(body, JSON)
    assert answer.status == 202 and answer.body["duplicate"] is True
    assert first < set(answer.body["checkIds"])  # all but the one that failed
    # every planned check is on the queue now; one sent twice is dropped by its claim in the pipeline
    assert sorted(_queued(sender)) == sorted(answer.body["checkIds"])
    assert investigations.describe(answer.body["investigationId"]).body["status"] == "running"
    # a third delivery finds it running and sends nothing
    again = investigations.accept(body, JSON)
    assert again.status == 202 and again.body["duplicate"] is True and _queued(sender) == []


def test_a_single_thread_setting_sends_in_order(service: Any) -> None:
    investigations, sender = service()
    sender.join_s = 0.05
    investigations.enqueue_threads = 1
    answer = investigations.accept(json.dumps(sample()).encode(), JSON)
    assert answer.status == 202 and sender.peak == 1
    assert _queued(sender) == answer.body["checkIds"]


def test_old_investigations_are_pruned_at_most_once_an_hour(service: Any) -> None:
    investigations, _ = service()
    now = dt.datetime.now(dt.UTC)
    recorded(investigations.store, "inv-" + "1" * 24, now - dt.timedelta(days=91), checks=1)
    recorded(investigations.store, "inv-" + "2" * 24, now - dt.timedelta(days=89), checks=1)
    assert investigations.prune_old() == 1  # past retention_days (90)
    recorded(investigations.store, "inv-" + "3" * 24, now - dt.timedelta(days=91), checks=1)
    assert investigations.prune_old() == 0  # within the hour: no scan
    investigations.prune_every_s = 0
    assert investigations.prune_old() == 1
    assert investigations.store.read("inv-" + "2" * 24) is not None
