"""One Functions instance in its own process: the app's real functions on ``LocalHost``, for the
load, crash and outage scenarios and the benchmarks (the emulator stays in the caller's process,
as Azure would be elsewhere).

    python -m emulator.worker --settings settings.json --stop-file stop [--sweep ids.json]
                              [--threads 6] [--lease-s 60] [--ingest-every 2] [--stats stats.json]

Reads the app settings from a JSON file, optionally runs the ``sweep`` timer once (writing the
check ids it enqueued and its duration), then pumps the queues and ticks ``ingest`` until the stop
file exists; on a clean stop it writes its figures (invocations, function-seconds, CPU, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settings", type=Path, required=True)
    parser.add_argument("--stop-file", type=Path, required=True)
    parser.add_argument("--sweep", type=Path, help="run the sweep once; write its check ids here")
    parser.add_argument("--threads", type=int, default=min(32, (os.cpu_count() or 1) + 4))
    parser.add_argument("--lease-s", type=int, default=60)
    parser.add_argument("--ingest-every", type=float, default=2.0)
    parser.add_argument("--stats", type=Path)
    parser.add_argument("--timeout-s", type=float, default=3600.0)
    args = parser.parse_args(argv)
    os.environ.update(json.loads(args.settings.read_text()))

    import function_app
    from emulator.functions_host import LocalHost
    from emulator.load import sweep

    host = LocalHost(function_app.app, threads=args.threads, lease_s=args.lease_s)
    started = time.monotonic()
    if args.sweep is not None:
        done = sweep(host)
        partial = args.sweep.with_suffix(".tmp")
        partial.write_text(json.dumps({"check_ids": done.check_ids, "seconds": done.seconds}))
        partial.rename(args.sweep)  # whole or absent: a reader never sees half of it
    host.run_until(args.stop_file.exists, timeout_s=args.timeout_s, timers={"ingest": args.ingest_every})
    if args.stats is not None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        seconds: dict[str, float] = defaultdict(float)
        for invocation in host.invocations:
            seconds[invocation.function] += invocation.seconds
        args.stats.write_text(json.dumps({
            "wall_s": time.monotonic() - started,
            "invocations": Counter(i.function for i in host.invocations),
            "failed": sum(not i.ok for i in host.invocations),
            "function_seconds": seconds,
            "longest_s": max((i.seconds for i in host.invocations), default=0.0),
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "max_rss_mb": usage.ru_maxrss / 1024,
            "errors": host.errors[:20],
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
