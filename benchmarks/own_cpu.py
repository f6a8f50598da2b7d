"""CPU milliseconds per check spent in the app's own code (``shared/`` and ``function_app.py``),
apart from the SDKs, the network and the local host.

    .venv/bin/python -m benchmarks.own_cpu [--checks 70] [--runs 3]

The real functions run in this process through the local host (one sweep-like batch of requests,
polls and ingest runs until every result is in Log Analytics) under ``cProfile``; the figure is the
sum of the *own* time (``tottime``) of every function defined in the app's files, per check. The
whole process's CPU per check is printed next to it, for scale. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import json
import os
import pstats
import resource
import statistics
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = (str(ROOT / "shared") + os.sep, str(ROOT / "function_app.py"))
SAMPLE = ["app-to-db-port80", "app-to-13.107.21.200", "app-to-bing", "app-to-blob", "app-out-443",
          "internet-in-3389", "app-nexthop-db"]


def one_run(emu, azurite, checks: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(own CPU ms per check, process CPU ms per check)."""
    from azure.storage.queue import QueueClient

    import function_app
    from emulator.app_resources import provision
    from emulator.functions_host import LocalHost
    from shared import runtime

    suffix = uuid.uuid4().hex[:8]
    settings = provision(azurite.connection_string, f"cpu{suffix}") | {
        "TARGETS_PATH": str(ROOT / "targets.sample.yaml")}
    os.environ.update(settings)
    runtime.reset()
    host = LocalHost(function_app.app)
    requests = QueueClient.from_connection_string(azurite.connection_string, settings["REQUESTS_QUEUE"])
    for i in range(checks):
        body = json.dumps({"version": 1, "target": SAMPLE[i % len(SAMPLE)], "checkId": f"cpu-{suffix}-{i}"})
        requests.send_message(base64.b64encode(body.encode()).decode())
    ids = {f"cpu-{suffix}-{i}" for i in range(checks)}
    stream = "Custom-NetworkWatcherCheck"

    def done() -> bool:
        return ids <= {r["CheckId"] for r in emu.ingestion.rows_of(stream)}

    profile = cProfile.Profile()
    before = resource.getrusage(resource.RUSAGE_SELF)
    profile.enable()
    finished = host.run_until(done, timeout_s=300, timers={"ingest": 1.0})
    profile.disable()
    after = resource.getrusage(resource.RUSAGE_SELF)
    if not finished:
        raise SystemExit("not every check reached Log Analytics")
    stats = pstats.Stats(profile)
    own = sum(row[2] for (filename, _, _), row in stats.stats.items()  # type: ignore[attr-defined]
              if filename.startswith(APP[0]) or filename == APP[1])
    process = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return own * 1000 / checks, process * 1000 / checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=70)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from emulator.azurite import Azurite
    from emulator.stack import Emulator

    with Emulator("seed", operation_seconds=1.0, retry_after_s=1) as emu, Azurite() as azurite:
        os.environ.update(emu.settings())
        runs = [one_run(emu, azurite, args.checks) for _ in range(args.runs)]
    own, process = [r[0] for r in runs], [r[1] for r in runs]

    def fmt(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}, {max(values):.2f})"

    print(f"{args.checks} checks a run, {args.runs} runs, median (min, max); operations 1 s, Retry-After 1 s\n")
    print("| measure | value |\n|---|---|")
    print(f"| CPU ms per check in the app's own code (`shared/`, `function_app.py`; cProfile own time) | {fmt(own)} |")
    print(f"| CPU ms per check of the whole process (SDKs, TLS, local host and profiler included) | {fmt(process)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
