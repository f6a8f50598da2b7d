"""AlertStore against Azurite: state that survives restarts, two writers that fire once, and an
outbox whose events reach every sender, a webhook collector included, however often it fails."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.data.tables import TableClient, TableServiceClient

from emulator.azurite import Azurite
from emulator.httpserver import Reply, Request, RunningServer
from shared.alerts.state import AlertEvent, AlertState, evaluate
from shared.alerts.store import PARTITION, AlertStateConflict, AlertStore, StoredState
from shared.results import CheckResult, Finding, format_utc
from shared.targets import AlertSettings

T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
VM = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ContosoRG/providers/Microsoft.Compute"
      "/virtualMachines/MultiTierApp0")
DEFAULT = AlertSettings()


def result(status: str, minute: int, target: str = "app-to-db") -> CheckResult:
    completed = T0 + dt.timedelta(minutes=minute)
    hop = None if status == "Reachable" else "10.1.3.4"
    return CheckResult(
        check_id=f"{target}@{minute}", target=target, kind="connectivity", trigger="schedule", correlation_id=None,
        expected="Reachable", finding=Finding(status=status, blocking_hop=hop),
        scheduled=None, started=format_utc(completed), completed=format_utc(completed), polls=1, network_watcher=None,
        source_resource_id=VM, destination="Database0", port=80, protocol="Tcp", direction=None)


def at(minute: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minute, seconds=5)


@pytest.fixture
def table_name(azurite: Azurite) -> Iterator[str]:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    name = f"alerts{uuid.uuid4().hex[:16]}"
    service.create_table(name)
    yield name
    service.delete_table(name)


def client(azurite: Azurite, name: str) -> TableClient:
    """A client of its own, as another function instance would have."""
    return TableClient.from_connection_string(azurite.connection_string, table_name=name)


@pytest.fixture
def store(azurite: Azurite, table_name: str) -> AlertStore:
    return AlertStore(client(azurite, table_name), clock=lambda: T0)


def kinds(events: list[AlertEvent]) -> list[str]:
    return [f"{e.kind} {e.alert}" for e in events]


# --------------------------------------------------------------------------- state


def test_state_survives_a_restart_and_events_queue_in_order(azurite: Azurite, table_name: str,
                                                            store: AlertStore) -> None:
    assert store.apply(result("Unreachable", 0), DEFAULT, now=at(0), silenced=False) == []
    assert kinds(store.apply(result("Unreachable", 5), DEFAULT, now=at(5), silenced=False)) == ["Fired reachability"]
    restarted = AlertStore(client(azurite, table_name))  # a new instance: nothing in memory
    state = restarted.state("app-to-db")
    assert state is not None and state.network.firing and state.network.notified
    assert restarted.apply(result("Unreachable", 10), DEFAULT, now=at(10), silenced=False) == []  # no second Fired
    restarted.apply(result("Reachable", 15), DEFAULT, now=at(15), silenced=False)
    assert kinds(restarted.apply(result("Reachable", 20), DEFAULT, now=at(20), silenced=False)) == [
        "Resolved reachability"]
    assert [(t, e.kind) for t, e in store.pending()] == [("app-to-db", "Fired"), ("app-to-db", "Resolved")]


def test_a_redelivered_result_changes_nothing(store: AlertStore) -> None:
    store.apply(result("Unreachable", 0), DEFAULT, now=at(0), silenced=False)
    store.apply(result("Unreachable", 5), DEFAULT, now=at(5), silenced=False)
    before = store.read("app-to-db")
    assert store.apply(result("Unreachable", 5), DEFAULT, now=at(6), silenced=False) == []
    assert store.apply(result("Reachable", 1), DEFAULT, now=at(6), silenced=False) == []  # older than the newest
    assert store.read("app-to-db").etag == before.etag  # not even written
    assert len(store.pending()) == 1


def test_silenced_events_go_to_recorders_only_and_the_overdue_one_to_everyone(store: AlertStore) -> None:
    store.apply(result("Unreachable", 0), DEFAULT, now=at(0), silenced=True)
    held = store.apply(result("Unreachable", 5), DEFAULT, now=at(5), silenced=True)
    assert [(e.kind, e.silenced) for e in held] == [("Fired", True)]
    overdue = store.apply(result("Unreachable", 10), DEFAULT, now=at(10), silenced=False)
    assert [(e.kind, e.silenced, e.event_id) for e in overdue] == [("Fired", False, held[0].event_id)]
    assert [e for _, e in store.pending()] == held + overdue
    notified: list[AlertEvent] = []
    recorded: list[AlertEvent] = []
    report = store.deliver([notified.append], recorders=[recorded.append])
    assert report.delivered == (held[0].event_id, held[0].event_id)
    assert notified == overdue and recorded == held + overdue


def test_an_episode_entirely_in_a_silence_notifies_nobody(store: AlertStore) -> None:
    for minute, status in ((0, "Unreachable"), (5, "Unreachable"), (10, "Reachable"), (15, "Reachable")):
        store.apply(result(status, minute), DEFAULT, now=at(minute), silenced=True)
    assert [(e.kind, e.silenced) for _, e in store.pending()] == [("Fired", True), ("Resolved", True)]
    notified: list[AlertEvent] = []
    assert len(store.deliver([notified.append]).delivered) == 2  # no recorder: nothing to do with them
    assert notified == [] and store.pending() == []


def test_target_names_are_keys_ignoring_case(store: AlertStore) -> None:
    store.apply(result("Unreachable", 0, target="App-To-DB"), DEFAULT, now=at(0), silenced=False)
    fired = store.apply(result("Unreachable", 5, target="app-to-db"), DEFAULT, now=at(5), silenced=False)
    assert [e.target for e in fired] == ["App-To-DB"]  # as first seen
    with pytest.raises(ValueError, match="cannot be a table key"):
        store.read("a/b")


def test_an_unreadable_state_row_is_an_error_that_names_it(store: AlertStore) -> None:
    store.table.upsert_entity({"PartitionKey": PARTITION, "RowKey": "app-to-db", "State": "{"})
    with pytest.raises(ValueError, match="alert state row 'app-to-db' cannot be read"):
        store.apply(result("Unreachable", 0), DEFAULT, now=at(0), silenced=False)


def test_every_state_in_one_request_without_the_outbox(azurite: Azurite, table_name: str) -> None:
    responses: list[int] = []
    counted = AlertStore(TableClient.from_connection_string(
        azurite.connection_string, table_name=table_name,
        raw_response_hook=lambda response: responses.append(response.http_response.status_code)), clock=lambda: T0)
    names = [f"target-{i:02d}" for i in range(30)]
    for minute, name in enumerate(names):  # failing twice: each fires, so the outbox holds 30 events
        for offset in (0, 1):
            counted.apply(result("Unreachable", 2 * minute + offset, target=name), DEFAULT, now=at(2 * minute + offset),
                          silenced=False)
    assert len(counted.queued()) == 30
    responses.clear()
    states = counted.states()
    assert len(responses) == 1  # the status command once read each target's row on its own
    assert sorted(s.target for s in states) == names
    assert states == [counted.state(s.target) for s in states]
    counted.table.upsert_entity({"PartitionKey": PARTITION, "RowKey": "broken", "State": "{"})
    with pytest.raises(ValueError, match="alert state row 'broken' cannot be read"):
        counted.states()


# --------------------------------------------------------------------------- two writers


def test_two_writers_that_read_the_same_state_fire_once(azurite: Azurite, table_name: str) -> None:
    one, two = AlertStore(client(azurite, table_name)), AlertStore(client(azurite, table_name))
    one.apply(result("Unreachable", 0), DEFAULT, now=at(0), silenced=False)
    # Both instances read the same row (one failure so far) and each evaluates its own result ...
    read_one, read_two = one.read("app-to-db"), two.read("app-to-db")
    assert read_one.etag == read_two.etag
    state_one, events_one = evaluate(read_one.state, result("Unreachable", 5), DEFAULT, now=at(5), silenced=False)
    state_two, events_two = evaluate(read_two.state, result("Unreachable", 6), DEFAULT, now=at(6), silenced=False)
    assert kinds(events_one) == kinds(events_two) == ["Fired reachability"]  # each would fire
    # ... the first write wins; the second is refused (412) and queues nothing.
    assert one.write(read_one, state_one, events_one, now=at(5))
    assert not two.write(read_two, state_two, events_two, now=at(6))
    # apply does what a refused writer must: read again, evaluate again. Already firing: no Fired.
    assert two.apply(result("Unreachable", 6), DEFAULT, now=at(6), silenced=False) == []
    assert [e.kind for _, e in one.pending()] == ["Fired"]
    state = two.state("app-to-db")
    assert state is not None and state.network.failures == 3


class _Racing(AlertStore):
    """Reads once, then waits until the other writer has read too: both hold the same ETag."""

    def __init__(self, table: TableClient, barrier: threading.Barrier) -> None:
        super().__init__(table)
        self.barrier = barrier
        self.reads = 0

    def read(self, target: str) -> StoredState:
        stored = super().read(target)
        self.reads += 1
        if self.reads == 1:
            self.barrier.wait(timeout=30)
        return stored


@pytest.mark.parametrize("first_result", [True, False], ids=["existing row", "no row yet"])
def test_two_concurrent_instances_fire_exactly_once(azurite: Azurite, table_name: str, first_result: bool) -> None:
    settings = DEFAULT if first_result else AlertSettings(failure_threshold=1)
    if first_result:
        AlertStore(client(azurite, table_name)).apply(result("Unreachable", 0), settings, now=at(0), silenced=False)
    barrier = threading.Barrier(2)
    stores = [_Racing(client(azurite, table_name), barrier) for _ in range(2)]
    raised: dict[int, list[AlertEvent]] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            raised[i] = stores[i].apply(result("Unreachable", 5 + i), settings, now=at(5 + i), silenced=False)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(kinds(raised[0] + raised[1])) == ["Fired reachability"]
    assert sorted(s.reads for s in stores) == [1, 2]  # the loser read again
    assert [e.kind for _, e in stores[0].pending()] == ["Fired"]


def test_a_writer_that_never_wins_gives_up_with_a_clear_error(store: AlertStore) -> None:
    class Losing(AlertStore):
        def write(self, stored: StoredState, state: AlertState, events: Any, *, now: dt.datetime) -> bool:
            return False

    with pytest.raises(AlertStateConflict, match="changed under 8 attempts to apply 'app-to-db@0'"):
        Losing(store.table).apply(result("Unreachable", 0), DEFAULT, now=at(0), silenced=False)


# --------------------------------------------------------------------------- delivery


class Collector:
    """A webhook receiver on 127.0.0.1 that answers the given statuses in turn, then 200."""

    name = "webhook-collector"

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.bodies.append(json.loads(request.body))
            status = self.statuses.pop(0) if self.statuses else 200
        return Reply.json(status, {"received": True})


def webhook(url: str) -> Any:
    def send(event: AlertEvent) -> None:
        requests.post(url, json=event.to_message(), timeout=10).raise_for_status()

    send.__name__ = "webhook"
    return send


def _fire(store: AlertStore, target: str = "app-to-db", start: int = 0) -> None:
    store.apply(result("Unreachable", start, target), DEFAULT, now=at(start), silenced=False)
    store.apply(result("Unreachable", start + 5, target), DEFAULT, now=at(start + 5), silenced=False)


def test_a_webhook_that_fails_then_succeeds_gets_the_event_twice_and_it_is_delivered_once(store: AlertStore) -> None:
    collector = Collector(500)
    server = RunningServer(collector)
    try:
        _fire(store)
        (queued,) = store.pending()
        first = store.deliver([webhook(f"{server.url}/hook")])
        assert first.delivered == () and first.waiting == 0
        (failure,) = first.failed
        assert (failure.target, failure.event_id, failure.attempts) == ("app-to-db", queued[1].event_id, 1)
        assert failure.error.startswith("webhook: HTTPError: 500 Server Error")
        (still,) = store.queued()  # kept, with the attempt on record
        assert still.event == queued[1] and still.attempts == 1 and still.last_error == failure.error

        second = store.deliver([webhook(f"{server.url}/hook")])
        assert second.delivered == (queued[1].event_id,) and second.failed == ()
        assert store.pending() == []
        assert store.deliver([webhook(f"{server.url}/hook")]) == type(second)()  # nothing left
    finally:
        server.stop()
    assert [b["event_id"] for b in collector.bodies] == [queued[1].event_id] * 2
    assert collector.bodies[0] == collector.bodies[1] == json.loads(json.dumps(queued[1].to_message()))
    assert collector.bodies[0]["kind"] == "Fired" and collector.bodies[0]["blocking_hop"] == "10.1.3.4"


def test_every_sender_must_take_an_event_before_it_leaves_the_outbox(store: AlertStore) -> None:
    _fire(store)
    got: list[str] = []
    flaky = iter([RuntimeError("queue unavailable"), None])

    def queue(event: AlertEvent) -> None:
        got.append(f"queue {event.kind}")

    def log_analytics(event: AlertEvent) -> None:
        got.append(f"log {event.kind}")
        error = next(flaky)
        if error:
            raise error

    report = store.deliver([queue, log_analytics])
    assert report.failed[0].error == "log_analytics: RuntimeError: queue unavailable"
    assert len(store.pending()) == 1
    assert store.deliver([queue, log_analytics]).delivered
    assert got == ["queue Fired", "log Fired", "queue Fired", "log Fired"]  # at least once, to each


def test_a_failed_event_holds_back_its_targets_later_events_but_no_other_target(store: AlertStore) -> None:
    _fire(store, "app-to-db")
    store.apply(result("Reachable", 10), DEFAULT, now=at(10), silenced=False)
    store.apply(result("Reachable", 15), DEFAULT, now=at(15), silenced=False)  # Resolved, queued after Fired
    _fire(store, "app-to-bing", 20)
    seen: list[str] = []

    def sender(event: AlertEvent) -> None:
        if event.target == "app-to-db" and event.kind == "Fired" and "app-to-db Fired" not in seen:
            seen.append("app-to-db Fired")
            raise ConnectionError("refused")
        seen.append(f"{event.target} {event.kind}")

    report = store.deliver([sender])
    assert [f.event_id.split("/")[0] for f in report.failed] == ["app-to-db"]
    assert report.waiting == 1  # app-to-db's Resolved may not overtake its Fired
    assert [d.split("/")[0] for d in report.delivered] == ["app-to-bing"]
    report = store.deliver([sender])
    assert [d.rsplit("/", 1)[1] for d in report.delivered] == ["Fired", "Resolved"]
    # the outbox is in order per target (by name, then as queued)
    assert seen == ["app-to-bing Fired", "app-to-db Fired", "app-to-db Fired", "app-to-db Resolved"]


def test_the_newest_reminder_replaces_older_ones_still_queued(store: AlertStore) -> None:
    settings = AlertSettings(repeat_interval_s=60)
    for minute in range(0, 30, 5):  # Fired at 5, then a reminder on every result
        store.apply(result("Unreachable", minute), settings, now=at(minute), silenced=False)
    queued = [e.event_id.rsplit("/", 1)[1] for _, e in store.pending()]
    assert queued == ["Fired", "Reminder-4"]
    store.apply(result("Reachable", 30), settings, now=at(30), silenced=False)
    store.apply(result("Reachable", 35), settings, now=at(35), silenced=False)
    assert [e.kind for _, e in store.pending()] == ["Fired", "Reminder", "Resolved"]


def test_an_unreadable_queued_event_is_reported_and_kept(store: AlertStore) -> None:
    _fire(store)
    (row,) = store.queued()
    store.table.update_entity({"PartitionKey": PARTITION, "RowKey": row.row_key, "Event": "not json"})
    report = store.deliver([lambda event: None])
    assert report.failed[0].error == "the queued event cannot be read" and store.pending() == []
    assert len(store.queued()) == 1 and store.queued()[0].attempts == 1


def test_ensure_table_is_idempotent(azurite: Azurite) -> None:
    name = f"alerts{uuid.uuid4().hex[:16]}"
    store = AlertStore(client(azurite, name))
    store.ensure_table()
    store.ensure_table()
    assert store.state("x") is None
    TableServiceClient.from_connection_string(azurite.connection_string).delete_table(name)


def test_queued_rows_carry_what_delivery_needs(store: AlertStore) -> None:
    _fire(store)
    (queued,) = store.queued()
    raw = store.table.get_entity(PARTITION, queued.row_key)
    assert queued.row_key == "~app-to-db~0000000001"
    assert {k: raw[k] for k in ("Target", "Kind", "Attempts", "Queued")} == {
        "Target": "app-to-db", "Kind": "Fired", "Attempts": 0, "Queued": format_utc(at(5))}
    assert queued.event is not None and queued.event.event_id == raw["EventId"]
