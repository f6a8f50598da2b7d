"""One schema per table, everywhere: infra/tables/*.json == the data collection rule's stream
declarations == the custom tables' columns (both built from the files by the Bicep) == the rows
the app builds == what the emulator's ingestion endpoint validates."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from emulator.ingestion import _type_error, load_stream_declarations
from shared.alerts.state import AlertEvent
from shared.investigations.summary import Planned, Record, summarize
from shared.notify import alert_row
from shared.results import CheckResult, error_finding
from shared.rows import TABLES, check_row, table
from tests.infra.bicep import INFRA, Evaluator, body, loaded_files, only, resources

MONITORING = INFRA / "modules" / "monitoring.bicep"
# Types a data collection rule's stream declaration takes (ColumnDefinition, Microsoft.Insights
# 2023-03-11), and those of a Log Analytics table column (ColumnTypeEnum, tables 2022-10-01).
STREAM_TYPES = {"string", "int", "long", "real", "boolean", "datetime", "dynamic"}
TABLE_TYPES = {"string", "int", "long", "real", "boolean", "dateTime", "guid", "dynamic"}
RESERVED = {"_ResourceId", "id", "_SubscriptionId", "TenantId", "Type", "UniqueId", "Title"}


def table_files(directory: Path = TABLES) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def dcr_problems(monitoring: Path, tables_dir: Path) -> list[str]:
    """How the rule and tables that ``monitoring`` deploys differ from the files in ``tables_dir``."""
    specs = table_files(tables_dir)
    evaluate = Evaluator(monitoring)
    problems = []
    missing = {p.resolve() for p in tables_dir.glob("*.json")} - loaded_files(monitoring)
    if missing:
        problems.append(f"table files not loaded by {monitoring.name}: {sorted(p.name for p in missing)}")

    rule = body(only(monitoring, "Microsoft.Insights/dataCollectionRules"))["properties"]
    declared = evaluate.value(rule["streamDeclarations"], {})
    expected = {s["stream"]: {"columns": [{"name": c["name"], "type": c["type"]} for c in s["columns"]]}
                for s in specs.values()}
    if declared != expected:
        problems.append(f"stream declarations differ from the table files: {declared} != {expected}")

    destinations = [d["name"] for d in evaluate.value(rule["destinations"], {})["logAnalytics"]]
    flows = {tuple(f["streams"]): f for f in evaluate.value(rule["dataFlows"], {})}
    for spec in specs.values():
        flow = flows.pop((spec["stream"],), None)
        wanted = {"streams": [spec["stream"]], "destinations": destinations, "transformKql": "source",
                  "outputStream": f"Custom-{spec['table']}"}
        if flow != wanted:
            problems.append(f"data flow of {spec['stream']}: {flow} != {wanted}")
    if flows:
        problems.append(f"data flows of no table file: {sorted(flows)}")

    deployed = {}
    for resource in resources(monitoring, "Microsoft.OperationalInsights/workspaces/tables").values():
        config = body(resource)
        deployed[evaluate.value(config["name"], {})] = evaluate.value(config["properties"]["schema"]["columns"], {})
    wanted_tables = {s["table"]: [{"name": c["name"], "type": "dateTime" if c["type"] == "datetime" else c["type"],
                                   "description": c["description"]} for c in s["columns"]] for s in specs.values()}
    if deployed != wanted_tables:
        problems.append(f"custom tables differ from the table files: {deployed} != {wanted_tables}")
    return problems


def test_the_rule_and_the_tables_are_the_table_files() -> None:
    assert dcr_problems(MONITORING, TABLES) == []


def test_a_hand_written_stream_declaration_is_caught(tmp_path: Path) -> None:
    shutil.copytree(INFRA, tmp_path / "infra")
    copy = tmp_path / "infra" / "modules" / "monitoring.bicep"
    text = copy.read_text()
    loop = re.search(r"var alertsStreamColumns = \[for c in alerts\.columns: \{\n.*?\n\}\]", text, re.DOTALL)
    assert loop is not None
    copy.write_text(text.replace(loop.group(), "var alertsStreamColumns = [\n  {\n    name: 'TimeGenerated'\n"
                                               "    type: 'datetime'\n  }\n]"))
    problems = dcr_problems(copy, tmp_path / "infra" / "tables")
    assert len(problems) == 1 and "stream declarations differ" in problems[0], problems


def test_a_new_table_file_must_be_deployed(tmp_path: Path) -> None:
    shutil.copytree(INFRA, tmp_path / "infra")
    tables = tmp_path / "infra" / "tables"
    shutil.copy(tables / "alerts.json", tables / "extra.json")
    problems = dcr_problems(tmp_path / "infra" / "modules" / "monitoring.bicep", tables)
    assert any("not loaded" in p and "extra.json" in p for p in problems), problems


@pytest.mark.parametrize("name", sorted(table_files()))
def test_table_files_follow_log_analytics_rules(name: str) -> None:
    spec = table_files()[name]
    assert spec["table"].endswith("_CL") and spec["stream"].startswith("Custom-"), spec["table"]
    names = [c["name"] for c in spec["columns"]]
    assert len(names) == len(set(names)), names
    assert {"name": "TimeGenerated", "type": "datetime"}.items() <= spec["columns"][0].items()
    for column in spec["columns"]:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,44}", column["name"]), column["name"]
        assert column["name"] not in RESERVED, column["name"]
        assert column["type"] in STREAM_TYPES, column
        assert column["description"], column["name"]
    table_types = {"dateTime" if c["type"] == "datetime" else c["type"] for c in spec["columns"]}
    assert table_types <= TABLE_TYPES


def test_the_emulator_validates_the_same_streams_and_every_type() -> None:
    streams = load_stream_declarations()
    assert streams == {s["stream"]: {c["name"]: c["type"] for c in s["columns"]} for s in table_files().values()}
    samples = {"string": "x", "int": 1, "long": 2**40, "real": 1.5, "boolean": True,
               "datetime": "2026-11-22T10:00:00Z", "dynamic": {"a": [1]}}
    for kind in {c["type"] for s in table_files().values() for c in s["columns"]}:
        assert _type_error(samples[kind], kind) is None, kind
        if kind != "dynamic":
            assert _type_error(object(), kind) is not None, kind


def test_the_rows_the_app_builds_have_exactly_the_columns() -> None:
    # One row of each table, as shared/rows.py, shared/notify.py and shared/investigations build them.
    result = CheckResult(
        check_id="c1", target="t", kind="connectivity", trigger="schedule", correlation_id=None, expected="Reachable",
        finding=error_finding("AuthorizationFailed", "no"), scheduled="2026-11-22T10:00:00.000Z",
        started="2026-11-22T10:00:00.100Z", completed="2026-11-22T10:00:03.100Z", polls=1,
        network_watcher="/subscriptions/s/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/"
                        "networkWatchers/NetworkWatcher_westeurope",
        source_resource_id="/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v",
        destination="10.0.0.4", port=443, protocol="Tcp", direction=None)
    event = AlertEvent(event_id="e1", kind="Fired", alert="reachability", target="t", status="Unreachable",
                       expected="Reachable", severity="Sev2", blocking_hop="10.1.3.4", rule_name="UserRule_Port80",
                       route_type=None, issue_type="NetworkSecurityRule", first_seen="2026-11-22T10:00:00Z",
                       last_seen="2026-11-22T10:01:00Z", check_ids=("c0", "c1"), at="2026-11-22T10:01:00Z",
                       silenced=False)
    investigation = Record(investigation_id="inv-1", trigger="alert", alert_id="/subscriptions/s/alerts/a",
                           alert_rule="cpu", severity="Sev3", monitor_condition="Fired",
                           alert_target_ids=("/subscriptions/s/vm",), targets=("t",),
                           checks=(Planned("c1", "t", "target", "connectivity"),), started="2026-11-22T10:00:00Z")
    summary = summarize(investigation, {}, dt.datetime(2026, 11, 22, 10, 5, tzinfo=dt.UTC))
    for name, row in (("checks", check_row(result)), ("alerts", alert_row(event)), ("investigations", summary)):
        columns = {c["name"]: c["type"] for c in table(name)["columns"]}
        assert set(row) == set(columns), (name, set(row) ^ set(columns))
        assert all(_type_error(value, columns[key]) is None for key, value in row.items()), row
