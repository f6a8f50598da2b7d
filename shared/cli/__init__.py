"""``nwcheck``: the operator's command line.

    nwcheck run [TARGET|GLOB ...] [--all]     run checks now and wait for their results
    nwcheck enqueue --target NAME             put a check request on the requests queue
    nwcheck validate [FILE]                   check a target list, print every error
    nwcheck replay QUEUE [--dry-run]          move poison messages back to their queue
    nwcheck status                            the alert state of every target

Installed by ``make setup`` (``pip install -e .``) as ``.venv/bin/nwcheck``; ``python -m shared.cli``
works too. Settings come from the environment, named as the app's settings are (``TARGETS_PATH``,
``ARM_ENDPOINT``, ``NwcheckStorage``, ``REQUESTS_QUEUE``, ``ALERTS_TABLE``, ...), so the settings
``make emulator`` prints point it at the local stack, and none at Azure.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import traceback

from shared.cli import enqueue, replay, run, status, validate
from shared.cli.common import EXIT_CODES, FAILED, USAGE, CliError

COMMANDS = (run, enqueue, validate, replay, status)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nwcheck", description="Operate nwcheck from a terminal: run checks now, enqueue them, validate a "
        "target list, replay poison messages, show alert states.", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE
    try:
        return int(args.func(args))
    except CliError as exc:
        for line in str(exc).splitlines() or [""]:
            print(f"nwcheck {args.command}: {line}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"nwcheck {args.command}: interrupted", file=sys.stderr)
        if threading.active_count() > 1:
            # Worker threads may be inside a request: the interpreter would wait for them at exit
            # (the pool's threads are joined), so a Ctrl-C would not stop the command at once.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        return 130
    except Exception:  # a bug, or a failure nobody foresaw: never exit 1, which says "a result differs"
        traceback.print_exc()
        print(f"nwcheck {args.command}: failed unexpectedly (the traceback above says where)", file=sys.stderr)
        return FAILED
