"""Queue helpers for tests that read what the app wrote, as another service would."""

from __future__ import annotations

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient

from emulator.azurite import Azurite


def raw_queue(azurite: Azurite, name: str) -> QueueClient:
    """A client without encode/decode policies (contents as stored), the queue created if absent."""
    client = QueueClient.from_connection_string(azurite.connection_string, name)
    try:
        client.create_queue()
    except ResourceExistsError:
        pass
    return client
