"""After a scenario: was every accepted check accounted for? One report, printed by the load, crash
and outage tests and the benchmarks.

- accepted: the check ids requested (what the sweep or a producer put on the requests queue);
- ingested: rows of ``Custom-NetworkWatcherCheck`` in the emulator's Logs Ingestion, by ``CheckId``;
- poison: every message on the app's ``<queue>-poison`` queues, with its reason and, where it can be
  read, the check id it was about;
- lost: accepted with neither a row nor a poison message (must be 0);
- duplicates: rows beyond one per ``CheckId`` (at-least-once delivery allows them; the README's KQL
  removes them by check id).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

CHECK_STREAM = "Custom-NetworkWatcherCheck"
QUEUE_KINDS = ("requests", "urgent", "polls", "results", "alerts")


@dataclass(frozen=True)
class Poisoned:
    queue: str
    reason: str
    check_id: str | None


@dataclass
class Accounting:
    accepted: set[str]
    rows: Counter[str]  # CheckId → rows
    statuses: Counter[str]  # Status of the first row of each check
    poison: list[Poisoned] = field(default_factory=list)

    @property
    def ingested(self) -> int:
        return len(self.accepted & set(self.rows))

    @property
    def poisoned_ids(self) -> set[str]:
        return {p.check_id for p in self.poison if p.check_id is not None}

    @property
    def lost(self) -> set[str]:
        return self.accepted - set(self.rows) - self.poisoned_ids

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.rows.values() if n > 1)

    @property
    def unexpected(self) -> set[str]:
        """Rows of checks nobody asked for (must be none)."""
        return set(self.rows) - self.accepted

    def report(self, title: str = "accounting") -> str:
        reasons = Counter(f"{p.queue}: {p.reason[:160]}" for p in self.poison)
        lines = [f"{title}: accepted {len(self.accepted)}, ingested {self.ingested}, poison {len(self.poison)}, "
                 f"lost {len(self.lost)}, duplicates {self.duplicates} (rows {sum(self.rows.values())}), "
                 f"unexpected {len(self.unexpected)}",
                 "  statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))]
        lines += [f"  poison x{n}: {reason}" for reason, n in reasons.most_common()]
        if self.lost:
            lines.append(f"  lost (first 10): {sorted(self.lost)[:10]}")
        return "\n".join(lines)


def _json(text: str) -> Any:
    """A message body as JSON: stored base64 (the app's and the host's encoding) or plain."""
    for attempt in (text, None):
        try:
            if attempt is None:
                attempt = base64.b64decode(text, validate=True).decode()
            return json.loads(attempt)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            continue
    return None


def _check_id(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("checkId", "check_id"):
            if isinstance(data.get(key), str):
                return str(data[key])
        if "message" in data and isinstance(data["message"], str):
            return _check_id(_json(data["message"]))
    return None


def read_poison(connection_string: str, queue_names: Iterable[str], *, lease_s: int = 120) -> list[Poisoned]:
    """Every message on each ``<name>-poison`` queue. Messages are leased for ``lease_s``, not deleted."""
    found: list[Poisoned] = []
    for name in queue_names:
        client = QueueClient.from_connection_string(connection_string, f"{name}-poison")
        try:
            while batch := list(client.receive_messages(max_messages=32, visibility_timeout=lease_s)):
                for message in batch:
                    data = _json(message.content)
                    reason = data.get("reason") if isinstance(data, dict) else None
                    found.append(Poisoned(name, str(reason) if reason else
                                          "moved by the host after maxDequeueCount failed deliveries (no reason)",
                                          _check_id(data)))
        except ResourceNotFoundError:
            continue
    return found


def account(accepted: Iterable[str], rows: Iterable[Mapping[str, Any]], poison: Iterable[Poisoned]) -> Accounting:
    counts: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for row in rows:
        check_id = str(row.get("CheckId"))
        if not counts[check_id]:
            statuses[str(row.get("Status"))] += 1
        counts[check_id] += 1
    return Accounting(set(accepted), counts, statuses, list(poison))


def account_app(accepted: Iterable[str], rows: Iterable[Mapping[str, Any]], connection_string: str,
                settings: Mapping[str, str]) -> Accounting:
    """``account`` with the poison queues of every app queue named in ``settings`` (``*_QUEUE``)."""
    names = [settings[f"{kind.upper()}_QUEUE"] for kind in QUEUE_KINDS if f"{kind.upper()}_QUEUE" in settings]
    return account(accepted, rows, read_poison(connection_string, names))
