"""Results into Log Analytics, with nothing lost: drain the results queue in batches.

Each run receives up to a few hundred result messages, uploads their rows in as few calls as the
1 MB limit allows (``LogsIngestionClient`` chunks them), and only then lets anything else happen
to them (alerts: data first, notifications second) and deletes them. When a chunk fails, only its
messages stay on the queue: they reappear after the service's ``Retry-After`` (429) or a short
delay that doubles per delivery, and on their last delivery they go to ``<queue>-poison`` whole, with the reason, for
``python -m shared.replay``. Rows carry the check id, so a redelivered result is a removable
duplicate (see the README's KQL).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.monitor.ingestion import LogsIngestionClient, LogsUploadError
from azure.storage.queue import QueueClient, QueueMessage

from shared import storage
from shared.results import CheckResult
from shared.retry_after import retry_after_seconds
from shared.rows import check_row

log = logging.getLogger(__name__)
PAGE = 32  # the most messages one receive returns


@dataclass
class DrainReport:
    received: int = 0
    ingested: int = 0
    retried: int = 0
    poisoned: int = 0
    errors: list[str] = field(default_factory=list)


MAX_DELAY_S = 300


def _delay(error: Exception, base_s: int, dequeue_count: int) -> int:
    """How long a failed result waits: the service's Retry-After, but at least a backoff that
    doubles per delivery, so a long outage does not use up the deliveries in seconds."""
    asked = 0
    if isinstance(error, HttpResponseError) and error.response is not None:
        header = getattr(error.response, "headers", {}).get("Retry-After")
        if header:
            asked = retry_after_seconds(header)
    return int(min(MAX_DELAY_S, max(asked, base_s * 2 ** (dequeue_count - 1))))


class ResultsDrain:
    def __init__(self, queue: QueueClient, poison: QueueClient, client: LogsIngestionClient, rule_id: str,
                 stream: str, *, max_dequeue: int, on_ingested: Callable[[Sequence[CheckResult]], None] | None = None,
                 batch: int = 256, lease_s: int = 60, retry_s: int = 10) -> None:
        self.queue, self.poison, self.client = queue, poison, client
        self.rule_id, self.stream = rule_id, stream
        self.max_dequeue, self.on_ingested = max_dequeue, on_ingested
        self.batch, self.lease_s, self.retry_s = batch, lease_s, retry_s

    def _receive(self) -> list[QueueMessage]:
        messages: list[QueueMessage] = []
        while len(messages) < self.batch:
            page = list(self.queue.receive_messages(max_messages=min(PAGE, self.batch - len(messages)),
                                                    visibility_timeout=self.lease_s))
            if not page:
                break
            messages.extend(page)
        return messages

    def _to_poison(self, message: QueueMessage, reason: str, report: DrainReport) -> None:
        storage.send(self.poison, {"reason": reason, "queue": self.queue.queue_name, "message": message.content})
        self.queue.delete_message(message)
        report.poisoned += 1
        log.error("result message poisoned: %s", reason)

    def run(self) -> DrainReport:
        """One batch: receive, upload, then alert on and delete what was ingested."""
        report = DrainReport()
        messages = self._receive()
        report.received = len(messages)
        pending: list[tuple[QueueMessage, CheckResult, dict[str, Any]]] = []
        for message in messages:
            try:
                result = CheckResult.from_message(json.loads(message.content))
            except ValueError as exc:  # never ingestible: no retry
                self._to_poison(message, f"not a result message: {exc}", report)
                continue
            pending.append((message, result, check_row(result)))
        if not pending:
            return report
        failures: dict[int, Exception] = {}

        def failed(error: LogsUploadError) -> None:
            for row in error.failed_logs:
                failures[id(row)] = error.error

        try:
            self.client.upload(self.rule_id, self.stream, [row for _, _, row in pending], on_error=failed)
        except Exception as exc:  # e.g. no token: every row failed, and is handled as such
            failures = {id(row): exc for _, _, row in pending}
        done = [(m, r) for m, r, row in pending if id(row) not in failures]
        if done and self.on_ingested is not None:
            self.on_ingested([r for _, r in done])
        for message, _ in done:
            self.queue.delete_message(message)
        report.ingested = len(done)
        for message, _, row in pending:
            error = failures.get(id(row))
            if error is None:
                continue
            reason = f"{type(error).__name__}: {str(error)[:500]}"
            report.errors.append(reason)
            if (message.dequeue_count or 1) >= self.max_dequeue:
                self._to_poison(message, f"could not be ingested after {message.dequeue_count} tries: {reason}",
                                report)
            else:
                delay = _delay(error, self.retry_s, message.dequeue_count or 1)
                self.queue.update_message(message, visibility_timeout=delay)
                report.retried += 1
        return report
