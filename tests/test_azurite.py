"""Azurite, started by the fixture, works with the Python storage SDKs the way the app uses them."""

from __future__ import annotations

import time
import uuid

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from emulator.azurite import Azurite


def _queue(azurite: Azurite) -> QueueClient:
    client = QueueClient.from_connection_string(
        azurite.connection_string, f"q{uuid.uuid4().hex[:12]}",
        message_encode_policy=TextBase64EncodePolicy(), message_decode_policy=TextBase64DecodePolicy())
    client.create_queue()
    return client


def test_base64_messages_round_trip(azurite: Azurite) -> None:
    queue = _queue(azurite)
    queue.send_message('{"check": "é"}')
    [message] = queue.receive_messages(max_messages=1)
    assert message.content == '{"check": "é"}'
    assert message.dequeue_count == 1


def test_visibility_delay_hides_a_message_until_it_is_due(azurite: Azurite) -> None:
    queue = _queue(azurite)
    queue.send_message("later", visibility_timeout=2)
    assert list(queue.receive_messages()) == []
    deadline = time.monotonic() + 6
    seen = []
    while not seen and time.monotonic() < deadline:
        seen = list(queue.receive_messages())
        time.sleep(0.2)
    assert [m.content for m in seen] == ["later"]


def test_received_message_reappears_with_a_higher_dequeue_count(azurite: Azurite) -> None:
    queue = _queue(azurite)
    queue.send_message("again")
    [first] = queue.receive_messages(visibility_timeout=1)
    time.sleep(1.5)
    [second] = queue.receive_messages()
    assert (first.dequeue_count, second.dequeue_count) == (1, 2)


def test_blobs_and_tables_answer(azurite: Azurite) -> None:
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = blobs.create_container(f"c{uuid.uuid4().hex[:12]}")
    container.upload_blob("targets.yaml", b"targets: []\n")
    assert container.download_blob("targets.yaml").readall() == b"targets: []\n"
    tables = TableServiceClient.from_connection_string(azurite.connection_string)
    table = tables.create_table(f"t{uuid.uuid4().hex[:12]}")
    table.upsert_entity({"PartitionKey": "p", "RowKey": "r", "State": "OK"})
    assert table.get_entity("p", "r")["State"] == "OK"
