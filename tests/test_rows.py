"""Rows for Log Analytics: exactly the columns of infra/tables/checks.json, of their types."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient

from emulator.ingestion import _type_error
from emulator.stack import Emulator
from shared.results import CheckResult, Hop, Issue, error_finding
from shared.rows import MAX_FIELD_BYTES, check_row, table
from tests.test_pipeline import _pipeline, _request, run

TARGETS = ["app-to-db-port80", "app-to-13.107.21.200", "app-to-bing", "app-to-blob", "app-out-443",
           "internet-in-3389", "app-nexthop-db"]


@pytest.fixture
def results(emu: Emulator) -> list[CheckResult]:
    emu.arm.lro.operation_seconds = 0
    pipeline = _pipeline(emu)
    out = []
    for i, name in enumerate(TARGETS):
        outcome, _ = run(pipeline, _request(name), f"m{i}")
        assert outcome.result is not None
        out.append(outcome.result)
    return out


def _check_types(row: dict) -> None:
    columns = {c["name"]: c["type"] for c in table()["columns"]}
    assert set(row) == set(columns), set(row) ^ set(columns)
    for name, value in row.items():
        assert _type_error(value, columns[name]) is None, (name, value)


def test_every_row_has_exactly_the_declared_columns_and_types(results: list[CheckResult]) -> None:
    for result in results:
        _check_types(check_row(result))
    db = check_row(results[0])
    assert (db["Status"], db["Healthy"], db["BlockingHop"], db["RuleName"], db["HopCount"]) == (
        "Unreachable", False, "10.1.3.4", "UserRule_Port80", 4)
    assert db["Region"] == "westcentralus"
    assert db["SubscriptionId"] == "00000000-0000-0000-0000-000000000000"
    assert db["Issues"] == [{"hop": "10.1.3.4", "origin": "Outbound", "severity": "Error",
                             "type": "NetworkSecurityRule", "context": {"RuleName": "UserRule_Port80"}}]
    error = check_row(replace(results[2], finding=error_finding("AuthorizationFailed", "no")))
    _check_types(error)
    assert (error["Status"], error["Healthy"], error["ErrorCode"]) == ("Error", None, "AuthorizationFailed")


def test_rows_are_accepted_by_the_ingestion_endpoint(emu: Emulator, results: list[CheckResult]) -> None:
    client = LogsIngestionClient(emu.settings()["LOGS_INGESTION_ENDPOINT"],
                                 ManagedIdentityCredential(client_id=emu.identity.client_id), retry_total=0)
    rows = [check_row(r) for r in results]
    client.upload(emu.ingestion.rule_id, table()["stream"], rows)
    assert [r["CheckId"] for r in emu.ingestion.rows_of(table()["stream"])] == [r["CheckId"] for r in rows]


def test_oversized_values_are_cut_with_a_marker(results: list[CheckResult]) -> None:
    result = results[0]
    issue = Issue("Outbound", "Error", "NetworkSecurityRule", (("RuleName", "r" * 1000),))
    hops = tuple(Hop("VirtualAppliance", f"10.0.{i // 250}.{i % 250}", "x" * 500, (issue,), (), None)
                 for i in range(100))
    big = replace(result, finding=replace(result.finding, hops=hops, error_message="é" * 100_000))
    row = check_row(big)
    _check_types(row)
    assert len(row["ErrorMessage"].encode()) <= MAX_FIELD_BYTES and "[truncated: 200000 bytes]" in row["ErrorMessage"]
    assert len(json.dumps(row["Hops"]).encode()) <= MAX_FIELD_BYTES
    assert row["Hops"][-1]["truncated"] > 0 and row["HopCount"] == 100
    assert len(json.dumps(row).encode()) < 1024 * 1024
