"""ARM's long-running-operation protocol, errors, 401s and throttling, over HTTPS with real tokens."""

from __future__ import annotations

import re
import time

import pytest

from emulator.seed_cases import MULTI_TIER_APP0, SEED_CASES, SUBSCRIPTION
from emulator.stack import Emulator
from tests.emulator.arm_client import API_VERSION, arm_token, get, post

DB_CASE = SEED_CASES[0]
LOCATION = re.compile(
    r"^https://127\.0\.0\.1:\d+/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft\.Network/"
    r"locations/westcentralus/operationResults/[0-9a-f-]{36}\?api-version=" + API_VERSION + "$")


def test_post_answers_202_null_with_location_and_retry_after(emu: Emulator) -> None:
    response = post(emu, DB_CASE.operation, DB_CASE.body)
    assert response.status_code == 202
    assert response.content == b"null"
    assert LOCATION.match(response.headers["Location"]), response.headers["Location"]
    assert response.headers["Retry-After"] == "1"
    assert int(response.headers["x-ms-ratelimit-remaining-subscription-writes"]) >= 0


def test_location_answers_202_while_running_then_200_with_the_result(emu: Emulator) -> None:
    emu.arm.lro.operation_seconds = 1.0
    location = post(emu, DB_CASE.operation, DB_CASE.body).headers["Location"]
    running = get(emu, location)
    assert running.status_code == 202
    assert running.headers["Retry-After"] == "1"
    assert running.headers["Location"] == location
    time.sleep(1.1)
    done = get(emu, location)
    assert done.status_code == 200
    assert done.json()["connectionStatus"] == "Unreachable"


def test_operation_duration_and_retry_after_are_settings(emu: Emulator) -> None:
    emu.arm.lro.operation_seconds, emu.arm.lro.retry_after_s = 60, 9
    response = post(emu, DB_CASE.operation, DB_CASE.body)
    assert response.headers["Retry-After"] == "9"
    assert get(emu, response.headers["Location"]).status_code == 202


def test_poll_of_an_unknown_operation_or_other_subscription_is_404(emu: Emulator) -> None:
    location = post(emu, DB_CASE.operation, DB_CASE.body).headers["Location"]
    assert get(emu, location.replace(SUBSCRIPTION, "11111111-1111-1111-1111-111111111111")).status_code == 404
    unknown = re.sub(r"operationResults/[0-9a-f-]+", "operationResults/not-an-operation", location)
    assert get(emu, unknown).json()["error"]["code"] == "NotFound"


@pytest.mark.parametrize(
    ("api_version", "code"),
    [(None, "MissingApiVersionParameter"), ("", "MissingApiVersionParameter"),
     ("latest", "InvalidApiVersionParameter"), ("1999-01-01", "InvalidApiVersionParameter")],
)
def test_api_version_is_required_and_checked(emu: Emulator, api_version: str | None, code: str) -> None:
    response = post(emu, DB_CASE.operation, DB_CASE.body, api_version=api_version)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_unknown_watcher_is_404_with_an_arm_error(emu: Emulator) -> None:
    response = post(emu, DB_CASE.operation, DB_CASE.body, watcher="NetworkWatcher_nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ResourceNotFound"
    assert "NetworkWatcher_nowhere" in response.json()["error"]["message"]


def test_malformed_body_is_400(emu: Emulator) -> None:
    response = post(emu, "connectivityCheck", {"source": {}, "destination": {"port": 80}})
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_vm_reads_as_in_the_seeds(emu: Emulator) -> None:
    base = f"{emu.arm_server.url}/subscriptions/{SUBSCRIPTION}/ResourceGroups/ContosoRG/providers/Microsoft.Compute"
    listed = get(emu, f"{base}/virtualMachines?api-version=2015-05-01-preview")
    assert listed.status_code == 200
    names = {vm["name"] for vm in listed.json()["value"]}
    assert {"MultiTierApp0", "Database0"} <= names
    one = get(emu, f"{base}/virtualMachines/MultiTierApp0?api-version=2015-05-01-preview").json()
    assert one["id"].lower() == MULTI_TIER_APP0.lower()
    assert one["type"] == "Microsoft.Compute/virtualMachines"
    assert one["location"] == "westcentralus"
    missing = get(emu, f"{base}/virtualMachines/Nope?api-version=2015-05-01-preview")
    assert missing.status_code == 404


# ---- 401s --------------------------------------------------------------------------------------

def test_missing_token_is_401(emu: Emulator) -> None:
    response = post(emu, DB_CASE.operation, DB_CASE.body, token=None)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"
    assert emu.arm.posts == 0


def test_expired_token_is_401(emu: Emulator) -> None:
    token, _ = emu.issuer.issue("https://management.azure.com", emu.identity.client_id, lifetime_s=-1)
    response = post(emu, DB_CASE.operation, DB_CASE.body, token=token)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "ExpiredAuthenticationToken")


def test_wrong_audience_token_is_401(emu: Emulator) -> None:
    token = arm_token(emu, "https://monitor.azure.com//.default")
    response = post(emu, DB_CASE.operation, DB_CASE.body, token=token)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "InvalidAuthenticationTokenAudience")


def test_forged_token_is_401(emu: Emulator) -> None:
    header, payload, _ = arm_token(emu).split(".")
    response = post(emu, DB_CASE.operation, DB_CASE.body, token=f"{header}.{payload}.AAAA")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")


def test_poll_needs_a_token_too(emu: Emulator) -> None:
    location = post(emu, DB_CASE.operation, DB_CASE.body).headers["Location"]
    assert get(emu, location, token=None).status_code == 401


# ---- throttling --------------------------------------------------------------------------------

def test_writes_are_throttled_per_subscription_with_retry_after(emu: Emulator) -> None:
    emu.arm.throttle.configure(write_burst=3, write_refill=0.5)
    token = arm_token(emu)
    answers = [post(emu, DB_CASE.operation, DB_CASE.body, token=token) for _ in range(5)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    assert [a.headers["x-ms-ratelimit-remaining-subscription-writes"] for a in answers] == ["2", "1", "0", "0", "0"]
    throttled = answers[3]
    assert throttled.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 2
    time.sleep(int(throttled.headers["Retry-After"]))
    assert post(emu, DB_CASE.operation, DB_CASE.body, token=token).status_code == 202


def test_reads_have_their_own_bucket(emu: Emulator) -> None:
    emu.arm.throttle.configure(write_burst=1, write_refill=0.01)
    location = post(emu, DB_CASE.operation, DB_CASE.body).headers["Location"]
    assert post(emu, DB_CASE.operation, DB_CASE.body).status_code == 429
    polled = get(emu, location)
    assert polled.status_code in (200, 202)
    assert "x-ms-ratelimit-remaining-subscription-reads" in polled.headers
