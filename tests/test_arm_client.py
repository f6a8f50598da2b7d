"""shared.arm against the emulator over TLS, with the real ManagedIdentityCredential."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential

from emulator.httpserver import Reply, Request, RunningServer
from emulator.seed_cases import SEED_CASES, SUBSCRIPTION, WATCHER, WATCHER_RG
from emulator.stack import Emulator
from shared.arm import ArmClient, Done, Pending, PermanentArmError, TransientArmError
from shared.targets import WatcherRef

WATCHER_REF = WatcherRef(SUBSCRIPTION, WATCHER_RG, WATCHER)
CASE = SEED_CASES[0]
VMS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ContosoRG/providers/Microsoft.Compute/virtualMachines"


class Recorder:
    """A second local server: whatever it receives is a leak."""

    name = "recorder"

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers = status, headers or {}

    def handle(self, request: Request) -> Reply:
        return Reply(self.status, b"{}", dict(self.headers))


@pytest.fixture
def client(emu: Emulator) -> ArmClient:
    return ArmClient(emu.arm_server.url, ManagedIdentityCredential(client_id=emu.identity.client_id),
                     api_version="2024-05-01", timeout=(2, 2))


@pytest.fixture
def recorder(emu: Emulator):
    server = RunningServer(Recorder(), emu.tls.server_context())
    yield server
    server.stop()


def _until_done(client: ArmClient, answer: Done | Pending) -> tuple[Done, int]:
    polls = 0
    while isinstance(answer, Pending):
        time.sleep(0.1)
        answer = client.poll(answer.location, SUBSCRIPTION)
        polls += 1
    return answer, polls


def test_start_then_poll_to_the_result(emu: Emulator, client: ArmClient) -> None:
    emu.arm.lro.operation_seconds = 0.5
    started = client.start(WATCHER_REF, CASE.operation, CASE.body)
    assert isinstance(started, Pending)
    assert started.retry_after_s == 1
    done, polls = _until_done(client, started)
    assert done.result["connectionStatus"] == "Unreachable"
    assert polls >= 2


def test_sync_200_is_done_at_once(emu: Emulator, client: ArmClient) -> None:
    emu.faults.add(service="arm", kind="sync")
    assert isinstance(client.start(WATCHER_REF, CASE.operation, CASE.body), Done)


@pytest.mark.parametrize(("fault", "code"), [
    ({"kind": "status", "status": 429, "code": "SubscriptionRequestsThrottled", "retry_after": 7},
     "SubscriptionRequestsThrottled"),
    ({"kind": "status", "status": 500}, "InternalServerError"),
    ({"kind": "status", "status": 503, "code": "ServiceUnavailable"}, "ServiceUnavailable"),
    ({"kind": "reset"}, "ConnectionError"),
    ({"kind": "slow", "seconds": 3}, "Timeout"),
])
def test_transient_failures(emu: Emulator, client: ArmClient, fault: dict[str, Any], code: str) -> None:
    emu.faults.add(service="arm", operation=CASE.operation, **fault)
    with pytest.raises(TransientArmError) as info:
        client.start(WATCHER_REF, CASE.operation, CASE.body)
    assert info.value.code == code
    if fault.get("retry_after"):
        assert info.value.retry_after_s == 7


@pytest.mark.parametrize(("fault", "code"), [
    ({"kind": "status", "status": 403, "code": "AuthorizationFailed"}, "AuthorizationFailed"),
    ({"kind": "status", "status": 404, "code": "NotFound"}, "NotFound"),
    ({"kind": "no_location"}, "MissingLocation"),
])
def test_permanent_failures(emu: Emulator, client: ArmClient, fault: dict[str, Any], code: str) -> None:
    emu.faults.add(service="arm", operation=CASE.operation, **fault)
    with pytest.raises(PermanentArmError) as info:
        client.start(WATCHER_REF, CASE.operation, CASE.body)
    assert info.value.code == code


def test_malformed_result_is_permanent(emu: Emulator, client: ArmClient) -> None:
    emu.faults.add(service="arm", kind="malformed_json", operation="poll")
    emu.arm.lro.operation_seconds = 0
    started = client.start(WATCHER_REF, CASE.operation, CASE.body)
    assert isinstance(started, Pending)
    with pytest.raises(PermanentArmError, match="InvalidArmResponse"):
        client.poll(started.location, SUBSCRIPTION)


@pytest.mark.parametrize(("vm", "code"), [("MultiTierApp1", "NetworkWatcherAgentNotInstalled"),
                                          ("MultiTierApp2", "VmNotRunning")])
def test_arm_refusals_for_the_source_vm(client: ArmClient, vm: str, code: str) -> None:
    body = {**CASE.body, "source": {"resourceId": f"{VMS}/{vm}"}}
    with pytest.raises(PermanentArmError) as info:
        client.start(WATCHER_REF, CASE.operation, body)
    assert (info.value.status, info.value.code) == (400, code)


def test_location_on_another_host_gets_no_request_and_no_token(emu: Emulator, client: ArmClient,
                                                               recorder: RunningServer) -> None:
    evil = (f"{recorder.url}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Network/locations/westcentralus/"
            "operationResults/x?api-version=2024-05-01")
    emu.faults.add(service="arm", kind="foreign_location", operation=CASE.operation, location=evil)
    with pytest.raises(PermanentArmError, match="UnsafeLocation"):
        client.start(WATCHER_REF, CASE.operation, CASE.body)
    with pytest.raises(PermanentArmError, match="UnsafeLocation"):
        client.poll(evil, SUBSCRIPTION)  # a forged poll message: refused before any request
    assert recorder.requests == []


def test_redirects_are_not_followed(emu: Emulator, recorder: RunningServer) -> None:
    target = f"{recorder.url}/steal"
    redirector = RunningServer(Recorder(302, {"Location": target}), emu.tls.server_context())
    try:
        client = ArmClient(redirector.url, ManagedIdentityCredential(client_id=emu.identity.client_id),
                           api_version="2024-05-01")
        with pytest.raises(PermanentArmError, match="UnexpectedRedirect"):
            client.start(WATCHER_REF, CASE.operation, CASE.body)
    finally:
        redirector.stop()
    assert recorder.requests == []


def test_token_failure_is_transient(emu: Emulator, client: ArmClient) -> None:
    emu.faults.add(service="identity", kind="status", status=503, count=None)
    fresh = ArmClient(emu.arm_server.url, ManagedIdentityCredential(client_id=emu.identity.client_id),
                      api_version="2024-05-01")
    with pytest.raises(TransientArmError, match="TokenUnavailable"):
        fresh.start(WATCHER_REF, CASE.operation, CASE.body)
    assert emu.arm.posts == 0


def test_get_a_vm(client: ArmClient) -> None:
    vm = client.get(f"{VMS}/MultiTierApp0", "2024-07-01")
    assert vm["location"] == "westcentralus"
    with pytest.raises(PermanentArmError) as info:
        client.get(f"{VMS}/Nope", "2024-07-01")
    assert info.value.status == 404
