"""Function-seconds per check: nwcheck's durable polling against one function blocking on
azure-mgmt-network's poller, on the same emulator; and the import time of ``function_app``.

    .venv/bin/python -m benchmarks.pipeline_cost [--operation-seconds 10] [--checks 14] [--runs 3]

Function-seconds per check is the sum of the wall time of every invocation spent on it: what
a Consumption or Flex plan bills, and what holds a worker. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _median(values: list[float]) -> str:
    spread = f" (min {min(values):.3f}, max {max(values):.3f})" if len(values) > 1 else ""
    return f"{statistics.median(values):.3f}{spread}"


def nwcheck_run(emu, azurite, checks: int) -> float:  # type: ignore[no-untyped-def]
    from azure.storage.queue import QueueClient

    import function_app
    from emulator.app_resources import provision
    from emulator.functions_host import LocalHost
    from shared import runtime

    suffix = uuid.uuid4().hex[:8]
    settings = provision(azurite.connection_string, f"bench{suffix}")
    os.environ.update(settings)
    names = {k: settings[f"{k.upper()}_QUEUE"] for k in ("requests", "polls", "results")}
    runtime.pipeline.cache_clear()
    host = LocalHost(function_app.app)
    requests = QueueClient.from_connection_string(azurite.connection_string, names["requests"])
    results = QueueClient.from_connection_string(azurite.connection_string, names["results"])
    import base64
    import json
    sample = ["app-to-db-port80", "app-to-13.107.21.200", "app-to-bing", "app-to-blob", "app-out-443",
              "internet-in-3389", "app-nexthop-db"]
    for i in range(checks):
        body = json.dumps({"version": 1, "target": sample[i % len(sample)], "checkId": f"b-{suffix}-{i}"})
        requests.send_message(base64.b64encode(body.encode()).decode())
    done: list[object] = []

    def finished() -> bool:
        for message in results.receive_messages(max_messages=32):
            done.append(message)
            results.delete_message(message)
        return len(done) >= checks

    if not host.run_until(finished, timeout_s=300):
        raise RuntimeError("nwcheck did not finish")
    return sum(i.seconds for i in host.invocations) / checks


def blocking_run(emu, checks: int) -> float:  # type: ignore[no-untyped-def]
    from azure.identity import ManagedIdentityCredential
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network.models import ConnectivityDestination, ConnectivityParameters, ConnectivitySource

    from emulator.seed_cases import DATABASE0, MULTI_TIER_APP0, SUBSCRIPTION, WATCHER, WATCHER_RG

    client = NetworkManagementClient(ManagedIdentityCredential(client_id=emu.identity.client_id), SUBSCRIPTION,
                                     base_url=emu.arm_server.url,
                                     credential_scopes=["https://management.azure.com/.default"])

    def one_invocation(_: int) -> float:  # the naive function: start, then block on .result()
        started = time.perf_counter()
        client.network_watchers.begin_check_connectivity(
            WATCHER_RG, WATCHER, ConnectivityParameters(source=ConnectivitySource(resource_id=MULTI_TIER_APP0),
                                                        destination=ConnectivityDestination(resource_id=DATABASE0,
                                                                                            port=80))).result()
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=checks) as pool:
        return statistics.fmean(pool.map(one_invocation, range(checks)))


def import_seconds(statement: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True,  # noqa: S603 - our own statements
                       capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operation-seconds", type=float, default=10.0)
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--checks", type=int, default=14)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # the blocking way opens more connections than it pools

    from emulator.azurite import Azurite
    from emulator.stack import Emulator

    with Emulator("seed", operation_seconds=args.operation_seconds, retry_after_s=args.retry_after) as emu, \
            Azurite() as azurite, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(emu.settings())
        targets = Path(tmp) / "targets.yaml"
        targets.write_text(re.sub(r"interval: \w+", "interval: 1m", (ROOT / "targets.sample.yaml").read_text()))
        os.environ.update({"NwcheckStorage": azurite.connection_string, "TARGETS_PATH": str(targets)})
        ours = [nwcheck_run(emu, azurite, args.checks) for _ in range(args.runs)]
        naive = [blocking_run(emu, args.checks) for _ in range(args.runs)]
    deps = "import azure.functions, azure.identity, azure.storage.queue, azure.storage.blob, requests, yaml"
    app = import_seconds("import function_app", args.runs * 2)
    only_deps = import_seconds(deps, args.runs * 2)
    mgmt = import_seconds(deps + "; import azure.mgmt.network; azure.mgmt.network.NetworkManagementClient",
                          args.runs * 2)

    print(f"Operation {args.operation_seconds:g} s, Retry-After {args.retry_after} s, {args.checks} checks per run, "
          f"{args.runs} runs; median (min, max). Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}.\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| function-seconds per check, nwcheck (queue steps) | {_median(ours)} |")
    print(f"| function-seconds per check, one function blocking on azure-mgmt-network `.result()` | {_median(naive)} |")
    print(f"| `import function_app` (process start included), s | {_median(app)} |")
    print(f"| importing only its dependencies, s | {_median(only_deps)} |")
    print(f"| the same dependencies plus azure-mgmt-network's client, s | {_median(mgmt)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
