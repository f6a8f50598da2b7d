"""The custom role holds exactly the ARM actions the app's code calls, found from real traffic:
every function of function_app.py runs on the local host against the emulator's ARM (a sweep of
every sample target, the checks and their polls, ingestion, and every other timer), every ARM
request the emulator records is mapped to its RBAC action, and the role must equal that set
plus the few reads Azure needs that no request shows (DOCUMENTED_UNOBSERVABLE)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import function_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import LocalHost
from emulator.stack import Emulator
from shared import runtime
from shared.target_list import parse_target_list
from tests.infra.bicep import MODULES, Evaluator

ROOT = Path(__file__).resolve().parent.parent.parent
_SCOPE = r"^/subscriptions/[^/]+(?:/resourceGroups/[^/]+)?"
_RG = r"^/subscriptions/[^/]+/resourceGroups/[^/]+"

# (method, path pattern) → the RBAC action ARM checks for that request. A GET on a resource or a
# collection of a type needs <type>/read; a POST on a resource's operation, <type>/<operation>/action.
ACTIONS = [
    ("POST", rf"{_RG}/providers/Microsoft\.Network/networkWatchers/[^/]+/connectivityCheck$",
     "Microsoft.Network/networkWatchers/connectivityCheck/action"),
    ("POST", rf"{_RG}/providers/Microsoft\.Network/networkWatchers/[^/]+/ipFlowVerify$",
     "Microsoft.Network/networkWatchers/ipFlowVerify/action"),
    ("POST", rf"{_RG}/providers/Microsoft\.Network/networkWatchers/[^/]+/nextHop$",
     "Microsoft.Network/networkWatchers/nextHop/action"),
    ("GET", r"^/subscriptions/[^/]+/providers/Microsoft\.Network/locations/[^/]+/operationResults/[^/]+$",
     "Microsoft.Network/locations/operationResults/read"),
    ("GET", r"^/subscriptions/[^/]+/providers/Microsoft\.Network/locations/[^/]+/operations/[^/]+$",
     "Microsoft.Network/locations/operations/read"),
    ("GET", rf"{_SCOPE}/providers/Microsoft\.Network/networkWatchers(?:/[^/]+)?$",
     "Microsoft.Network/networkWatchers/read"),
    ("GET", rf"{_SCOPE}/providers/Microsoft\.Compute/virtualMachines(?:/[^/]+)?$",
     "Microsoft.Compute/virtualMachines/read"),
    ("GET", rf"{_SCOPE}/providers/Microsoft\.Compute/virtualMachines/[^/]+/extensions(?:/[^/]+)?$",
     "Microsoft.Compute/virtualMachines/extensions/read"),
    ("GET", rf"{_SCOPE}/providers/Microsoft\.Network/networkInterfaces(?:/[^/]+)?$",
     "Microsoft.Network/networkInterfaces/read"),
    ("GET", rf"{_SCOPE}/providers/Microsoft\.Network/virtualNetworks(?:/[^/]+)?$",
     "Microsoft.Network/virtualNetworks/read"),
    ("GET", rf"{_SCOPE}/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets(?:/[^/]+)?$",
     "Microsoft.Network/virtualNetworks/subnets/read"),
    ("GET", rf"{_SCOPE}/providers/Microsoft\.Network/networkSecurityGroups(?:/[^/]+)?$",
     "Microsoft.Network/networkSecurityGroups/read"),
    ("GET", rf"{_SCOPE}/providers/Microsoft\.Network/routeTables(?:/[^/]+)?$",
     "Microsoft.Network/routeTables/read"),
]

# Reads Azure checks that no request of the app shows, documented for the operations the app runs
# (learn.microsoft.com/azure/network-watcher/required-rbac-permissions): the watcher itself, the
# base of every Network Watcher capability, and the VM extension read Network Watcher uses to
# check that the source VM has its agent. Nothing else: no Authorization/*/read, no resource group
# enumeration (the portal's needs), no write.
DOCUMENTED_UNOBSERVABLE = {
    "Microsoft.Network/networkWatchers/read",
    "Microsoft.Compute/virtualMachines/extensions/read",
}

# The topology inventory (shared/topology.py, the `topology` timer) lists the NICs and the virtual
# networks of each monitored subscription. The run below observes both when that timer runs;
# they are accepted here even when a run does not (an inventory still fresh skips the calls).
TOPOLOGY_READS = {"Microsoft.Network/networkInterfaces/read", "Microsoft.Network/virtualNetworks/read"}


def action_of(method: str, target: str) -> str:
    path = target.split("?", 1)[0]
    for verb, pattern, action in ACTIONS:
        if method == verb and re.match(pattern, path, re.IGNORECASE):
            return action
    raise AssertionError(f"no RBAC action known for {method} {path}: add it to ACTIONS, and to the role if the app "
                         "needs it")


def role_actions() -> set[str]:
    return set(Evaluator(MODULES / "watcher-role.bicep").variable("actions"))


@pytest.fixture
def traffic(emu: Emulator, azurite: Azurite, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every ARM request of one run of the whole app: every timer once, then queues and ingest until
    each sample target has its row in Log Analytics."""
    sample = (ROOT / "targets.sample.yaml").read_text()
    targets = tmp_path / "targets.yaml"
    targets.write_text(re.sub(r"interval: \w+", "interval: 1m", sample))  # all due in the sweep's minute
    env = provision(azurite.connection_string, uuid.uuid4().hex[:8]) | {"TARGETS_PATH": str(targets)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    emu.arm.lro.operation_seconds = 0.2
    runtime.reset()
    host = LocalHost(function_app.app, retry_visibility_s=0)
    timers = sorted(name for name, (meta, _) in host.functions.items()
                    if any(b["type"] == "timerTrigger" for b in meta["bindings"]))
    assert "sweep" in timers and "ingest" in timers
    for name in ["sweep", *(t for t in timers if t != "sweep")]:
        host.tick(name)
    names = {t.name for t in parse_target_list(sample).targets}
    rows = lambda: {r["TargetName"] for r in emu.ingestion.rows_of("Custom-NetworkWatcherCheck")}  # noqa: E731
    assert host.run_until(lambda: names <= rows(), timeout_s=90, timers={"ingest": 0.5}), names - rows()
    failed = sorted({i.function for i in host.invocations if not i.ok})
    assert failed == [], f"functions failed during the run: {failed}"
    yield [(r.method, r.target) for r in emu.arm_server.requests]
    runtime.reset()


def role_problems(observed: set[str], role: set[str]) -> dict[str, list[str]]:
    return {k: v for k, v in {
        "the app calls ARM for these, the custom role does not grant them": sorted(observed - role),
        "the custom role grants what the app never calls": sorted(role - observed - DOCUMENTED_UNOBSERVABLE
                                                                  - TOPOLOGY_READS),
        "documented reads missing from the role": sorted((DOCUMENTED_UNOBSERVABLE | TOPOLOGY_READS) - role),
    }.items() if v}


def test_the_role_holds_exactly_the_actions_the_app_uses(traffic: list[tuple[str, str]]) -> None:
    observed = {action_of(method, target) for method, target in traffic}
    # The run exercised the three operations and their polling, or it proves nothing.
    assert {"Microsoft.Network/networkWatchers/connectivityCheck/action",
            "Microsoft.Network/networkWatchers/ipFlowVerify/action",
            "Microsoft.Network/networkWatchers/nextHop/action",
            "Microsoft.Network/locations/operationResults/read",
            "Microsoft.Compute/virtualMachines/read"} <= observed
    assert role_problems(observed, role_actions()) == {}


def test_a_role_that_drifts_from_the_traffic_is_caught() -> None:
    observed = {"Microsoft.Network/networkWatchers/nextHop/action", "Microsoft.Compute/virtualMachines/read"}
    role = role_actions() - {"Microsoft.Compute/virtualMachines/read"} | {"Microsoft.Network/routeTables/read"}
    assert role_problems(observed, role) == {
        "the app calls ARM for these, the custom role does not grant them": ["Microsoft.Compute/virtualMachines/read"],
        "the custom role grants what the app never calls": [
            "Microsoft.Network/locations/operationResults/read",
            "Microsoft.Network/networkWatchers/connectivityCheck/action",
            "Microsoft.Network/networkWatchers/ipFlowVerify/action",
            "Microsoft.Network/routeTables/read"]}


@pytest.mark.parametrize(("method", "target", "action"), [
    ("POST", "/subscriptions/s/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/"
             "NetworkWatcher_westeurope/nextHop?api-version=2024-05-01",
     "Microsoft.Network/networkWatchers/nextHop/action"),
    ("GET", "/subscriptions/s/providers/Microsoft.Network/locations/westeurope/operationResults/abc?api-version=1",
     "Microsoft.Network/locations/operationResults/read"),
    ("GET", "/subscriptions/s/providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01&$skiptoken=x",
     "Microsoft.Network/networkInterfaces/read"),
    ("GET", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm?api-version=1",
     "Microsoft.Compute/virtualMachines/read"),
])
def test_requests_map_to_their_actions(method: str, target: str, action: str) -> None:
    assert action_of(method, target) == action


@pytest.mark.parametrize(("method", "target"), [
    ("DELETE", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm"),
    ("GET", "/subscriptions/s/providers/Microsoft.Storage/storageAccounts"),
    ("PUT", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkWatchers/nw/packetCaptures/p"),
])
def test_an_unmapped_request_fails(method: str, target: str) -> None:
    with pytest.raises(AssertionError, match="no RBAC action known"):
        action_of(method, target)
