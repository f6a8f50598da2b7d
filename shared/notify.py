"""Where alert events go: the alerts queue (machines), a Log Analytics table (Azure Monitor alert
rules and action groups reach people by any channel), and optional webhooks.

A sender raises when its delivery failed; the alert store keeps the event pending and tries
again later, so an event is never lost. Webhook URLs come from settings only, never from a
payload, and must be https.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from azure.monitor.ingestion import LogsIngestionClient
from azure.storage.queue import QueueClient

from shared import storage

Sender = Callable[[Any], None]  # takes an AlertEvent (shared.alerts.state)


def alert_row(event: Any) -> dict[str, Any]:
    """The event as a row of ``infra/tables/alerts.json``."""
    return {"TimeGenerated": event.at, "EventId": event.event_id, "EventKind": event.kind,
            "AlertKind": event.alert, "Severity": event.severity, "TargetName": event.target,
            "Status": event.status, "Expected": event.expected, "BlockingHop": event.blocking_hop,
            "RuleName": event.rule_name, "RouteType": event.route_type, "IssueType": event.issue_type,
            "FirstSeen": event.first_seen, "LastSeen": event.last_seen, "CheckIds": list(event.check_ids),
            "Silenced": event.silenced, "LatencyAvgMs": event.latency_avg_ms, "ErrorCode": event.error_code,
            "ErrorMessage": event.error_message, "Summary": event.summary}


def queue_sender(queue: QueueClient) -> Sender:
    def send(event: Any) -> None:
        storage.send(queue, event.to_message())
    return send


def log_analytics_sender(client: LogsIngestionClient, rule_id: str, stream: str) -> Sender:
    def send(event: Any) -> None:
        client.upload(rule_id, stream, [alert_row(event)])  # raises on failure: the event stays pending
    return send


class WebhookError(RuntimeError):
    pass


def webhook_urls(setting: str) -> list[str]:
    """``ALERT_WEBHOOK_URLS``: https URLs separated by spaces or commas."""
    urls = [u for u in setting.replace(",", " ").split() if u]
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise ValueError(f"ALERT_WEBHOOK_URLS: {url!r} is not an https URL without credentials")
    return urls


def webhook_sender(urls: Sequence[str], session: requests.Session | None = None, timeout_s: float = 5) -> Sender:
    http = session or requests.Session()

    def send(event: Any) -> None:
        for url in urls:
            response = http.post(url, json=event.to_message(), timeout=timeout_s, allow_redirects=False)
            if not 200 <= response.status_code < 300:
                raise WebhookError(f"webhook {urlsplit(url).hostname} answered {response.status_code}")
    return send
