from __future__ import annotations

import base64
import json
import uuid

import pytest
from azure.storage.queue import QueueClient

from emulator.azurite import Azurite
from shared import storage
from shared.storage import MAX_MESSAGE_BYTES, MessageTooLarge, StorageSettingError, encode_message, service_endpoint


@pytest.fixture
def queue(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> QueueClient:
    monkeypatch.setenv("NwcheckStorage", azurite.connection_string)
    client = storage.queue_client("NwcheckStorage", f"q{uuid.uuid4().hex[:10]}")
    client.create_queue()
    return client


def test_messages_are_base64_once_as_the_trigger_expects(azurite: Azurite, queue: QueueClient) -> None:
    storage.send(queue, {"check": "é"})
    raw = QueueClient.from_connection_string(azurite.connection_string, queue.queue_name)
    [message] = raw.receive_messages()
    assert json.loads(base64.b64decode(message.content)) == {"check": "é"}


def test_delay_keeps_a_message_invisible(queue: QueueClient) -> None:
    storage.send(queue, {"n": 1}, delay_s=30)
    assert list(queue.receive_messages()) == []


def test_size_limit_is_checked_before_sending() -> None:
    at_limit = {"x": "a" * (MAX_MESSAGE_BYTES - len('{"x":""}'))}
    assert len(encode_message(at_limit).encode()) == MAX_MESSAGE_BYTES
    with pytest.raises(MessageTooLarge, match="49153 bytes"):
        encode_message({"x": "a" * (MAX_MESSAGE_BYTES - len('{"x":""}') + 1)})


def test_azurite_refuses_what_would_exceed_the_encoded_limit(queue: QueueClient) -> None:
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError):
        queue.send_message("a" * (MAX_MESSAGE_BYTES + 3))  # 65,540 bytes once base64-encoded


def test_identity_based_connection_uses_the_service_uri_and_a_credential() -> None:
    env = {"Q__queueServiceUri": "https://acct.queue.core.windows.net", "Q__credential": "managedidentity",
           "Q__clientId": "11111111-2222-3333-4444-555555555555"}
    uri, credential = service_endpoint("Q", "queue", env)
    assert uri == "https://acct.queue.core.windows.net"
    assert type(credential).__name__ == "ManagedIdentityCredential"
    uri, _ = service_endpoint("Q", "blob", {"Q__accountName": "acct"})
    assert uri == "https://acct.blob.core.windows.net"


def test_missing_connection_names_the_setting() -> None:
    with pytest.raises(StorageSettingError, match="NwcheckStorage__queueServiceUri"):
        service_endpoint("NwcheckStorage", "queue", {})
