"""``nwcheck status``: the alert state of every target, as the app left it in the alerts table."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from azure.data.tables import TableClient, TableServiceClient

from emulator.azurite import Azurite
from shared.alerts.store import AlertStore
from shared.results import CheckResult, Finding, format_utc
from shared.target_list import parse_target_list
from tests.cli.conftest import SAMPLE, Cli
from tests.cli.test_cli_run import table_row

T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
TARGETS = {t.name: t for t in parse_target_list(SAMPLE.read_bytes()).targets}


def result(target: str, status: str, minute: int, **finding: str) -> CheckResult:
    t = TARGETS[target]
    completed = format_utc(T0 + dt.timedelta(minutes=minute))
    return CheckResult(check_id=f"{target}@{minute}", target=target, kind=t.kind, trigger="schedule",
                       correlation_id=None, expected=t.expect, finding=Finding(status=status, **finding),
                       scheduled=None, started=completed, completed=completed, polls=1, network_watcher=None,
                       source_resource_id=t.source_vm, destination=None, port=None, protocol=None, direction=None)


@pytest.fixture
def table_name(azurite: Azurite, suffix: str) -> Iterator[str]:
    name = f"clialerts{suffix}"
    yield name
    TableServiceClient.from_connection_string(azurite.connection_string).delete_table(name)


@pytest.fixture
def store(azurite: Azurite, table_name: str) -> AlertStore:
    store = AlertStore(TableClient.from_connection_string(azurite.connection_string, table_name))
    store.ensure_table()
    return store


def apply(store: AlertStore, *results: CheckResult) -> None:
    for r in results:
        store.apply(r, TARGETS[r.target].alert, now=T0 + dt.timedelta(minutes=10), silenced=False)


def raise_alerts(store: AlertStore) -> None:
    """Two sweeps, as the app would ingest them: the blocked database path and an open RDP port fire
    (failure threshold 2), the blob path failed once, the bing path is fine."""
    blocked = {"blocking_hop": "10.1.3.4", "rule_name": "UserRule_Port80", "issue_type": "NetworkSecurityRule"}
    apply(store, result("app-to-db-port80", "Unreachable", 1, **blocked),
          result("app-to-db-port80", "Unreachable", 2, **blocked),
          result("internet-in-3389", "Allow", 1, rule_name="UserRule_RDP"),
          result("internet-in-3389", "Allow", 2, rule_name="UserRule_RDP"),
          result("app-to-blob", "Unreachable", 2),
          result("app-to-bing", "Reachable", 1), result("app-to-bing", "Reachable", 2))


def test_status_shows_fired_alerts_with_kind_severity_since_and_why(cli: Cli, store: AlertStore,
                                                                     table_name: str) -> None:
    raise_alerts(store)
    run = cli("status", "--table", table_name, "--targets", str(SAMPLE))
    assert run.code == 0, run
    assert table_row(run.out, "app-to-db-port80") == [
        "app-to-db-port80", "firing", "reachability", "Sev2", "2026-11-22T10:01:00.000Z",
        "Unreachable (expected Reachable)", "hop 10.1.3.4 rule UserRule_Port80", "2026-11-22T10:02:00.000Z"]
    assert table_row(run.out, "internet-in-3389")[:6] == [
        "internet-in-3389", "firing", "security", "Sev1", "2026-11-22T10:01:00.000Z", "Allow (expected Deny)"]
    assert table_row(run.out, "app-to-blob")[:4] == ["app-to-blob", "pending 1/2", "reachability", "Sev2"]
    assert table_row(run.out, "app-to-bing") == ["app-to-bing", "ok", "2026-11-22T10:02:00.000Z"]
    for never in ("app-to-13.107.21.200", "app-out-443", "app-nexthop-db"):
        assert table_row(run.out, never) == [never, "never checked"]
    assert "2 alert(s) firing; 2 alert event(s) waiting for delivery" in run.out


def test_status_follows_the_state_as_alerts_resolve(cli: Cli, store: AlertStore, table_name: str) -> None:
    raise_alerts(store)
    apply(store, result("app-to-db-port80", "Reachable", 3))
    resolving = cli("status", "--table", table_name, "--targets", str(SAMPLE))
    assert table_row(resolving.out, "app-to-db-port80")[1] == "firing, resolving 1/2", resolving
    apply(store, result("app-to-db-port80", "Reachable", 4))
    resolved = cli("status", "--table", table_name)  # without a list: only the targets with state
    assert table_row(resolved.out, "app-to-db-port80")[1] == "ok", resolved
    assert "never checked" not in resolved.out
    assert "1 alert(s) firing; 3 alert event(s) waiting for delivery" in resolved.out


def test_json_output_and_the_table_from_its_setting(cli: Cli, store: AlertStore, table_name: str) -> None:
    raise_alerts(store)
    run = cli("status", "-o", "json", env={"ALERTS_TABLE": table_name})
    assert run.code == 0, run
    data = json.loads(run.out)
    rows = {r["target"]: r for r in data["targets"]}
    assert set(rows) == {"app-to-db-port80", "internet-in-3389", "app-to-blob", "app-to-bing"}
    fired = rows["app-to-db-port80"]
    assert (fired["state"], fired["firing"], fired["kind"], fired["severity"], fired["since"], fired["lastStatus"]) \
        == ("firing", True, "reachability", "Sev2", "2026-11-22T10:01:00.000Z", "Unreachable")
    assert rows["app-to-blob"]["state"] == "pending 1"  # without the list, no threshold to show
    assert data["eventsWaiting"] == 2 and data["deliveryFailures"] == []


def test_no_table_yet_is_no_state(cli: Cli, suffix: str) -> None:
    run = cli("status", "--table", f"absent{suffix}")
    assert run.code == 0, run
    assert f"no alert state in absent{suffix} yet" in run.out


def test_storage_not_configured_is_a_usage_error(cli: Cli) -> None:
    run = cli("status", env={"NwcheckStorage": ""})
    assert run.code == 2 and "storage connection 'NwcheckStorage' is not configured" in run.err, run
