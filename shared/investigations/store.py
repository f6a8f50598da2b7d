"""Investigations in Table storage: one partition per investigation.

- ``RowKey = "investigation"``: the record the webhook wrote (``Record``), its ``Status``
  (accepting → running → completed), and once completed the summary row and whether Log Analytics
  has it (``Recorded``).
- ``RowKey = "check-<check id>"``: the compact result of one of its checks, written when the result
  is ingested (an upsert: a redelivered result changes nothing).

Two partitions of their own: ``paths`` (per stored target, the NICs its latest connectivity result
crossed) and ``open``, an index with a row per investigation not yet in Log Analytics. ``ingest``
reads that one partition every run; without it, finding the open investigations would scan the
whole table (every investigation and every check result ever kept) every few seconds.

Every write is idempotent or guarded by the entity's ETag, so the webhook's retries, concurrent
``ingest`` runs and crashes between two steps neither lose an investigation nor complete it twice.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, UpdateMode

from shared.investigations.summary import Planned, Record, compact, summarize
from shared.results import CheckResult, format_utc, parse_utc

RECORD = "investigation"
CHECK = "check-"
PATHS = "paths"  # partition: per stored target, the NICs its latest connectivity result crossed
OPEN = "open"  # partition: investigation id → when it started, while it is not yet recorded
ORPHAN_S = 3600  # an index row this old without its record belongs to a webhook call that died
_MAX_PROPERTY = 30_000  # characters; a Table string property holds 32K UTF-16 units
_MAX_BATCH = 100  # operations in one entity group transaction
RECORD_CLAIM_S = 120  # a run that claimed to record a summary and has not done it after this died


@dataclass(frozen=True)
class Stored:
    record: Record
    status: str  # accepting | running | completed
    deadline: str
    etag: str
    summary: dict[str, Any] | None = None
    recorded: bool = False
    recording: str | None = None  # since when a run has claimed to record the summary


def investigation_of(check_id: str) -> str | None:
    """``inv-<24 hex>-NN`` → ``inv-<24 hex>``: the investigation a check belongs to, if any."""
    head, _, tail = check_id.rpartition("-")
    return head if head.startswith("inv-") and len(head) == 28 and tail.isdigit() else None


_NIC = re.compile(r"(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/networkInterfaces/[^/]+)"
                  r"(?:/ipConfigurations/[^/]+)?$", re.IGNORECASE)


def _nic_of(resource_id: str | None) -> str | None:
    match = _NIC.match(resource_id or "")
    return match.group(1) if match else None


def _dump(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    if len(text) > _MAX_PROPERTY:
        raise ValueError(f"investigation field is {len(text)} characters; at most {_MAX_PROPERTY} fit")
    return text


def _record_entity(record: Record, status: str, deadline: str) -> dict[str, Any]:
    return {"PartitionKey": record.investigation_id, "RowKey": RECORD, "Status": status, "Deadline": deadline,
            "Trigger": record.trigger, "AlertId": record.alert_id or "", "AlertRule": record.alert_rule or "",
            "Severity": record.severity or "", "MonitorCondition": record.monitor_condition or "",
            "AlertTargetIds": _dump(list(record.alert_target_ids)), "Targets": _dump(list(record.targets)),
            "Checks": _dump([[p.check_id, p.target, p.role, p.kind] for p in record.checks]),
            "Started": record.started, "Recorded": False}


def _stored(entity: TableEntity) -> Stored:
    try:
        record = Record(
            investigation_id=str(entity["PartitionKey"]), trigger=str(entity["Trigger"]),
            alert_id=entity.get("AlertId") or None, alert_rule=entity.get("AlertRule") or None,
            severity=entity.get("Severity") or None, monitor_condition=entity.get("MonitorCondition") or None,
            alert_target_ids=tuple(json.loads(entity["AlertTargetIds"])), targets=tuple(json.loads(entity["Targets"])),
            checks=tuple(Planned(*item) for item in json.loads(entity["Checks"])), started=str(entity["Started"]))
        summary = json.loads(entity["Summary"]) if entity.get("Summary") else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"investigation {entity.get('PartitionKey')!r} cannot be read: {exc}") from None
    return Stored(record, str(entity["Status"]), str(entity["Deadline"]), str(entity.metadata["etag"]), summary,
                  bool(entity.get("Recorded")), entity.get("RecordingSince") or None)


class InvestigationStore:
    def __init__(self, table: TableClient) -> None:
        self.table = table

    def ensure_table(self) -> None:
        try:
            self.table.create_table()
        except ResourceExistsError:
            pass

    def begin(self, record: Record, deadline: dt.datetime) -> tuple[Stored, bool]:
        """Create the record (status accepting) unless it exists; the stored one, and whether it is new."""
        # The index row first: a record never exists without it, so ingest cannot overlook one. A
        # row whose record never came (the call died in between) is dropped by ``complete``.
        self.table.upsert_entity({"PartitionKey": OPEN, "RowKey": record.investigation_id, "Since": record.started},
                                 mode=UpdateMode.MERGE)
        try:
            self.table.create_entity(_record_entity(record, "accepting", format_utc(deadline)))
            created = True
        except ResourceExistsError:
            created = False
        stored = self.read(record.investigation_id)
        if stored is None:  # deleted in between: only an operator does that
            raise ValueError(f"investigation {record.investigation_id} vanished while being created")
        return stored, created

    def read(self, investigation_id: str) -> Stored | None:
        try:
            return _stored(self.table.get_entity(investigation_id, RECORD))
        except ResourceNotFoundError:
            return None

    def mark_running(self, stored: Stored) -> None:
        """Its checks are all on the queue. Idempotent: a record past accepting is left alone."""
        if stored.status == "accepting":
            self._update(stored, {"Status": "running"})

    def _update(self, stored: Stored, changes: Mapping[str, Any]) -> bool:
        """Merge ``changes`` if the record is still as read; False if it changed meanwhile."""
        entity = {"PartitionKey": stored.record.investigation_id, "RowKey": RECORD, **changes}
        try:
            self.table.update_entity(entity, mode=UpdateMode.MERGE, etag=stored.etag,
                                     match_condition=MatchConditions.IfNotModified)
        except HttpResponseError as exc:
            if exc.status_code == 412:
                return False
            raise
        return True

    def results(self, investigation_id: str) -> dict[str, dict[str, Any]]:
        rows = self.table.query_entities("PartitionKey eq @p and RowKey gt @low and RowKey lt @high",
                                         parameters={"p": investigation_id, "low": CHECK, "high": CHECK + "~"})
        return {str(r["RowKey"])[len(CHECK):]: json.loads(r["Result"]) for r in rows}

    def record_results(self, results: Iterable[CheckResult]) -> set[str]:
        """Keep each result of an investigation's check; the investigations touched."""
        touched: set[str] = set()
        for result in results:
            investigation = investigation_of(result.check_id)
            if investigation is None:
                continue
            self.table.upsert_entity({"PartitionKey": investigation, "RowKey": CHECK + result.check_id,
                                      "Result": _dump(compact(result))}, mode=UpdateMode.REPLACE)
            touched.add(investigation)
        return touched

    def keep_paths(self, results: Iterable[CheckResult], stored: Callable[[str], bool]) -> None:
        """The NICs each stored target's latest connectivity result crossed (hops name IP
        configurations): an alert on a transit appliance's NIC or NSG then finds the targets whose
        path crosses it, which neither end of the target names."""
        latest: dict[str, CheckResult] = {}
        for result in results:
            if result.kind == "connectivity" and stored(result.target) and result.finding.hops:
                key = result.target.lower()
                if key not in latest or latest[key].completed < result.completed:
                    latest[key] = result
        for key, result in latest.items():  # target names (letters, digits, . _ -) are valid RowKeys
            nics = list(dict.fromkeys(nic for hop in result.finding.hops if (nic := _nic_of(hop.resource_id))))
            self.table.upsert_entity({"PartitionKey": PATHS, "RowKey": key, "Target": result.target,
                                      "Completed": result.completed, "Nics": _dump(nics)}, mode=UpdateMode.REPLACE)

    def paths(self) -> dict[str, tuple[str, ...]]:
        """Lower-cased target name → the NIC ids its latest connectivity result crossed."""
        rows = self.table.query_entities("PartitionKey eq @p", parameters={"p": PATHS},
                                         select=["Target", "Nics"])
        return {str(r["Target"]).lower(): tuple(json.loads(r["Nics"])) for r in rows}

    def open_ids(self) -> list[str]:
        """Investigations not finished: running, or completed but not yet in Log Analytics (one
        partition, however many investigations the table keeps)."""
        rows = self.table.query_entities("PartitionKey eq @p", parameters={"p": OPEN}, select=["RowKey"])
        return [str(r["RowKey"]) for r in rows]

    def _close(self, investigation_id: str) -> None:
        self.table.delete_entity(OPEN, investigation_id)  # a row already gone is no error

    def _drop_orphan(self, investigation_id: str, now: dt.datetime) -> None:
        try:
            since = parse_utc(str(self.table.get_entity(OPEN, investigation_id).get("Since", "")))
        except ResourceNotFoundError:
            return
        except ValueError:
            since = now - dt.timedelta(seconds=ORPHAN_S)
        if now - since >= dt.timedelta(seconds=ORPHAN_S):
            self._close(investigation_id)

    def complete(self, investigation_id: str, now: dt.datetime) -> Stored | None:
        """Write the summary once every check has a result, or once the deadline passed. Returns the
        record when this caller should now send the summary to Log Analytics: it is completed, not
        yet recorded, and this caller won the claim to record it (a claim older than
        ``RECORD_CLAIM_S`` is taken over: its holder died before marking it recorded)."""
        stored = self.read(investigation_id)
        if stored is None:
            self._drop_orphan(investigation_id, now)
            return None
        if stored.recorded:
            self._close(investigation_id)  # recorded by a run that died before closing it
            return None
        if stored.status != "completed":
            results = self.results(investigation_id)
            done = all(p.check_id in results for p in stored.record.checks)
            late = now >= parse_utc(stored.deadline)
            # accepting: the webhook has not finished enqueueing; its retry or the deadline settles it
            if not late and (stored.status == "accepting" or not done):
                return None
            summary = summarize(stored.record, results, now)
            if not self._update(stored, {"Status": "completed", "Summary": _dump(summary), "Recorded": False}):
                return None  # another run completed it first; it records it too
            stored = self.read(investigation_id)
            if stored is None:
                return None
        claimed = stored.recording
        if claimed and now - parse_utc(claimed) < dt.timedelta(seconds=RECORD_CLAIM_S):
            return None
        if not self._update(stored, {"RecordingSince": format_utc(now)}):
            return None
        return stored

    def prune(self, before: dt.datetime, limit: int = 50) -> int:
        """Delete up to ``limit`` investigations that started before ``before`` and whose summary is
        in Log Analytics (which keeps it for its own retention): the record and its check rows. An
        open one is never touched. Finding them scans the table: call it rarely. Returns how many."""
        rows = self.table.query_entities("RowKey eq @r and Recorded eq true and Started lt @t",
                                         parameters={"r": RECORD, "t": format_utc(before)},
                                         select=["PartitionKey"], results_per_page=limit)
        pruned = 0
        for row in rows:
            if pruned >= limit:
                break
            investigation = str(row["PartitionKey"])
            checks = [str(e["RowKey"]) for e in self.table.query_entities(
                "PartitionKey eq @p and RowKey ne @r", parameters={"p": investigation, "r": RECORD},
                select=["RowKey"])]
            # Check rows first, the record last: a prune that dies halfway is found and finished again.
            for start in range(0, len(checks), _MAX_BATCH):
                self.table.submit_transaction([("delete", {"PartitionKey": investigation, "RowKey": key})
                                               for key in checks[start:start + _MAX_BATCH]])
            self.table.delete_entity(investigation, RECORD)
            pruned += 1
        return pruned

    def mark_recorded(self, stored: Stored) -> None:
        entity = {"PartitionKey": stored.record.investigation_id, "RowKey": RECORD, "Recorded": True}
        self.table.update_entity(entity, mode=UpdateMode.MERGE)
        self._close(stored.record.investigation_id)
