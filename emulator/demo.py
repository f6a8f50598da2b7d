"""``make demo``: the real functions of ``function_app.py`` on the local stack, end to end.

Starts Azurite and the emulator (``seed`` scenario), uploads the sample target list to blob
storage as a deployment would (with every interval set to one minute, so that one sweep checks
every target), runs one timer sweep through the local Functions host, pumps the queues until every
check has its result, and prints them with the figures of the run.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy

from emulator.azurite import Azurite
from emulator.functions_host import LocalHost
from emulator.stack import Emulator
from shared.results import CheckResult

ROOT = Path(__file__).resolve().parent.parent


def _row(result: CheckResult) -> tuple[str, ...]:
    f = result.finding
    latency = f"{f.latency_avg_ms}/{f.latency_min_ms}/{f.latency_max_ms}" if f.latency_avg_ms is not None else ""
    blame = " ".join(x for x in (f.blocking_hop, f.issue_type, f.rule_name or f.route_type) if x)
    if f.status in ("Error", "Timeout"):
        blame = f"{f.error_code}: {f.error_message}"
    healthy = {True: "yes", False: "NO", None: "?"}[result.healthy]
    return (result.target, result.kind, f.status, result.expected, healthy, latency, str(result.polls), blame)


def run_demo(emu: Emulator) -> int:
    import function_app  # after the settings are in the environment

    with Azurite() as azurite:
        os.environ.update({"NwcheckStorage": azurite.connection_string, "TIMER_SCHEDULE": "0 * * * * *",
                           "REQUESTS_QUEUE": "nwcheck-requests", "POLLS_QUEUE": "nwcheck-polls",
                           "RESULTS_QUEUE": "nwcheck-results", "TARGETS_CONTAINER": "nwcheck",
                           "TARGETS_BLOB": "targets.yaml"})
        for name in ("nwcheck-requests", "nwcheck-polls", "nwcheck-results"):
            QueueClient.from_connection_string(azurite.connection_string, name).create_queue()
        BlobServiceClient.from_connection_string(azurite.connection_string).create_container("nwcheck-checks")
        sample = re.sub(r"interval: \w+", "interval: 1m", (ROOT / "targets.sample.yaml").read_text())
        BlobServiceClient.from_connection_string(azurite.connection_string).create_container(
            "nwcheck").upload_blob("targets.yaml", sample)
        host = LocalHost(function_app.app)
        started = time.monotonic()
        requested = host.tick("sweep")
        results_queue = QueueClient.from_connection_string(azurite.connection_string, "nwcheck-results",
                                                           message_decode_policy=TextBase64DecodePolicy())
        results: list[CheckResult] = []

        def all_done() -> bool:
            for message in results_queue.receive_messages(max_messages=32):
                results.append(CheckResult.from_message(json.loads(message.content)))
                results_queue.delete_message(message)
            return len(results) >= requested

        finished = host.run_until(all_done, timeout_s=120)
        took = time.monotonic() - started

    header = ("target", "kind", "status", "expected", "healthy", "latency ms", "polls", "blocking hop / rule / route")
    rows = [header, *(_row(r) for r in sorted(results, key=lambda r: r.target))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    busy = sum(i.seconds for i in host.invocations)
    print(f"\n{requested} checks requested by one sweep, {len(results)} results in {took:.1f} s "
          f"(operations run {emu.arm.lro.operation_seconds:g} s, Retry-After {emu.arm.lro.retry_after_s} s).")
    print(f"{len(host.invocations)} function invocations, {busy:.2f} function-seconds in all, "
          f"longest {max(i.seconds for i in host.invocations) * 1000:.0f} ms: polling waits on the queue, "
          "not in a function.")
    print(f"ARM saw {emu.arm.posts} POSTs and {sum(op.polls for op in emu.arm.operations.values())} Location polls.")
    return 0 if finished and len(results) == requested else 1
