"""Every column a KQL query uses exists in its table: the alert rules' queries (infra/queries) and
the workbook's (infra/workbook), each file loaded by the Bicep with loadTextContent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.infra import kql
from tests.infra.bicep import INFRA, bicep_files, loaded_files

QUERIES = sorted([*INFRA.glob("queries/*.kql"), *INFRA.glob("workbook/*.kql")])


def schemas(tables: Path = INFRA / "tables") -> dict[str, set[str]]:
    """Table name → its columns, from infra/tables/*.json."""
    out = {}
    for path in tables.glob("*.json"):
        spec = json.loads(path.read_text())
        out[spec["table"]] = {c["name"] for c in spec["columns"]}
    return out


def problems(query_path: Path, tables: Path = INFRA / "tables") -> list[str]:
    usage = kql.usage(query_path.read_text())
    known = schemas(tables)
    if usage.table not in known:
        return [f"{query_path.name}: unknown table {usage.table}"]
    unknown = sorted(usage.columns - known[usage.table])
    return [f"{query_path.name}: {usage.table} has no column {name}" for name in unknown]


def test_the_alert_rules_and_the_workbook_have_their_queries() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in QUERIES}
    assert {"queries/fired-security.kql", "queries/fired-reachability.kql", "queries/check-health.kql",
            "queries/no-results.kql"} <= names
    assert {"workbook/reachability.kql", "workbook/latency.kql", "workbook/blockers.kql",
            "workbook/alert-history.kql", "workbook/investigations.kql"} <= names


def test_every_query_file_is_loaded_by_the_bicep() -> None:
    loaded = set().union(*(loaded_files(p) for p in bicep_files()))
    assert {p.resolve() for p in QUERIES} <= loaded, {p.name for p in QUERIES} - {p.name for p in loaded}


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_every_column_a_query_uses_exists(path: Path) -> None:
    assert problems(path) == []
    assert kql.usage(path.read_text()).columns, "the checker found no column at all: is it reading the query?"


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.relative_to(INFRA).as_posix())
@pytest.mark.parametrize("inject", [
    lambda q: q + "\n| where BogusColumn == 1",
    lambda q: q.replace("| summarize ", "| summarize Bogus = count() by BogusColumn, ", 1)
    if "| summarize " in q else q.replace("| project ", "| project BogusColumn, ", 1),
    lambda q: q + "\n| extend Copy = tostring(BogusColumn.inner)",
], ids=["where", "by-or-project", "function-argument"])
def test_a_bogus_column_is_caught(tmp_path: Path, path: Path, inject) -> None:
    copy = tmp_path / path.name
    copy.write_text(inject(path.read_text()))
    assert copy.read_text() != path.read_text()
    assert problems(copy) == [f"{path.name}: {kql.usage(path.read_text()).table} has no column BogusColumn"]


def test_a_column_removed_from_the_schema_is_caught(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    shutil.copytree(INFRA / "tables", tables)
    spec = json.loads((tables / "alerts.json").read_text())
    spec["columns"] = [c for c in spec["columns"] if c["name"] != "Silenced"]
    (tables / "alerts.json").write_text(json.dumps(spec))
    assert problems(INFRA / "queries" / "fired-security.kql", tables) == [
        "fired-security.kql: NetworkWatcherAlert_CL has no column Silenced"]


@pytest.mark.parametrize(("query", "columns"), [
    ("T | where A == 'x' and B != \"y\" // C\n| project A, D = strcat(B, 'E')", {"A", "B"}),
    ("T | summarize N = count(), P = percentile(L, 95) by K, bin(TimeGenerated, 15m) | order by P desc",
     {"L", "K", "TimeGenerated"}),
    ("T | extend X = Hops[0].address | where Status !in ('a') and isnotempty(X)", {"Hops", "Status"}),
    ("T | summarize arg_max(TimeGenerated, *) by EventId | top 5 by TimeGenerated asc", {"TimeGenerated", "EventId"}),
])
def test_the_tokenizer_tells_columns_from_the_rest(query: str, columns: set[str]) -> None:
    assert kql.usage(query).columns == columns
