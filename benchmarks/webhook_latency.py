"""How fast the investigations webhook answers as the target list grows.

The issue asks for an answer within a second. The request path reads the target list (cached by
ETag or mtime), the topology inventory (cached by ETag), and the paths partition (every stored
connectivity target's latest hops: one row per target), matches, writes the record and enqueues
the bundle. This drives ``POST /api/investigations`` through the local host over HTTP, with N
targets, N paths rows and the seed's inventory, and prints per N:

- cold: the first call after a restart (the target list and the inventory parsed once);
- matched: a Fired metric alert on Database0 with a new alert id each time (a new investigation,
  capped at ``INVESTIGATION_MAX_TARGETS`` targets, its bundle enqueued);
- unmatched: a Fired alert on a resource no target involves (the matching cost alone).

    .venv/bin/python -m benchmarks.webhook_latency [--targets 7 1000 5000] [--posts 20] [--storage-rtt-ms 15]

Azurite answers in about a millisecond; Azure Storage takes several to tens of milliseconds a call.
``--storage-rtt-ms`` adds that much to every storage call of the process, so that what the request
path does in sequence shows in the figures.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

import function_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import LocalHost
from emulator.load import write_targets
from emulator.stack import Emulator
from shared import runtime
from shared.results import CheckResult, Finding, Hop

ROOT = Path(__file__).resolve().parent.parent
ALERT = ROOT / "tests" / "fixtures" / "alerts" / "metric-alert.json"
SUB = "00000000-0000-0000-0000-000000000000"
NIC = f"/subscriptions/{SUB}/resourceGroups/ContosoRG/providers/Microsoft.Network/networkInterfaces"
ELSEWHERE = f"/subscriptions/{SUB}/resourceGroups/OtherRG/providers/Microsoft.Compute/virtualMachines/Unrelated"


def _path_result(target: str) -> CheckResult:
    """A connectivity result whose hops cross the seed's app NIC, the appliance and the database."""
    crossed = (("Source", "10.1.1.4", "appNic0"), ("VirtualAppliance", "10.1.3.4", "auNic"),
               ("VnetLocal", "10.1.4.4", "dbNic0"))
    hops = tuple(Hop(kind, address, f"{NIC}/{nic}/ipConfigurations/ipconfig1") for kind, address, nic in crossed)
    return CheckResult(check_id=f"paths-{target}", target=target, kind="connectivity", trigger="schedule",
                       correlation_id=None, expected="Reachable", finding=Finding("Reachable", hops=hops),
                       scheduled=None, started="2026-11-28T10:00:00.000Z", completed="2026-11-28T10:00:03.000Z",
                       polls=1, network_watcher=None, source_resource_id=f"{NIC}/appNic0",
                       destination="10.1.4.4", port=80,
                       protocol=None, direction=None)


def _alert(target_id: str | None = None) -> dict[str, Any]:
    alert: dict[str, Any] = copy.deepcopy(json.loads(ALERT.read_text()))
    essentials = alert["data"]["essentials"]
    essentials["alertId"] = f"/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/{uuid.uuid4()}"
    if target_id is not None:
        essentials["alertTargetIDs"] = [target_id]
        essentials["configurationItems"] = [target_id.rsplit("/", 1)[1]]
    return alert


@contextmanager
def _app(azurite: Azurite, count: int, workdir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on the local host with ``count`` targets and their paths; (base url, function key)."""
    names = write_targets(workdir / f"targets-{count}.json", count)
    env = provision(azurite.connection_string, uuid.uuid4().hex[:8]) | {
        "TARGETS_PATH": str(workdir / f"targets-{count}.json"), "TOPOLOGY_SCHEDULE": "0 */30 * * * *"}
    os.environ.update(env)
    runtime.reset()
    host = LocalHost(function_app.app, retry_visibility_s=0)
    if host.tick("topology") != 0 or not host.invocations[-1].ok:
        raise RuntimeError("the topology inventory could not be built")
    targets = runtime.targets()()
    connectivity = [n for n in names if (t := targets.by_name(n)) is not None and t.kind == "connectivity"]
    runtime.investigations().store.keep_paths([_path_result(n) for n in connectivity], lambda _: True)
    runtime.reset()  # a cold worker: nothing parsed or cached yet
    url, server = host.serve_http()
    try:
        yield url, {"x-functions-key": host.function_keys["default"], "Content-Type": "application/json"}
    finally:
        server.shutdown()
        runtime.reset()


class StorageCalls:
    """Counts the HTTP requests the process sends to Azurite: the storage round trips of the
    request path, which in Azure cost tens of milliseconds each where Azurite answers in one."""

    def __init__(self, azurite: Azurite, delay_ms: float = 0.0) -> None:
        self.ports = {f":{port}/" for port in azurite.ports.values()}
        self.delay_s = delay_ms / 1000
        self.count = 0
        self._lock = threading.Lock()
        self._send = HTTPAdapter.send

    def __enter__(self) -> StorageCalls:
        calls = self

        def send(adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
            if any(port in (request.url or "") for port in calls.ports):
                with calls._lock:
                    calls.count += 1
                time.sleep(calls.delay_s)  # the round trip Azurite on this machine does not have
            return calls._send(adapter, request, *args, **kwargs)

        HTTPAdapter.send = send  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        HTTPAdapter.send = self._send  # type: ignore[method-assign]


def _post(session: requests.Session, url: str, headers: dict[str, str], alert: dict[str, Any], expected: int,
          calls: StorageCalls, trips: list[int]) -> float:
    before = calls.count
    started = time.perf_counter()
    answer = session.post(f"{url}/api/investigations", data=json.dumps(alert), headers=headers, timeout=30)
    seconds = time.perf_counter() - started
    if answer.status_code != expected:
        raise RuntimeError(f"expected {expected}, got {answer.status_code}: {answer.text[:300]}")
    trips.append(calls.count - before)
    return seconds * 1000


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):7.0f} {p95:6.0f} {ordered[-1]:6.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[7, 1000, 5000])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--storage-rtt-ms", type=float, default=0.0,
                        help="added to every storage call, as a same-region round trip to Azure Storage would")
    args = parser.parse_args()
    print(f"storage round trip added: {args.storage_rtt_ms:.0f} ms")
    print(f"{'targets':>8} {'cold ms':>8}   matched ms: median p95 max   storage calls   "
          "unmatched ms: median p95 max   storage calls")
    with Emulator("seed") as emu, Azurite() as azurite, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(emu.settings())
        for count in args.targets:
            with _app(azurite, count, Path(tmp)) as (url, headers), requests.Session() as session, \
                    StorageCalls(azurite, args.storage_rtt_ms) as calls:
                hits: list[int] = []
                misses: list[int] = []
                cold = _post(session, url, headers, _alert(), 202, calls, [])
                matched = [_post(session, url, headers, _alert(), 202, calls, hits) for _ in range(args.posts)]
                unmatched = [_post(session, url, headers, _alert(ELSEWHERE), 200, calls, misses)
                             for _ in range(args.posts)]
                if any(r.method == "POST" for r in emu.arm_server.requests):
                    raise RuntimeError("the webhook called ARM on the request path")
            print(f"{count:8d} {cold:8.0f}   {_spread(matched):>26}   {statistics.median(hits):13.0f}   "
                  f"{_spread(unmatched):>28}   {statistics.median(misses):13.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
