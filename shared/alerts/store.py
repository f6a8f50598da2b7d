"""Alert state in Azure Table storage, written with ETag concurrency, and an outbox that loses no
event.

One partition (``PARTITION``) holds two kinds of rows:

- ``RowKey = <target>`` (lower-cased: names are unique ignoring case, and their characters are
  safe in a key): the target's ``AlertState``, one JSON column per track.
- ``RowKey = ~<target>~<seq>``: one event to notify, waiting for delivery. ``~`` sorts after every
  name character, so ``RowKey gt '~'`` lists the whole outbox, in order per target.

``apply`` reads a target's row, evaluates the result and writes the new state *and* its new
events in one entity-group transaction, on condition that the row is unchanged (``If-Match``).
When another instance got there first (412, or 409 for a first write), it reads again and
evaluates again, so two instances with the same state fire once.

``deliver(senders, recorders=...)`` hands each queued event, per target in order, to every
sender and recorder, and deletes it only once all of them took it; a failure records the attempt
and the error on the row and holds that target's later events back, so receivers never see a
Resolved before its Fired. Events held back by a silence are queued too, but go to the recorders
only (Log Analytics shows them; nobody is notified). Delivery is at least once: a channel may see
an event again (after another one failed, or when two deliveries overlap) and drops it by
``event_id``; an overdue Fired shares its id with the silenced one recorded before it, so "the
latest row per id" is the one that counts.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, TableTransactionError, UpdateMode

from shared.alerts.state import AlertEvent, AlertState, evaluate
from shared.results import CheckResult, format_utc
from shared.targets import AlertSettings

PARTITION = "alerts"
OUTBOX = "~"
MAX_ATTEMPTS = 8  # each lost race means another writer made progress, so a few always suffice
MAX_COLUMN = 30_000  # characters; Table keeps a string property up to 64 KiB of UTF-16
MAX_ERROR = 1024
_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
_CONFLICTS = (404, 409, 412)  # a row changed, appeared or went between our read and our write
_TRACKS = (("network", "Network"), ("check_health", "CheckHealth"), ("warning", "Warning"))

Sender = Callable[[AlertEvent], None]


class AlertStateConflict(RuntimeError):
    """Other writers kept changing the target's row; the result can be applied again later."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key(target: str) -> str:
    key = target.lower()
    if not _KEY.fullmatch(key):
        raise ValueError(f"target name {target!r} cannot be a table key")
    return key


def _column(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_COLUMN:  # the state and event caps keep far below this; never write a row Table refuses
        raise ValueError(f"alert column of {len(text)} characters is over {MAX_COLUMN}")
    return text


@dataclass(frozen=True)
class StoredState:
    """A target's row as read: its state (None if never written) and the ETag to write it back."""

    key: str
    state: AlertState | None
    etag: str | None
    seq: int  # outbox rows the target ever had; the next one gets seq + 1


@dataclass(frozen=True)
class QueuedEvent:
    target: str
    row_key: str
    event: AlertEvent | None  # None: the row cannot be read (reported, never deleted)
    attempts: int
    last_error: str | None
    etag: str


@dataclass(frozen=True)
class DeliveryFailure:
    target: str
    event_id: str
    attempts: int
    error: str


@dataclass(frozen=True)
class DeliveryReport:
    delivered: tuple[str, ...] = ()  # event ids, in the order sent
    failed: tuple[DeliveryFailure, ...] = ()
    waiting: int = 0  # held behind a failed earlier event of the same target


def _state_of(row: TableEntity) -> AlertState:
    try:
        data = json.loads(row["State"])
        for name, column in _TRACKS:
            data[name] = json.loads(row[column])
        return AlertState.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"alert state row {row.get('RowKey')!r} cannot be read: {exc}") from None


def _episode(event: AlertEvent) -> str:
    """One alert of one target from its start to its end: what a newer reminder supersedes within."""
    return f"{event.target}/{event.alert}/{event.first_seen}"


class AlertStore:
    def __init__(self, table: TableClient, *, clock: Callable[[], dt.datetime] = _utcnow,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.table = table
        self.clock = clock
        self.max_attempts = max_attempts

    def ensure_table(self) -> None:
        try:
            self.table.create_table()
        except ResourceExistsError:
            pass

    # ----------------------------------------------------------------------- state

    def read(self, target: str) -> StoredState:
        key = _key(target)
        try:
            row = self.table.get_entity(PARTITION, key)
        except ResourceNotFoundError:
            return StoredState(key, None, None, 0)
        return StoredState(key, _state_of(row), row.metadata["etag"], int(row.get("Seq", 0)))

    def states(self) -> list[AlertState]:
        """Every target's state, in one query of the partition (the outbox rows, after ``~``, are
        not states); ValueError names a row that cannot be read."""
        rows = self.table.query_entities("PartitionKey eq @p and RowKey lt @o",
                                         parameters={"p": PARTITION, "o": OUTBOX})
        return [_state_of(row) for row in rows]

    def write(self, stored: StoredState, state: AlertState, events: Sequence[AlertEvent], *,
              now: dt.datetime) -> bool:
        """Write ``state`` and queue ``events`` at once, if the row is still as read; False if it is
        not (read and evaluate again)."""
        data = state.to_dict()
        row: dict[str, Any] = {"PartitionKey": PARTITION, "RowKey": stored.key, "Target": state.target,
                               "Updated": format_utc(now)}
        for name, column in _TRACKS:
            row[column] = _column(data.pop(name))
        row["State"] = _column(data)
        operations: list[Any] = []
        seq = stored.seq
        for event in events:
            if event.kind == "Reminder":  # the newest reminder of an episode says all the older ones did
                operations += [("delete", old) for old in self._queued_reminders(stored.key, _episode(event))]
            seq += 1
            operations.append(("create", {
                "PartitionKey": PARTITION, "RowKey": f"{OUTBOX}{stored.key}{OUTBOX}{seq:010d}",
                "Target": state.target, "EventId": event.event_id, "Kind": event.kind, "Episode": _episode(event),
                "Event": _column(event.to_message()), "Silenced": event.silenced, "Queued": format_utc(now),
                "Attempts": 0}))
        row["Seq"] = seq
        if stored.etag is None:
            operations.insert(0, ("create", row))
        else:
            operations.insert(0, ("update", row, {"mode": UpdateMode.REPLACE, "etag": stored.etag,
                                                  "match_condition": MatchConditions.IfNotModified}))
        try:
            self.table.submit_transaction(operations)
        except TableTransactionError as exc:
            if exc.status_code in _CONFLICTS:
                return False
            raise
        return True

    def _queued_reminders(self, key: str, episode: str) -> list[dict[str, Any]]:
        rows = self.table.query_entities(
            "PartitionKey eq @p and RowKey gt @low and RowKey lt @high and Kind eq 'Reminder' and Episode eq @e",
            parameters={"p": PARTITION, "low": f"{OUTBOX}{key}{OUTBOX}", "high": f"{OUTBOX}{key}{OUTBOX}{OUTBOX}",
                        "e": episode}, select=["PartitionKey", "RowKey"])
        return [{"PartitionKey": r["PartitionKey"], "RowKey": r["RowKey"]} for r in rows]

    def apply(self, result: CheckResult, settings: AlertSettings, *, now: dt.datetime,
              silenced: bool) -> list[AlertEvent]:
        """Evaluate ``result`` against its target's stored state and keep what follows; the events
        raised (silenced ones included), or [] for a result already seen."""
        for _ in range(self.max_attempts):
            stored = self.read(result.target)
            state, events = evaluate(stored.state, result, settings, now=now, silenced=silenced)
            if state is stored.state:
                return []
            if self.write(stored, state, events, now=now):
                return events
        raise AlertStateConflict(f"alert state of {result.target!r} changed under {self.max_attempts} attempts "
                                 f"to apply {result.check_id!r}")

    def state(self, target: str) -> AlertState | None:
        return self.read(target).state

    # ----------------------------------------------------------------------- outbox

    def queued(self) -> list[QueuedEvent]:
        """Every event waiting for delivery, in order per target."""
        out = []
        for row in self.table.query_entities("PartitionKey eq @p and RowKey gt @o",
                                             parameters={"p": PARTITION, "o": OUTBOX}):
            try:
                event: AlertEvent | None = AlertEvent.from_message(json.loads(row["Event"]))
            except (KeyError, TypeError, ValueError):
                event = None
            out.append(QueuedEvent(target=str(row.get("Target", "")), row_key=row["RowKey"], event=event,
                                   attempts=int(row.get("Attempts", 0)), last_error=row.get("LastError"),
                                   etag=str(row.metadata["etag"])))
        return out

    def pending(self) -> list[tuple[str, AlertEvent]]:
        return [(q.target, q.event) for q in self.queued() if q.event is not None]

    def deliver(self, senders: Sequence[Sender], *, recorders: Sequence[Sender] = ()) -> DeliveryReport:
        """Hand each queued event to every sender and recorder (a silenced one: to the recorders
        only); delete it once all of them took it."""
        delivered: list[str] = []
        failed: list[DeliveryFailure] = []
        held: set[str] = set()
        waiting = 0
        for queued in self.queued():
            owner = queued.row_key.rsplit(OUTBOX, 1)[0]
            if owner in held:
                waiting += 1
                continue
            errors = ["the queued event cannot be read"] if queued.event is None else []
            if queued.event is not None:
                for sender in [*recorders] if queued.event.silenced else [*senders, *recorders]:
                    try:
                        sender(queued.event)
                    except Exception as exc:  # any failure of any channel: keep the event, say why
                        name = getattr(sender, "__name__", type(sender).__name__)
                        errors.append(f"{name}: {type(exc).__name__}: {exc}")
            if errors:
                held.add(owner)
                error = "; ".join(errors)[:MAX_ERROR]
                self._record_failure(queued, error)
                event_id = queued.event.event_id if queued.event is not None else queued.row_key
                failed.append(DeliveryFailure(queued.target, event_id, queued.attempts + 1, error))
                continue
            try:
                # Unconditional: every sender has it now, whatever else touched the row meanwhile.
                self.table.delete_entity(PARTITION, queued.row_key)
            except ResourceNotFoundError:
                pass  # an overlapping delivery deleted it first
            assert queued.event is not None
            delivered.append(queued.event.event_id)
        return DeliveryReport(tuple(delivered), tuple(failed), waiting)

    def _record_failure(self, queued: QueuedEvent, error: str) -> None:
        row = {"PartitionKey": PARTITION, "RowKey": queued.row_key, "Attempts": queued.attempts + 1,
               "LastError": error, "LastAttempt": format_utc(self.clock())}
        try:
            self.table.update_entity(row, mode=UpdateMode.MERGE, etag=queued.etag,
                                     match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass  # an overlapping delivery recorded or delivered it; the count is advice, not state
