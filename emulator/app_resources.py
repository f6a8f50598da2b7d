"""What ``infra/`` creates in Azure for the app, created in Azurite: the app's queues (each with its
poison queue) and blob containers, and the app settings that name them. The demo, the benchmarks
and the tests use it, so that a new queue or container is added in one place."""

from __future__ import annotations

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

QUEUE_KINDS = ("requests", "urgent", "polls", "results", "alerts")
CONTAINERS = {"CHECKS_CONTAINER": "checks", "STATE_CONTAINER": "state"}
TABLES = {"ALERTS_TABLE": "alerts", "INVESTIGATIONS_TABLE": "investigations"}


def provision(connection_string: str, suffix: str = "") -> dict[str, str]:
    """Create the app's queues and containers (names end in ``-<suffix>`` when one is given, so tests
    do not share them) and return the settings that point the app at them."""
    tail = f"-{suffix}" if suffix else ""
    settings = {"NwcheckStorage": connection_string}
    for kind in QUEUE_KINDS:
        name = f"nwcheck-{kind}{tail}"
        settings[f"{kind.upper()}_QUEUE"] = name
        for queue in (name, f"{name}-poison"):
            try:
                QueueClient.from_connection_string(connection_string, queue).create_queue()
            except ResourceExistsError:
                pass
    blobs = BlobServiceClient.from_connection_string(connection_string)
    for setting, kind in CONTAINERS.items():
        settings[setting] = f"nwcheck-{kind}{tail}"
        try:
            blobs.create_container(settings[setting])
        except ResourceExistsError:
            pass
    for setting, kind in TABLES.items():  # created by the app itself on first use
        settings[setting] = f"nwcheck{kind}{suffix}"
    return settings
