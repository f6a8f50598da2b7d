"""The Logs Ingestion endpoint, exercised by the real azure-monitor-ingestion client."""

from __future__ import annotations

import gzip
import json

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient, LogsUploadError

from emulator.ingestion import MAX_BODY_BYTES, load_stream_declarations
from emulator.stack import Emulator

STREAM = "Custom-NetworkWatcherCheck"


def _client(emu: Emulator, **kwargs) -> LogsIngestionClient:
    # retry_total=0: the tests look at what the endpoint answers, not at the SDK's retries
    return LogsIngestionClient(emu.settings()["LOGS_INGESTION_ENDPOINT"],
                               ManagedIdentityCredential(client_id=emu.identity.client_id), retry_total=0, **kwargs)


def _row(check_id: str = "c1", **extra) -> dict:
    return {"TimeGenerated": "2026-11-22T10:00:00Z", "CheckId": check_id, "TargetName": "app-to-db",
            "Status": "Unreachable", "Healthy": False, "ProbesSent": 100, "Hops": [{"type": "Source"}], **extra}


def test_upload_is_accepted_and_rows_are_kept(emu: Emulator) -> None:
    rows = [_row(f"c{i}") for i in range(3)]
    _client(emu).upload(emu.ingestion.rule_id, STREAM, rows)
    assert emu.ingestion.rows_of(STREAM) == rows
    assert emu.ingestion.calls == 1


def test_unknown_column_is_refused_with_400_naming_it(emu: Emulator) -> None:
    with pytest.raises(HttpResponseError) as info:
        _client(emu).upload(emu.ingestion.rule_id, STREAM, [_row(Colour="blue")])
    assert info.value.status_code == 400
    assert "Colour" in str(info.value)
    assert emu.ingestion.rows_of(STREAM) == []


@pytest.mark.parametrize(
    ("column", "value"),
    [("ProbesSent", "100"), ("Healthy", "false"), ("TimeGenerated", "yesterday"), ("CheckId", 7),
     ("ProbesSent", True), ("TimeGenerated", 1700000000)],
)
def test_ill_typed_column_is_refused(emu: Emulator, column: str, value: object) -> None:
    with pytest.raises(HttpResponseError) as info:
        _client(emu).upload(emu.ingestion.rule_id, STREAM, [_row(**{column: value})])
    assert info.value.status_code == 400
    assert column in str(info.value)


def test_unknown_rule_and_stream_are_404(emu: Emulator) -> None:
    with pytest.raises(ResourceNotFoundError):
        _client(emu).upload("dcr-ffffffffffffffffffffffffffffffff", STREAM, [_row()])
    with pytest.raises(ResourceNotFoundError):
        _client(emu).upload(emu.ingestion.rule_id, "Custom-Nope", [_row()])


def test_partial_failure_reports_only_the_failed_chunk(emu: Emulator) -> None:
    # ~1.5 MB of rows: the SDK splits them into two chunks; the second one hits a 503.
    rows = [_row(f"c{i}", ErrorMessage="x" * 10_000) for i in range(150)]
    emu.faults.add(service="ingestion", kind="slow", seconds=0)  # the first chunk passes
    emu.faults.add(service="ingestion", kind="status", status=503, code="ServiceUnavailable")
    failed: list[LogsUploadError] = []
    _client(emu).upload(emu.ingestion.rule_id, STREAM, rows, on_error=failed.append)
    kept = {r["CheckId"] for r in emu.ingestion.rows_of(STREAM)}
    lost = {r["CheckId"] for e in failed for r in e.failed_logs}
    assert kept and lost and not kept & lost
    assert kept | lost == {r["CheckId"] for r in rows}


def test_missing_or_wrong_audience_token_is_401(emu: Emulator) -> None:
    url = (f"{emu.settings()['LOGS_INGESTION_ENDPOINT']}/dataCollectionRules/{emu.ingestion.rule_id}"
           f"/streams/{STREAM}?api-version=2023-01-01")
    assert requests.post(url, json=[_row()], timeout=5).status_code == 401
    arm_token = ManagedIdentityCredential(client_id=emu.identity.client_id).get_token(
        "https://management.azure.com/.default").token
    response = requests.post(url, json=[_row()], headers={"Authorization": f"Bearer {arm_token}"}, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"


def test_client_with_a_credential_for_nothing_fails_authentication(emu: Emulator) -> None:
    token, _ = emu.issuer.issue("https://monitor.azure.com", "x", lifetime_s=-10)

    class Expired:
        def get_token(self, *scopes, **kwargs):
            from azure.core.credentials import AccessToken

            return AccessToken(token, 4102444800)

    client = LogsIngestionClient(emu.settings()["LOGS_INGESTION_ENDPOINT"], Expired(), retry_total=0)
    with pytest.raises((ClientAuthenticationError, HttpResponseError)) as info:
        client.upload(emu.ingestion.rule_id, STREAM, [_row()])
    assert "ExpiredAuthenticationToken" in str(info.value)


def test_body_over_one_megabyte_is_413(emu: Emulator) -> None:
    token = ManagedIdentityCredential(client_id=emu.identity.client_id).get_token(
        "https://monitor.azure.com//.default").token
    url = (f"{emu.settings()['LOGS_INGESTION_ENDPOINT']}/dataCollectionRules/{emu.ingestion.rule_id}"
           f"/streams/{STREAM}?api-version=2023-01-01")
    big = json.dumps([_row(f"c{i}", ErrorMessage="y" * 60_000) for i in range(20)]).encode()
    assert len(big) > MAX_BODY_BYTES
    plain = requests.post(url, data=big, headers={"Authorization": f"Bearer {token}",
                                                 "Content-Type": "application/json"}, timeout=10)
    assert plain.status_code == 413
    zipped = requests.post(url, data=gzip.compress(big), timeout=10, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert zipped.status_code == 413  # the limit applies to the uncompressed body too


def test_field_over_64kb_is_truncated_as_azure_does(emu: Emulator) -> None:
    _client(emu).upload(emu.ingestion.rule_id, STREAM, [_row(ErrorMessage="z" * 70_000)])
    [row] = emu.ingestion.rows_of(STREAM)
    assert len(row["ErrorMessage"]) == 64 * 1024
    assert emu.ingestion.truncated_fields >= 1


@pytest.mark.parametrize(("status", "code"), [(429, "TooManyRequests"), (503, "ServiceUnavailable"),
                                              (500, "InternalServerError")])
def test_injected_failures_reach_the_client_with_retry_after(emu: Emulator, status: int, code: str) -> None:
    emu.faults.add(service="ingestion", kind="status", status=status, code=code, retry_after=7)
    with pytest.raises(HttpResponseError) as info:
        _client(emu).upload(emu.ingestion.rule_id, STREAM, [_row()])
    assert info.value.status_code == status
    assert info.value.response.headers["Retry-After"] == "7"
    assert emu.ingestion.rows_of(STREAM) == []


def test_stream_declarations_come_from_the_infra_table_files() -> None:
    streams = load_stream_declarations()
    assert streams[STREAM]["TimeGenerated"] == "datetime"
    assert streams[STREAM]["Hops"] == "dynamic"
