"""The process-wide parts of the app and the I/O around the pipeline's decisions.

``function_app.py`` calls one function here per trigger. Clients are created once per process
(a credential caches its tokens; a session keeps its connections) and lazily, so importing the
app stays cheap for a cold start.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azure.data.tables import TableClient
from azure.identity import DefaultAzureCredential
from azure.monitor.ingestion import LogsIngestionClient
from azure.storage.blob import ContainerClient

from shared import storage
from shared.alerts import is_silenced
from shared.alerts.store import AlertStore
from shared.arm import ArmClient
from shared.claims import CheckClaims
from shared.ingest import DrainReport, ResultsDrain
from shared.notify import Sender, log_analytics_sender, queue_sender, webhook_sender, webhook_urls
from shared.pipeline import Limits, Outcome, Pipeline
from shared.results import CheckResult
from shared.rows import table
from shared.sweep import due_requests
from shared.target_source import TargetSource

if TYPE_CHECKING:
    from shared.investigations.service import Answer, Investigations
    from shared.topology import TopologyStore

log = logging.getLogger("nwcheck")
CONNECTION = "NwcheckStorage"  # the app setting (prefix) of the app's own storage account
HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def queue_name(kind: str) -> str:
    """requests | urgent | polls | results | alerts → the queue's name from its app setting."""
    return setting(f"{kind.upper()}_QUEUE", f"nwcheck-{kind}")


@cache
def max_dequeue_count() -> int:
    queues = json.loads(HOST_JSON.read_text()).get("extensions", {}).get("queues", {})
    return int(queues.get("maxDequeueCount", 5))


@cache
def targets() -> TargetSource:
    return TargetSource()


def _claims() -> CheckClaims:
    target, credential = storage.service_endpoint(CONNECTION, "blob")
    name = setting("CHECKS_CONTAINER", "nwcheck-checks")
    container = (ContainerClient.from_connection_string(target, name) if credential is None
                 else ContainerClient(target, name, credential=credential))
    return CheckClaims(container)


def _table(setting_name: str, default: str) -> TableClient:
    target, credential = storage.service_endpoint(CONNECTION, "table")
    name = setting(setting_name, default)
    return (TableClient.from_connection_string(target, name) if credential is None
            else TableClient(endpoint=target, table_name=name, credential=credential))


def _allowed_subscriptions() -> frozenset[str] | None:
    allowed = setting("ALLOWED_SUBSCRIPTIONS", "").replace(",", " ").split()
    return frozenset(s.lower() for s in allowed) if allowed else None


@cache
def pipeline() -> Pipeline:
    arm = ArmClient(setting("ARM_ENDPOINT", "https://management.azure.com"), DefaultAzureCredential(),
                    api_version=setting("NETWORK_API_VERSION", "2024-05-01"))
    limits = Limits(deadline_s=int(setting("CHECK_DEADLINE_S", "900")), max_polls=int(setting("MAX_POLLS", "120")),
                    max_attempts=int(setting("MAX_ATTEMPTS", "8")),
                    backoff_base_s=int(setting("BACKOFF_BASE_S", "2")))
    return Pipeline(arm, targets(), limits=limits, claims=_claims(), allowed_subscriptions=_allowed_subscriptions())


CATCH_UP_MINUTES = 5


def reset() -> None:
    """Forget the process-wide clients, so the next call reads the settings again (tests, tools)."""
    for cached in (targets, pipeline, alert_store, alert_recorder, alert_senders, results_drain, investigations,
                   topology_store):
        cached.cache_clear()


def sweep(now: dt.datetime, past_due: bool = False) -> list[str]:
    """Check requests for every target due in ``now``'s minute, ready for the queue output binding.

    A past-due run (the host was down or late) also covers the minutes it may have missed; slots
    that did run are dropped again by their claimed check ids, so catching up is safe.
    """
    target_list = targets()()
    minutes = range(CATCH_UP_MINUTES if past_due else 0, -1, -1)
    return [storage.encode_message(r) for m in minutes
            for r in due_requests(target_list, now - dt.timedelta(minutes=m))]


@cache
def alert_store() -> AlertStore:
    store = AlertStore(_table("ALERTS_TABLE", "nwcheckalerts"))
    store.ensure_table()
    return store


@cache
def alert_recorder() -> Sender:
    """Log Analytics records every event, those a silence held back included."""
    return log_analytics_sender(results_drain().client, results_drain().rule_id, table("alerts")["stream"])


@cache
def alert_senders() -> list[Sender]:
    """The alerts queue and the webhooks of ALERT_WEBHOOK_URLS (Log Analytics is the recorder)."""
    senders = [queue_sender(storage.queue_client(CONNECTION, queue_name("alerts")))]
    urls = webhook_urls(setting("ALERT_WEBHOOK_URLS", ""))
    if urls:
        senders.append(webhook_sender(urls))
    return senders


def alert_on(results: Sequence[CheckResult]) -> None:
    """Move each stored target's alert state with its (ingested) result; inline targets have none."""
    target_list = targets()()
    now = dt.datetime.now(dt.UTC)
    # Oldest first: the state machine ignores a result older than the newest it has seen.
    for result in sorted(results, key=lambda r: r.completed):
        target = target_list.by_name(result.target)
        if target is None:
            continue
        try:
            alert_store().apply(result, target.alert, now=now,
                                silenced=is_silenced(target, target_list.silences, now))
        except Exception:  # one target's broken state must not hold back the batch's other results
            log.exception("alert state of %s not updated with %s", result.target, result.check_id)


@cache
def results_drain() -> ResultsDrain:
    client = LogsIngestionClient(setting("LOGS_INGESTION_ENDPOINT", ""), DefaultAzureCredential(),
                                 retry_total=0)  # retries go through the queue, after Retry-After
    results = queue_name("results")
    return ResultsDrain(storage.queue_client(CONNECTION, results),
                        storage.queue_client(CONNECTION, f"{results}-poison"), client,
                        setting("LOGS_DCR_IMMUTABLE_ID", ""), table("checks")["stream"],
                        max_dequeue=max_dequeue_count(), on_ingested=_on_ingested)


def _on_ingested(results: Sequence[CheckResult]) -> None:
    alert_on(results)
    investigations().keep(results)


INGEST_BUDGET_S = 120  # a run takes no new batch after this: far inside host.json's 5-minute functionTimeout


def ingest(rounds: int = 4, budget_s: float = INGEST_BUDGET_S) -> DrainReport:
    """Drain the results queue into Log Analytics: a few batches per run, fewer calls per result,
    and no new batch once the run has spent ``budget_s`` (the next run goes on)."""
    total = DrainReport()
    started = time.monotonic()
    for _ in range(rounds):
        report = results_drain().run()
        for name in ("received", "ingested", "retried", "poisoned"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.errors += report.errors
        if report.received < results_drain().batch:
            break
        if time.monotonic() - started > budget_s:
            log.warning("ingest: budget of %s s spent after %s results; the next run goes on", budget_s,
                        total.received)
            break
    if total.received:
        log.info("ingest: %s", total)
    investigations().complete_open(investigation_recorder)
    try:
        investigations().prune_old()
    except Exception:  # housekeeping must not hold back results or alerts; the next hour retries
        log.exception("investigations: pruning old ones failed")
    # New events, and any that a failed delivery left waiting.
    delivery = alert_store().deliver(alert_senders(), recorders=[alert_recorder()])
    if delivery.failed:
        log.warning("alert delivery: %s", delivery)
    return total


def _deliver(outcome: Outcome, body: bytes, source: str) -> None:
    if outcome.step is not None:
        storage.send(storage.queue_client(CONNECTION, queue_name("polls")), outcome.step.to_message(),
                     delay_s=outcome.delay_s)
    if outcome.result is not None:
        message = outcome.result.to_message()
        storage.send(storage.queue_client(CONNECTION, queue_name("results")), message)
        if outcome.reply_to:
            storage.send(storage.queue_client(CONNECTION, outcome.reply_to), message)
        log.info("check %s of %s: %s", outcome.result.check_id, outcome.result.target, outcome.result.finding.status)
    if outcome.duplicate is not None:
        log.info("duplicate request dropped: %s", outcome.duplicate)
    if outcome.poison is not None:
        # Never retried: it cannot succeed. It goes where the host would put it, with the reason.
        poison: dict[str, Any] = {"reason": outcome.poison, "queue": source,
                                  "message": body.decode(errors="replace")[:40_000]}
        storage.send(storage.queue_client(CONNECTION, f"{source}-poison"), poison)
        log.error("poison message on %s: %s", source, outcome.poison)


def _handle(body: bytes, message_id: str, dequeue_count: int, *, is_step: bool, source: str) -> None:
    try:
        outcome = pipeline().advance(body) if is_step else pipeline().accept(body, message_id)
    except Exception as exc:
        if dequeue_count >= max_dequeue_count():
            # The last delivery: record why the check failed before the host moves it to poison.
            ended = pipeline().give_up(body, message_id, f"{type(exc).__name__}: {exc}", is_step=is_step)
            if ended is not None:
                _deliver(ended, body, source)
        raise
    _deliver(outcome, body, source)


def handle_request(body: bytes, message_id: str, dequeue_count: int, *, urgent: bool = False) -> None:
    """A check request from the requests queue, or the urgent one (the same contract)."""
    _handle(body, message_id, dequeue_count, is_step=False, source=queue_name("urgent" if urgent else "requests"))


def handle_step(body: bytes, message_id: str, dequeue_count: int) -> None:
    _handle(body, message_id, dequeue_count, is_step=True, source=queue_name("polls"))


# ---- investigations ---------------------------------------------------------------------------

@cache
def topology_store() -> TopologyStore:
    from shared.topology import TopologyStore

    return TopologyStore.from_env()


def refresh_topology() -> None:
    """The ``topology`` timer: list the NICs and virtual networks of every subscription the targets
    live in, and store the inventory the investigations webhook matches alerts with."""
    from shared.topology import refresh, target_subscriptions

    refresh(pipeline().arm, target_subscriptions(targets()().targets), topology_store())


@cache
def investigations() -> Investigations:
    # Imported here: only the HTTP functions and ingest need it, and a cold start pays for imports.
    from shared.investigations.service import Investigations
    from shared.investigations.store import InvestigationStore

    store = InvestigationStore(_table("INVESTIGATIONS_TABLE", "nwcheckinvestigations"))
    store.ensure_table()
    urgent = storage.queue_client(CONNECTION, queue_name("urgent"))
    # Long enough for every check of the bundle to reach its own deadline and be ingested.
    deadline = int(setting("CHECK_DEADLINE_S", "900")) * 2
    return Investigations(targets=targets(), topology=topology_store().load, store=store,
                          enqueue=lambda message: storage.send(urgent, message), deadline_s=deadline,
                          max_targets=int(setting("INVESTIGATION_MAX_TARGETS", "20")),
                          retention_days=int(setting("INVESTIGATION_RETENTION_DAYS", "90")),
                          allowed_subscriptions=_allowed_subscriptions())


def investigation_recorder(row: dict[str, Any]) -> None:
    """A completed investigation's summary into Log Analytics (raises on failure: retried next run)."""
    drain = results_drain()
    drain.client.upload(drain.rule_id, table("investigations")["stream"], [row])


def investigate(body: bytes, content_type: str | None, content_length: str | None) -> Answer:
    return investigations().accept(body, content_type, content_length)


def investigation(investigation_id: str) -> Answer:
    return investigations().describe(investigation_id)
