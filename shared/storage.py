"""Storage clients from a Functions-style connection setting, and queue sends the trigger can read.

One setting name serves the queue bindings in ``function_app.py`` and these SDK clients, as the
Functions host reads it: ``<NAME>`` holding a connection string (Azurite, locally), or the
identity-based form ``<NAME>__queueServiceUri`` / ``__blobServiceUri`` / ``__tableServiceUri``
with ``__credential=managedidentity`` and ``__clientId`` (in Azure: identities, not keys).

Messages are base64-encoded exactly once (``host.json`` has ``messageEncoding: base64``), and
checked against the 64 KiB queue limit before sending. Blobs that the app keeps parsed in memory
(the target list, the topology inventory) are downloaded again only when their ETag changed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceModifiedError, ResourceNotModifiedError
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.storage.blob import BlobClient, ContainerClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

MAX_MESSAGE_BYTES = 49_152  # 64 KiB after base64 encoding
MAX_VISIBILITY_S = 7 * 24 * 3600


class StorageSettingError(ValueError):
    """The connection setting is missing or incomplete; the message names the setting."""


class MessageTooLarge(ValueError):
    pass


def _credential(name: str, env: Mapping[str, str]) -> TokenCredential:
    kind = env.get(f"{name}__credential", "").lower()
    client_id = env.get(f"{name}__clientId")
    if kind == "managedidentity":
        return ManagedIdentityCredential(client_id=client_id)
    return DefaultAzureCredential(managed_identity_client_id=client_id)


def service_endpoint(name: str, service: str, env: Mapping[str, str] | None = None) -> tuple[str, Any]:
    """(account URL or connection string, credential or None) for ``service`` in queue|blob|table."""
    env = os.environ if env is None else env
    connection_string = env.get(name)
    if connection_string:
        return connection_string, None
    uri = env.get(f"{name}__{service}ServiceUri") or env.get(f"{name}__serviceUri")
    account = env.get(f"{name}__accountName")
    if not uri and account:
        uri = f"https://{account}.{service}.core.windows.net"
    if not uri:
        raise StorageSettingError(
            f"storage connection '{name}' is not configured: set {name} (a connection string) or "
            f"{name}__{service}ServiceUri (identity-based)")
    return uri, _credential(name, env)


@cache
def queue_client(connection: str, queue_name: str) -> QueueClient:
    """A process-wide client for one queue (credentials cache their tokens per instance)."""
    target, credential = service_endpoint(connection, "queue")
    encode, decode = TextBase64EncodePolicy(), TextBase64DecodePolicy()
    if credential is None:
        return QueueClient.from_connection_string(target, queue_name, message_encode_policy=encode,
                                                  message_decode_policy=decode)
    return QueueClient(target, queue_name, credential=credential, message_encode_policy=encode,
                       message_decode_policy=decode)


def container_client(connection: str, container: str, env: Mapping[str, str] | None = None) -> ContainerClient:
    """A blob container in the account of the connection setting ``connection``."""
    target, credential = service_endpoint(connection, "blob", env)
    if credential is None:
        return ContainerClient.from_connection_string(target, container)
    return ContainerClient(target, container, credential=credential)


def download_if_changed(blob: BlobClient, etag: str | None) -> tuple[bytes, str] | None:
    """The blob's content and ETag, or None when its ETag is still ``etag`` (304 Not Modified, nothing
    downloaded). A missing blob raises azure.core.exceptions.ResourceNotFoundError."""
    try:
        if etag is None:
            download = blob.download_blob()
        else:
            download = blob.download_blob(etag=etag, match_condition=MatchConditions.IfModified)
        return download.readall(), str(download.properties.etag)
    except (ResourceNotModifiedError, ResourceModifiedError):
        return None  # 304; the storage SDK reports it as either, depending on the error body


def encode_message(payload: Mapping[str, Any]) -> str:
    """Compact JSON, refused above the queue's size limit rather than failing at the service."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    size = len(text.encode())
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"message is {size} bytes; a queue message holds at most {MAX_MESSAGE_BYTES} "
                              "bytes before base64")
    return text


def send(queue: QueueClient, payload: Mapping[str, Any], *, delay_s: int = 0) -> None:
    """Send ``payload`` as JSON, visible after ``delay_s`` seconds (clamped to what the service accepts)."""
    send_text(queue, encode_message(payload), delay_s=delay_s)


def send_text(queue: QueueClient, text: str, *, delay_s: int = 0) -> None:
    queue.send_message(text, visibility_timeout=max(0, min(int(delay_s), MAX_VISIBILITY_S)))
