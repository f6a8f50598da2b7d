"""``make demo``: the real functions of ``function_app.py`` on the local stack, end to end.

Starts Azurite and the emulator (``seed`` scenario), uploads the sample target list to blob
storage as a deployment would (with every interval set to one minute, so that one sweep checks
every target, and a failure threshold of 1, so that one sweep can fire), runs one timer sweep
through the local Functions host, pumps the queues and the ingest timer until every result is in
Log Analytics, and prints the results, the alerts they raised, and the figures of the run.

Then it plays an Azure Monitor alert on the VM ``Database0`` (Microsoft's sample metric alert,
common alert schema) to the investigations webhook over HTTP with a function key, runs the bundle
of checks it enqueues, and prints the investigation's summary as ``GET /api/investigations/{id}``
returns it.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy

from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.functions_host import LocalHost
from emulator.stack import Emulator

ROOT = Path(__file__).resolve().parent.parent


def _row(row: dict[str, Any]) -> tuple[str, ...]:
    """One line of the table, from the row Log Analytics received."""
    latency = (f"{row['LatencyAvgMs']}/{row['LatencyMinMs']}/{row['LatencyMaxMs']}"
               if row["LatencyAvgMs"] is not None else "")
    blame = " ".join(x for x in (row["BlockingHop"], row["IssueType"], row["RuleName"] or row["RouteType"]) if x)
    if row["Status"] in ("Error", "Timeout"):
        blame = f"{row['ErrorCode']}: {row['ErrorMessage']}"
    healthy = {True: "yes", False: "NO", None: "?"}[row["Healthy"]]
    return (row["TargetName"], row["Kind"], row["Status"], row["Expected"], healthy, latency, str(row["Polls"]), blame)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def run_demo(emu: Emulator) -> int:
    import function_app  # after the settings are in the environment

    with Azurite() as azurite:
        os.environ.update(provision(azurite.connection_string) | {
            "TIMER_SCHEDULE": "0 * * * * *", "TOPOLOGY_SCHEDULE": "0 */30 * * * *",
            "TARGETS_CONTAINER": "nwcheck", "TARGETS_BLOB": "targets.yaml"})
        sample = re.sub(r"interval: \w+", "interval: 1m", (ROOT / "targets.sample.yaml").read_text())
        sample = sample.replace("failureThreshold: 2", "failureThreshold: 1")
        BlobServiceClient.from_connection_string(azurite.connection_string).create_container(
            "nwcheck").upload_blob("targets.yaml", sample)
        host = LocalHost(function_app.app)
        started = time.monotonic()
        requested = host.tick("sweep")
        stream = "Custom-NetworkWatcherCheck"
        finished = host.run_until(lambda: len(emu.ingestion.rows_of(stream)) >= requested, timeout_s=120,
                                  timers={"ingest": 1.0})
        host.tick("ingest")  # deliver the alerts the last results raised
        took = time.monotonic() - started
        alerts_queue = QueueClient.from_connection_string(azurite.connection_string, "nwcheck-alerts",
                                                          message_decode_policy=TextBase64DecodePolicy())
        alerts = [json.loads(m.content) for m in alerts_queue.receive_messages(max_messages=32)]
        rows = emu.ingestion.rows_of(stream)
        _table(("target", "kind", "status", "expected", "healthy", "latency ms", "polls",
                "blocking hop / rule / route"), [_row(r) for r in sorted(rows, key=lambda r: r["TargetName"])])
        print(f"\nAlerts raised (failure threshold 1 for the demo; 2 by default), on the alerts queue and in "
              f"NetworkWatcherAlert_CL ({len(emu.ingestion.rows_of('Custom-NetworkWatcherAlert'))} rows):")
        for alert in sorted(alerts, key=lambda a: a["target"]):
            print(f"  {alert['summary']}")
        busy = sum(i.seconds for i in host.invocations)
        print(f"\n{requested} checks requested by one sweep; {len(rows)} rows in NetworkWatcherCheck_CL after "
              f"{took:.1f} s (operations run {emu.arm.lro.operation_seconds:g} s, Retry-After "
              f"{emu.arm.lro.retry_after_s} s), in {emu.ingestion.calls} upload calls.")
        print(f"{len(host.invocations)} function invocations, {busy:.2f} function-seconds in all, "
              f"longest {max(i.seconds for i in host.invocations) * 1000:.0f} ms: polling waits on the queue, "
              "not in a function.")
        print(f"ARM saw {emu.arm.posts} POSTs and {sum(op.polls for op in emu.arm.operations.values())} "
              "Location polls.")
        investigated = _investigation(emu, host)
    return 0 if finished and len(rows) == requested and investigated else 1


ALERT = ROOT / "tests" / "fixtures" / "alerts" / "metric-alert.json"


def _investigation(emu: Emulator, host: LocalHost) -> bool:
    """An Azure Monitor alert on Database0, through the webhook, to its summary."""
    import requests

    host.tick("topology")
    url, server = host.serve_http()
    headers = {"x-functions-key": host.function_keys["default"], "Content-Type": "application/json"}
    try:
        print(f"\nAn Azure Monitor alert on Database0 (Microsoft's sample metric alert) → "
              f"POST {url}/api/investigations")
        started = time.perf_counter()
        answer = requests.post(f"{url}/api/investigations", data=ALERT.read_bytes(), headers=headers, timeout=10)
        took = (time.perf_counter() - started) * 1000
        accepted = answer.json()
        print(f"  {answer.status_code} in {took:.0f} ms: investigation {accepted.get('investigationId')}, "
              f"{len(accepted.get('checkIds', []))} checks of {', '.join(accepted.get('targets', []))}")
        status_url = f"{url}/api/investigations/{accepted.get('investigationId')}"
        started = time.monotonic()
        done = host.run_until(lambda: requests.get(status_url, headers=headers, timeout=10).json().get("status")
                              == "completed", timeout_s=60, timers={"ingest": 1.0})
        body = requests.get(status_url, headers=headers, timeout=10).json()
    finally:
        server.shutdown()
    summary = body.get("summary") or {}
    print(f"  GET {status_url.removeprefix(url)} after {time.monotonic() - started:.1f} s: {body.get('status')}")
    print(f"  {summary.get('Verdict')}: {summary.get('Summary')}")
    for check in summary.get("Checks", []):
        blame = " ".join(str(check[k]) for k in ("blockingHop", "ruleName", "routeType") if k in check)
        print(f"    {check['role']:<10} {check['kind']:<12} {check['status']:<12} "
              f"(expected {check.get('expected')}) {blame}".rstrip())
    print(f"  NetworkWatcherInvestigation_CL: {len(emu.ingestion.rows_of('Custom-NetworkWatcherInvestigation'))} row")
    return bool(done and summary.get("RuleName") == "UserRule_Port80")
