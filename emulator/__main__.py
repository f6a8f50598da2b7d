"""``python -m emulator [serve]`` starts the local stack and prints the app settings;
``python -m emulator demo`` runs the seed cases against it and prints the results."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.stack import Emulator


def _serve(args: argparse.Namespace) -> int:
    emulator = Emulator(args.scenario, operation_seconds=args.operation_seconds, retry_after_s=args.retry_after)
    azurite = None if args.no_azurite else Azurite()
    settings = emulator.settings()
    if azurite is not None:
        # The host's storage and the app's, the app's queues and containers created as infra/ would:
        # these settings are enough for `func start` and for the `nwcheck` CLI.
        settings["AzureWebJobsStorage"] = azurite.connection_string
        settings.update(provision(azurite.connection_string))
    print(json.dumps(settings, indent=2), flush=True)
    print("# local stack running; Ctrl-C stops it", file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if azurite is not None:
            azurite.stop()
        emulator.stop()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from emulator.demo import run_demo

    with Emulator(args.scenario, operation_seconds=args.operation_seconds, retry_after_s=args.retry_after) as emu:
        os.environ.update(emu.settings())
        return run_demo(emu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, help_text in (("serve", _serve, "start the local stack and print the settings"),
                                  ("demo", _demo, "run the seed cases end to end and print the results")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--scenario", default="seed", help="bundled scenario name or path (default: seed)")
        p.add_argument("--operation-seconds", type=float, default=3.0, help="how long each operation runs")
        p.add_argument("--retry-after", type=int, default=1, help="Retry-After sent with each 202")
        p.set_defaults(func=func)
        if name == "serve":
            p.add_argument("--no-azurite", action="store_true", help="do not start Azurite")
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]  # plain `python -m emulator [options]` serves
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
