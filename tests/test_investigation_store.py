"""Investigations in Table storage (Azurite): created once, results kept idempotently, completed
and recorded once even with concurrent ingest runs, and taken over when a recorder died."""

from __future__ import annotations

import dataclasses as dc
import datetime as dt
import threading
import uuid

import pytest
from azure.data.tables import TableClient

from emulator.azurite import Azurite
from shared.investigations.store import RECORD_CLAIM_S, InvestigationStore, investigation_of
from shared.investigations.summary import Planned, Record
from shared.results import format_utc
from tests.test_results import result

T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
INV = "inv-" + "a" * 24
RECORD = Record(INV, "alert", "/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/1", "cpu", "Sev3",
                "Fired", (), ("app-to-db",), (Planned(f"{INV}-00", "app-to-db", "target", "connectivity"),
                                              Planned(f"{INV}-01", "app-to-db", "ipflow-out", "ipFlow")),
                "2026-11-22T10:00:00.000Z")


@pytest.fixture
def stores(azurite: Azurite) -> list[InvestigationStore]:
    name = f"inv{uuid.uuid4().hex[:10]}"
    made = [InvestigationStore(TableClient.from_connection_string(azurite.connection_string, name))
            for _ in range(4)]
    made[0].ensure_table()
    return made


def test_check_ids_name_their_investigation() -> None:
    assert investigation_of(f"{INV}-07") == INV
    assert investigation_of("s-20261122T1000Z-abc") is None and investigation_of("inv-short-01") is None


def test_created_once_then_running(stores: list[InvestigationStore]) -> None:
    store = stores[0]
    stored, created = store.begin(RECORD, T0 + dt.timedelta(minutes=30))
    assert created and stored.status == "accepting"
    store.mark_running(stored)
    again, created = store.begin(RECORD, T0 + dt.timedelta(minutes=30))
    assert not created and again.status == "running" and again.record == RECORD


def test_completed_when_every_result_is_in_and_recorded_once(stores: list[InvestigationStore]) -> None:
    store = stores[0]
    stored, _ = store.begin(RECORD, T0 + dt.timedelta(minutes=30))
    store.mark_running(stored)
    store.record_results([result(check_id=f"{INV}-00"), result(check_id="unrelated-00")])
    assert store.complete(INV, T0) is None  # one of two results
    store.record_results([result(check_id=f"{INV}-01", kind="ipFlow")] * 2)  # a redelivery changes nothing
    assert set(store.results(INV)) == {f"{INV}-00", f"{INV}-01"}
    claims: list[object] = []
    barrier = threading.Barrier(len(stores))

    def ingest_run(s: InvestigationStore) -> None:
        barrier.wait()
        claims.append(s.complete(INV, T0 + dt.timedelta(seconds=5)))

    threads = [threading.Thread(target=ingest_run, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [c for c in claims if c is not None]
    assert len(won) == 1  # four concurrent ingest runs: one sends the summary
    store.mark_recorded(won[0])  # type: ignore[arg-type]
    assert store.complete(INV, T0 + dt.timedelta(hours=1)) is None
    final = store.read(INV)
    assert final is not None and final.recorded and final.summary is not None
    assert final.summary["ChecksMissing"] == 0 and final.summary["Verdict"] == "Blocked"


def test_deadline_completes_with_what_is_there(stores: list[InvestigationStore]) -> None:
    store = stores[0]
    stored, _ = store.begin(RECORD, T0 + dt.timedelta(minutes=30))
    store.mark_running(stored)
    store.record_results([result(check_id=f"{INV}-00")])
    assert store.complete(INV, T0 + dt.timedelta(minutes=29)) is None
    late = store.complete(INV, T0 + dt.timedelta(minutes=31))
    assert late is not None and late.summary is not None and late.summary["ChecksMissing"] == 1


def test_a_dead_recorder_is_taken_over(stores: list[InvestigationStore]) -> None:
    store = stores[0]
    stored, _ = store.begin(RECORD, T0)
    store.mark_running(stored)
    first = store.complete(INV, T0 + dt.timedelta(seconds=1))  # past the deadline: completes
    assert first is not None  # ... and this run dies before recording
    assert stores[1].complete(INV, T0 + dt.timedelta(seconds=RECORD_CLAIM_S - 1)) is None
    assert stores[1].complete(INV, T0 + dt.timedelta(seconds=RECORD_CLAIM_S + 2)) is not None


def _index(store: InvestigationStore) -> set[str]:
    return {str(r["RowKey"]) for r in store.table.query_entities("PartitionKey eq 'open'")}


def test_ingest_finds_open_investigations_in_one_partition_until_they_are_recorded(
        stores: list[InvestigationStore]) -> None:
    store = stores[0]
    stored, _ = store.begin(RECORD, T0)
    assert store.open_ids() == [INV] and _index(store) == {INV}  # accepting is open
    store.mark_running(stored)
    assert store.open_ids() == [INV]
    done = store.complete(INV, T0 + dt.timedelta(seconds=1))
    assert done is not None and store.open_ids() == [INV]  # completed, not yet in Log Analytics
    store.mark_recorded(done)
    assert store.open_ids() == [] and _index(store) == set()
    # a retried delivery of a recorded investigation does not reopen it
    again, created = store.begin(RECORD, T0)
    assert not created and again.recorded
    assert store.complete(INV, T0 + dt.timedelta(hours=1)) is None and store.open_ids() == []


def test_a_run_that_died_after_recording_is_closed_by_the_next(stores: list[InvestigationStore]) -> None:
    store = stores[0]
    store.begin(RECORD, T0)
    done = store.complete(INV, T0 + dt.timedelta(seconds=1))
    assert done is not None
    store.table.update_entity({"PartitionKey": INV, "RowKey": "investigation", "Recorded": True})  # then died
    assert store.open_ids() == [INV]
    assert stores[1].complete(INV, T0 + dt.timedelta(seconds=2)) is None
    assert store.open_ids() == []


def test_an_index_row_without_its_record_is_dropped_once_it_is_an_hour_old(stores: list[InvestigationStore]) -> None:
    store = stores[0]
    orphan = "inv-" + "b" * 24
    store.table.upsert_entity({"PartitionKey": "open", "RowKey": orphan, "Since": "2026-11-22T10:00:00.000Z"})
    # the webhook wrote the index row and has not created the record yet: left alone
    assert store.complete(orphan, T0 + dt.timedelta(minutes=59)) is None and store.open_ids() == [orphan]
    assert store.complete(orphan, T0 + dt.timedelta(minutes=61)) is None and store.open_ids() == []


def recorded(store: InvestigationStore, investigation: str, started: dt.datetime, checks: int = 2) -> None:
    record = dc.replace(RECORD, investigation_id=investigation, started=format_utc(started),
                        checks=tuple(Planned(f"{investigation}-{i:02d}", "app-to-db", "target", "connectivity")
                                     for i in range(checks)))
    store.begin(record, started)
    store.record_results([result(check_id=f"{investigation}-{i:02d}") for i in range(checks)])
    done = store.complete(investigation, started + dt.timedelta(seconds=1))
    assert done is not None
    store.mark_recorded(done)


def _rows(store: InvestigationStore, investigation: str) -> int:
    return len(list(store.table.query_entities("PartitionKey eq @p", parameters={"p": investigation})))


def test_prune_deletes_old_recorded_investigations_whole_and_nothing_else(stores: list[InvestigationStore],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = stores[0]
    old, recent, running = ("inv-" + c * 24 for c in "cde")
    monkeypatch.setattr("shared.investigations.store._MAX_BATCH", 4)  # more check rows than one transaction
    recorded(store, old, T0 - dt.timedelta(days=100), checks=10)
    recorded(store, recent, T0 - dt.timedelta(days=10))
    open_record = dc.replace(RECORD, investigation_id=running, started=format_utc(T0 - dt.timedelta(days=200)))
    store.mark_running(store.begin(open_record, T0 + dt.timedelta(days=1))[0])
    assert _rows(store, old) == 11
    assert store.prune(T0 - dt.timedelta(days=90)) == 1
    assert _rows(store, old) == 0 and store.read(old) is None
    assert _rows(store, recent) == 3 and store.read(running) is not None and store.open_ids() == [running]
    assert store.prune(T0 - dt.timedelta(days=90)) == 0


def test_prune_takes_at_most_its_limit_a_call(stores: list[InvestigationStore]) -> None:
    store = stores[0]
    for c in "fgh":
        recorded(store, "inv-" + c * 24, T0 - dt.timedelta(days=100), checks=1)
    assert store.prune(T0, limit=2) == 2
    assert store.prune(T0, limit=2) == 1
