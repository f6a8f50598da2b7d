"""Every fault the emulator can inject, seen by a client."""

from __future__ import annotations

import time

import pytest
import requests

from emulator.faults import Fault
from emulator.seed_cases import SEED_CASES
from emulator.stack import Emulator
from tests.emulator.arm_client import arm_token, get, post

CASE = SEED_CASES[0]


@pytest.mark.parametrize(("status", "code"), [(500, "InternalServerError"), (503, "ServiceUnavailable"),
                                              (429, "RetryableErrorDueToAnotherOperation"),
                                              (403, "AuthorizationFailed"), (404, "NotFound")])
def test_status_faults_answer_arm_error_bodies(emu: Emulator, status: int, code: str) -> None:
    emu.faults.add(service="arm", kind="status", operation=CASE.operation, status=status, code=code)
    response = post(emu, CASE.operation, CASE.body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    if status in (429, 503):
        assert response.headers["Retry-After"] == "1"
    assert post(emu, CASE.operation, CASE.body).status_code == 202  # count=1: the next one is fine


def test_fault_on_the_poll_only(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="status", operation="poll", status=500)
    location = post(emu, CASE.operation, CASE.body).headers["Location"]
    assert get(emu, location).status_code == 500


def test_connection_reset(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="reset", operation=CASE.operation)
    with pytest.raises(requests.ConnectionError):
        post(emu, CASE.operation, CASE.body)


def test_slow_answer(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="slow", seconds=1.5, operation=CASE.operation)
    token = arm_token(emu)
    with pytest.raises(requests.Timeout):
        requests.post(f"{emu.arm_server.url}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                      f"NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westcentralus/"
                      f"{CASE.operation}?api-version=2026-01-01", json=CASE.body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=0.5)


def test_malformed_json(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="malformed_json", operation="poll")
    location = post(emu, CASE.operation, CASE.body).headers["Location"]
    response = get(emu, location)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_202_without_location(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="no_location", operation=CASE.operation)
    response = post(emu, CASE.operation, CASE.body)
    assert response.status_code == 202
    assert "Location" not in response.headers


def test_location_on_another_host(emu: Emulator) -> None:
    evil = "https://127.0.0.1:1/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Network/" \
           "locations/westcentralus/operationResults/x?api-version=2026-01-01"
    emu.faults.add(service="arm", kind="foreign_location", operation=CASE.operation, location=evil)
    assert post(emu, CASE.operation, CASE.body).headers["Location"] == evil


def test_operation_that_never_completes(emu: Emulator) -> None:
    emu.arm.lro.operation_seconds = 0
    emu.faults.add(service="arm", kind="never_complete", operation=CASE.operation)
    location = post(emu, CASE.operation, CASE.body).headers["Location"]
    time.sleep(0.1)
    assert [get(emu, location).status_code for _ in range(3)] == [202, 202, 202]


def test_sync_answer_gives_the_result_at_once(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="sync", operation=CASE.operation)
    response = post(emu, CASE.operation, CASE.body)
    assert response.status_code == 200
    assert response.json()["connectionStatus"] == "Unreachable"


def test_fault_lasts_for_its_count_or_until_cleared(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="status", status=503, count=2)
    assert [post(emu, CASE.operation, CASE.body).status_code for _ in range(3)] == [503, 503, 202]
    emu.faults.add(service="arm", kind="status", status=503, count=None)
    assert [post(emu, CASE.operation, CASE.body).status_code for _ in range(3)] == [503, 503, 503]
    emu.faults.clear()
    assert post(emu, CASE.operation, CASE.body).status_code == 202


@pytest.mark.parametrize("bad", [{"service": "dns", "kind": "reset"}, {"service": "arm", "kind": "explode"},
                                 {"service": "arm", "kind": "foreign_location"},
                                 {"service": "arm", "kind": "reset", "colour": "red"}])
def test_bad_fault_definitions_are_refused(bad: dict) -> None:
    with pytest.raises((ValueError, TypeError)):
        Fault.from_dict(bad)


def test_admin_api_switches_faults_on_for_another_process(emu: Emulator) -> None:
    admin = emu.settings()["NWCHECK_EMULATOR_ADMIN"]
    assert requests.post(f"{admin}/faults", json={"service": "arm", "kind": "status", "status": 503},
                         timeout=5).status_code == 201
    assert post(emu, CASE.operation, CASE.body).status_code == 503
    assert requests.post(f"{admin}/faults", json={"service": "arm", "kind": "nope"}, timeout=5).status_code == 400
    recorded = requests.get(f"{admin}/requests", params={"service": "arm"}, timeout=5).json()
    assert recorded and recorded[-1]["method"] == "POST"
