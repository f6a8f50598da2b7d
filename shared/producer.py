"""For other services: build, validate and send a check request (contract version 1).

    from shared.producer import build_request, requests_queue, send_request
    queue = requests_queue("https://<account>.queue.core.windows.net", "nwcheck-requests", DefaultAzureCredential())
    send_request(queue, build_request(target="app-to-db-port80", correlation_id="deploy-1234"))

High-priority requests (``priority="high"``) go to the urgent queue (``nwcheck-urgent`` by default),
which the app drains apart from the sweep's backlog: ``requests_queue(url, queue_for(request), ...)``.

The message is validated exactly as the app will validate it, and base64-encoded once, as the
queue trigger expects. The producer needs only "Storage Queue Data Message Sender" on that queue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from azure.core.credentials import TokenCredential
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from shared import storage
from shared.messages import VERSION, parse_request


def build_request(target: str | None = None, inline: Mapping[str, Any] | None = None, *,
                  check_id: str | None = None, trigger: str = "queue", correlation_id: str | None = None,
                  reply_to: str | None = None, priority: str = "normal") -> dict[str, Any]:
    """A request for a stored target (by name) or an inline definition; BadMessage if invalid."""
    request: dict[str, Any] = {"version": VERSION, "trigger": trigger}
    if priority != "normal":
        request["priority"] = priority
    for key, value in (("target", target), ("inline", inline), ("checkId", check_id),
                       ("correlationId", correlation_id), ("replyTo", reply_to)):
        if value is not None:
            request[key] = dict(value) if isinstance(value, Mapping) else value
    parse_request(storage.encode_message(request))  # raises BadMessage naming what is wrong
    copy: dict[str, Any] = json.loads(json.dumps(request))  # a plain JSON copy
    return copy


def queue_for(request: Mapping[str, Any], requests: str = "nwcheck-requests", urgent: str = "nwcheck-urgent") -> str:
    """The queue a request belongs on: the urgent one for priority high."""
    return urgent if request.get("priority") == "high" else requests


def requests_queue(account_url_or_connection_string: str, queue_name: str,
                   credential: TokenCredential | None = None) -> QueueClient:
    """The requests queue with the encoding the trigger expects."""
    encode, decode = TextBase64EncodePolicy(), TextBase64DecodePolicy()
    if credential is None:
        return QueueClient.from_connection_string(account_url_or_connection_string, queue_name,
                                                  message_encode_policy=encode, message_decode_policy=decode)
    return QueueClient(account_url_or_connection_string, queue_name, credential=credential,
                       message_encode_policy=encode, message_decode_policy=decode)


def send_request(queue: QueueClient, request: Mapping[str, Any]) -> None:
    parse_request(storage.encode_message(request))
    storage.send(queue, request)
