"""The investigations webhook's logic, and the completion of investigations as results arrive.

``accept`` is the request path: validate, match, plan, record, enqueue, answer 202. It reads the
target list and the topology inventory (both cached blobs) and writes to Table storage and the
urgent queue: no ARM call, no URL from the payload.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shared.investigations.bundle import MAX_TARGETS, investigation_id, match, plan
from shared.investigations.payload import AlertTrigger, BadPayload, DirectRequest, parse
from shared.investigations.store import InvestigationStore, Stored
from shared.investigations.summary import Planned, Record
from shared.results import CheckResult, format_utc
from shared.target_list import TargetList
from shared.topology import Topology, TopologyError

log = logging.getLogger("nwcheck.investigations")
_ID = re.compile(r"inv-[0-9a-f]{24}")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    def text(self) -> str:
        return json.dumps(self.body)


def _resource_ids(trigger: AlertTrigger | DirectRequest) -> tuple[str, ...]:
    if isinstance(trigger, DirectRequest) and trigger.resource_id is not None:
        return (trigger.resource_id,)
    return ()


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"error": {"code": code, "message": message}})


@dataclass
class Investigations:
    targets: Callable[[], TargetList]
    topology: Callable[[], Topology | None]
    store: InvestigationStore
    enqueue: Callable[[dict[str, Any]], None]  # one request on the urgent queue
    deadline_s: int = 1800  # after this, an investigation completes with whatever results it has
    max_targets: int = MAX_TARGETS
    allowed_subscriptions: frozenset[str] | None = None
    # A bundle of 20 targets is up to 80 messages: sent one after the other, at a same-region
    # storage round trip each, the answer would miss its second (benchmarks/webhook_latency.py).
    enqueue_threads: int = 8
    retention_days: int = 90  # completed investigations older than this leave Table storage
    prune_every_s: float = 3600.0  # finding them scans the table
    _pruned_at: float | None = field(default=None, init=False, repr=False)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    # ---- the webhook -----------------------------------------------------------------------
    def accept(self, body: bytes, content_type: str | None, content_length: str | None = None) -> Answer:
        try:
            trigger = parse(body, content_type, content_length)
        except BadPayload as exc:
            log.warning("investigation refused (%s): %s", exc.status, exc)
            return _error(exc.status, exc.code, str(exc))
        if isinstance(trigger, AlertTrigger) and trigger.monitor_condition != "Fired":
            return Answer(200, {"status": "ignored", "alertId": trigger.alert_id,
                                "reason": f"a {trigger.monitor_condition} alert starts no investigation"})
        topology = self._inventory()
        found, unknown = match(trigger, self.targets(), topology, self.store.paths())
        if unknown:
            return _error(422, "UnknownTargets", f"no stored target is called {', '.join(unknown)}; "
                                                 "nothing was enqueued")
        if not found:
            if isinstance(trigger, DirectRequest):
                return _error(422, "NoMatchingTarget", f"no stored target involves {trigger.resource_id}")
            return Answer(200, {"status": "unmatched", "alertId": trigger.alert_id,
                                "reason": "no stored target involves the alerted resources"})
        return self._start(trigger, found, topology)

    def _inventory(self) -> Topology | None:
        """The topology inventory, or None (match on the targets' own ids) when there is none yet or
        the stored one cannot be read: the next ``topology`` run replaces it."""
        try:
            return self.topology()
        except TopologyError as exc:
            log.error("investigations match without the topology inventory: %s", exc)
            return None

    def _start(self, trigger: AlertTrigger | DirectRequest, found: Sequence[Any], topology: Topology | None) -> Answer:
        inv = investigation_id(trigger)
        chosen = list(found)[: self.max_targets]
        correlation = trigger.alert_id if isinstance(trigger, AlertTrigger) else inv
        planned = plan(inv, chosen, topology, correlation_id=correlation,
                       allowed_subscriptions=self.allowed_subscriptions)
        now = self.clock()
        alert = trigger if isinstance(trigger, AlertTrigger) else None
        record = Record(
            investigation_id=inv, trigger="alert" if alert else "request",
            alert_id=alert.alert_id if alert else None, alert_rule=alert.alert_rule if alert else None,
            severity=alert.severity if alert else None, monitor_condition=alert.monitor_condition if alert else None,
            alert_target_ids=alert.target_ids if alert else _resource_ids(trigger),
            targets=tuple(t.name for t in chosen),
            checks=tuple(Planned(p.check_id, p.target, p.role, p.kind) for p in planned), started=format_utc(now))
        stored, created = self.store.begin(record, now + dt.timedelta(seconds=self.deadline_s))
        if not created and stored.status != "accepting":
            # A retried delivery: the first one enqueued everything.
            return Answer(202, self._accepted(stored, duplicate=True))
        # New, or a delivery that died while enqueueing: (re)send the planned checks. A check id the
        # pipeline has already claimed is dropped there, so a resend never runs a check twice.
        by_id = {p.check_id: p for p in planned}
        messages = [by_id[check.check_id].message for check in stored.record.checks if check.check_id in by_id]
        self._send_all(messages)
        self.store.mark_running(stored)
        log.info("investigation %s: %d checks of %s", inv, len(stored.record.checks), ", ".join(record.targets))
        answer = self._accepted(stored, duplicate=not created)
        if len(found) > len(chosen):
            answer["truncated"] = len(found) - len(chosen)
        return Answer(202, answer)

    def _send_all(self, messages: Sequence[dict[str, Any]]) -> None:
        """Every message on the urgent queue, several at a time; raises if any could not be sent
        (the record stays ``accepting``, and the action group's retry sends them all again)."""
        if len(messages) <= 1 or self.enqueue_threads <= 1:
            for message in messages:
                self.enqueue(message)
            return
        with ThreadPoolExecutor(max_workers=min(self.enqueue_threads, len(messages)),
                                thread_name_prefix="nwcheck-enqueue") as pool:
            for _ in pool.map(self.enqueue, messages):  # re-raises the first failure
                pass

    @staticmethod
    def _accepted(stored: Stored, *, duplicate: bool) -> dict[str, Any]:
        return {"status": "accepted", "investigationId": stored.record.investigation_id, "duplicate": duplicate,
                "targets": list(stored.record.targets), "checkIds": [p.check_id for p in stored.record.checks],
                "statusUrl": f"/api/investigations/{stored.record.investigation_id}"}

    # ---- GET /api/investigations/{id} ----------------------------------------------------------
    def describe(self, investigation: str) -> Answer:
        if not _ID.fullmatch(investigation or ""):
            return _error(400, "InvalidId", "an investigation id is inv- and 24 hex digits")
        stored = self.store.read(investigation)
        if stored is None:
            return _error(404, "NotFound", f"no investigation {investigation}")
        body: dict[str, Any] = {"investigationId": investigation, "status": stored.status,
                                "targets": list(stored.record.targets), "alertId": stored.record.alert_id,
                                "started": stored.record.started}
        if stored.summary is not None:
            body["summary"] = stored.summary
        else:
            done = self.store.results(investigation)
            body["checks"] = [{"checkId": p.check_id, "target": p.target, "role": p.role,
                               "status": done[p.check_id].get("Status") if p.check_id in done else "Running"}
                              for p in stored.record.checks]
        return Answer(200, body)

    # ---- as results are ingested ------------------------------------------------------------
    def keep(self, results: Sequence[CheckResult]) -> None:
        """Keep the (ingested) results of investigations' checks, and the paths stored targets took."""
        self.store.record_results(results)
        target_list = self.targets()
        self.store.keep_paths(results, lambda name: target_list.by_name(name) is not None)

    def prune_old(self) -> int:
        """Now and then (``prune_every_s``), delete investigations older than ``retention_days``
        from Table storage; their summaries stay in Log Analytics. Returns how many went."""
        now = time.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < self.prune_every_s:
            return 0
        self._pruned_at = now
        pruned = self.store.prune(self.clock() - dt.timedelta(days=self.retention_days))
        if pruned:
            log.info("investigations: %d older than %d days deleted from Table storage", pruned, self.retention_days)
        return pruned

    def complete_open(self, record: Callable[[dict[str, Any]], None]) -> int:
        """Complete every investigation that can be (all results in, or past its deadline) and hand
        its summary row to ``record`` (Log Analytics); a failed ``record`` is retried on the next
        run. Returns how many were recorded."""
        recorded = 0
        now = self.clock()
        for investigation in self.store.open_ids():
            try:
                stored = self.store.complete(investigation, now)
                if stored is None or stored.summary is None:
                    continue
                record(stored.summary)
                self.store.mark_recorded(stored)
                recorded += 1
                log.info("investigation %s: %s", investigation, stored.summary.get("Summary"))
            except Exception:  # one investigation must not hold back the others
                log.exception("investigation %s not completed", investigation)
        return recorded
