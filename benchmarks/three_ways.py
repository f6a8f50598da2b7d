"""nwcheck against the naive ways, side by side on the same emulator settings:

1. nwcheck: the real functions in one instance-like worker process (``emulator.worker``: host.json's
   batch settings, the Python worker's default thread pool), a sweep onto the queue, durable polling,
   batched ingestion;
2. blocking: one function per check that starts the operation with azure-mgmt-network and blocks on
   its poller's ``.result()``, then uploads its row (one call), run on the same worker's thread pool;
3. sequential: the seeds' way, one target after the other: POST, sleep Retry-After, GET until done,
   upload the row.

    .venv/bin/python -m benchmarks.three_ways [--runs 3] [--targets 1000]

Prints a Markdown table: function-seconds per completed check (ingestion included) at operation
durations of 2 s and 10 s, the sweep makespan for ``--targets`` targets, the worker's CPU per
check and peak memory, upload calls per 1,000 results, and cold start (``benchmarks.pipeline_cost``).
Each figure is the median of ``--runs`` runs, with min and max. The blocking and sequential ways
are measured on a sample and their makespan extrapolated linearly (said so in the table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from benchmarks.pipeline_cost import _median, import_seconds

ROOT = Path(__file__).resolve().parent.parent
THREADS = min(32, (os.cpu_count() or 1) + 4)  # the Python worker's default PYTHON_THREADPOOL_THREAD_COUNT


def nwcheck_run(emu: Any, azurite: Any, workdir: Path, targets: int) -> dict[str, float]:
    from emulator.app_resources import provision
    from emulator.load import Worker, all_ingested, rows_of, wait_for, write_targets

    emu.ingestion.clear()
    emu.arm.reset_counters()
    path = workdir / f"targets-{uuid.uuid4().hex[:6]}.json"
    write_targets(path, targets)
    settings = provision(azurite.connection_string, uuid.uuid4().hex[:8]) | emu.settings() | {
        "TARGETS_PATH": str(path)}
    started = time.monotonic()
    worker = Worker(workdir / uuid.uuid4().hex[:6], settings, sweep=True, threads=THREADS)
    try:
        accepted = set(worker.swept().check_ids)
        if not wait_for(all_ingested(emu, accepted, every_s=0), 1800, worker, every_s=0.2):
            raise RuntimeError("nwcheck did not finish")
        makespan = time.monotonic() - started
        stats = worker.stop()
    finally:
        if worker.process.poll() is None:
            worker.kill()
    rows = [r for r in emu.ingestion.rows if r["stream"] == "Custom-NetworkWatcherCheck"]
    calls = len({id(r["request"]) for r in rows})
    return {"makespan": makespan, "fs_per_check": sum(stats["function_seconds"].values()) / targets,
            "cpu_ms_per_check": stats["cpu_s"] * 1000 / targets, "rss_mb": stats["max_rss_mb"],
            "calls_per_1000": calls * 1000 / len(rows_of(emu)), "posts": emu.arm.posts}


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(target name, operation, ARM request body) for the sample's seven targets."""
    from emulator.seed_cases import SEED_CASES

    return [(c.name, c.operation, c.body) for c in SEED_CASES]


@functools.cache
def _targets() -> Any:
    from shared.target_source import TargetSource

    return TargetSource()


def _row(name: str, kind: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The row nwcheck would write for this answer (the naive ways upload the same table)."""
    from shared.checks import CHECKS
    from shared.results import CheckResult, format_utc
    from shared.rows import check_row
    target = _targets()().by_name(name)
    assert target is not None
    now = format_utc(dt.datetime.now(dt.UTC))
    finding = CHECKS[target.kind].finding(target, answer)
    return check_row(CheckResult(
        check_id=f"naive-{uuid.uuid4().hex}", target=name, kind=target.kind, trigger="schedule", correlation_id=None,
        expected=target.expect, finding=finding, scheduled=None, started=now, completed=now, polls=0,
        network_watcher=None, source_resource_id=target.source_vm, destination=None, port=None, protocol=None,
        direction=None))


def _ingestion(emu: Any) -> Any:
    from azure.identity import ManagedIdentityCredential
    from azure.monitor.ingestion import LogsIngestionClient

    return LogsIngestionClient(emu.ingestion_server.url, ManagedIdentityCredential(client_id=emu.identity.client_id),
                               retry_total=0)


def blocking_run(emu: Any, checks: int) -> dict[str, float]:
    """``checks`` invocations of the blocking function on THREADS threads."""
    from azure.identity import ManagedIdentityCredential
    from azure.mgmt.network import NetworkManagementClient

    from emulator.seed_cases import SUBSCRIPTION, WATCHER, WATCHER_RG

    client = NetworkManagementClient(ManagedIdentityCredential(client_id=emu.identity.client_id), SUBSCRIPTION,
                                     base_url=emu.arm_server.url,
                                     credential_scopes=["https://management.azure.com/.default"])
    ingestion = _ingestion(emu)
    cases = _cases()
    watchers = client.network_watchers
    begin = {"connectivityCheck": watchers.begin_check_connectivity, "ipFlowVerify": watchers.begin_verify_ip_flow,
             "nextHop": watchers.begin_get_next_hop}

    def invocation(i: int) -> float:
        name, operation, body = cases[i % len(cases)]
        started = time.perf_counter()
        answer = begin[operation](WATCHER_RG, WATCHER, body).result()
        ingestion.upload(emu.ingestion.rule_id, "Custom-NetworkWatcherCheck",
                         [_row(name, operation, answer.as_dict())])
        return time.perf_counter() - started

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        seconds = list(pool.map(invocation, range(checks)))
    return {"fs_per_check": sum(seconds) / checks, "makespan_per_check": (time.monotonic() - started) / checks}


def sequential_run(emu: Any, checks: int) -> dict[str, float]:
    """The seeds' way: for each target in turn, POST, sleep Retry-After, GET the Location until 200."""
    from azure.identity import ManagedIdentityCredential

    from emulator.seed_cases import SUBSCRIPTION, WATCHER, WATCHER_RG

    credential = ManagedIdentityCredential(client_id=emu.identity.client_id)
    ingestion = _ingestion(emu)
    session = requests.Session()
    cases = _cases()
    base = (f"{emu.arm_server.url}/subscriptions/{SUBSCRIPTION}/resourceGroups/{WATCHER_RG}/providers/"
            f"Microsoft.Network/networkWatchers/{WATCHER}")
    started = time.monotonic()
    for i in range(checks):
        name, operation, body = cases[i % len(cases)]
        headers = {"Authorization": f"Bearer {credential.get_token('https://management.azure.com/.default').token}"}
        answer = session.post(f"{base}/{operation}?api-version=2024-05-01", json=body, headers=headers, timeout=30)
        while answer.status_code == 202:
            time.sleep(int(answer.headers.get("Retry-After", "10")))
            answer = session.get(answer.headers["Location"], headers=headers, timeout=30)
        answer.raise_for_status()
        ingestion.upload(emu.ingestion.rule_id, "Custom-NetworkWatcherCheck", [_row(name, operation, answer.json())])
    seconds = (time.monotonic() - started) / checks
    return {"fs_per_check": seconds, "makespan_per_check": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--targets", type=int, default=1000, help="the sweep of the makespan figure")
    parser.add_argument("--cost-targets", type=int, default=200, help="nwcheck's sweep at 10 s operations")
    parser.add_argument("--blocking-checks", type=int, default=4 * THREADS)
    parser.add_argument("--sequential-checks", type=int, default=7)
    parser.add_argument("--retry-after", type=int, default=1)
    args = parser.parse_args()
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    logging.getLogger("azure").setLevel(logging.ERROR)

    from emulator.azurite import Azurite
    from emulator.load import write_targets
    from emulator.stack import Emulator

    figures: dict[str, list[float]] = {}

    def keep(key: str, value: float) -> None:
        figures.setdefault(key, []).append(value)

    with Emulator("seed", retry_after_s=args.retry_after) as emu, Azurite() as azurite, \
            tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        emu.arm.throttle.configure(write_burst=200, write_refill=50)
        os.environ.update(emu.settings())
        naive_targets = workdir / "naive.json"
        write_targets(naive_targets, 7)
        names = json.loads(naive_targets.read_text())["targets"]
        for target in names:
            target["name"] = target["name"].rsplit("-", 1)[0]
        naive_targets.write_text(json.dumps(json.loads(naive_targets.read_text()) | {"targets": names}))
        os.environ["TARGETS_PATH"] = str(naive_targets)
        for operation_s in (2.0, 10.0):
            emu.arm.lro.operation_seconds = operation_s
            for run in range(args.runs):
                size = args.targets if operation_s == 2.0 else args.cost_targets
                ours = nwcheck_run(emu, azurite, workdir, size)
                keep(f"nwcheck fs {operation_s:g}", ours["fs_per_check"])
                if operation_s == 2.0:
                    for key in ("makespan", "cpu_ms_per_check", "rss_mb", "calls_per_1000"):
                        keep(f"nwcheck {key}", ours[key])
                blocking = blocking_run(emu, args.blocking_checks)
                keep(f"blocking fs {operation_s:g}", blocking["fs_per_check"])
                keep(f"blocking makespan {operation_s:g}", blocking["makespan_per_check"] * args.targets)
                sequential = sequential_run(emu, args.sequential_checks)
                keep(f"sequential fs {operation_s:g}", sequential["fs_per_check"])
                keep(f"sequential makespan {operation_s:g}", sequential["makespan_per_check"] * args.targets)
                print(f"operation {operation_s:g} s, run {run + 1}: nwcheck {ours}, blocking {blocking}, "
                      f"sequential {sequential}", file=sys.stderr)
    deps = "import azure.functions, azure.identity, azure.storage.queue, azure.storage.blob, requests, yaml"
    app = import_seconds("import function_app", args.runs * 2)
    only_deps = import_seconds(deps, args.runs * 2)
    mgmt = import_seconds(deps + "; import azure.mgmt.network; azure.mgmt.network.NetworkManagementClient",
                          args.runs * 2)

    def m(key: str, digits: int = 3) -> str:
        values = figures[key]
        return (f"{statistics.median(values):.{digits}f} (min {min(values):.{digits}f}, "
                f"max {max(values):.{digits}f})")

    print(f"Emulator: ARM write throttling burst 200, refill 50/s; Retry-After {args.retry_after} s; "
          f"{args.runs} runs, median (min, max). Worker: one process, {THREADS} threads, host.json batches. "
          f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}.\n")
    print("| measure | nwcheck | blocking on `.result()` | sequential (the seeds' way) |")
    print("|---|---|---|---|")
    for operation_s in ("2", "10"):
        print(f"| function-seconds per completed check, operation {operation_s} s (ingestion included) | "
              f"{m(f'nwcheck fs {operation_s}')} | {m(f'blocking fs {operation_s}')} | "
              f"{m(f'sequential fs {operation_s}')} |")
    print(f"| sweep makespan for {args.targets} targets, operation 2 s, s | {m('nwcheck makespan', 1)} measured | "
          f"{m('blocking makespan 2', 0)} extrapolated from {args.blocking_checks} checks on {THREADS} threads | "
          f"{m('sequential makespan 2', 0)} extrapolated from {args.sequential_checks} checks |")
    print(f"| worker CPU per check (app, SDKs and the local host), ms | {m('nwcheck cpu_ms_per_check', 1)} | | |")
    print(f"| worker peak RSS, MB | {m('nwcheck rss_mb', 0)} | | |")
    print(f"| upload calls per 1,000 results | {m('nwcheck calls_per_1000', 1)} | 1000 | 1000 |")
    print(f"| cold start: `import function_app` (process start included), s | {_median(app)} | | |")
    print(f"| cold start: its dependencies only, s | {_median(only_deps)} | | |")
    print(f"| cold start: the dependencies plus azure-mgmt-network's client, s | | {_median(mgmt)} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
