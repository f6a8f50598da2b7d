"""What the subcommands share: exit codes, the error they raise, settings, the target list, tables.

Nothing here imports an Azure SDK, so ``nwcheck --help`` stays quick; each subcommand imports
what it needs when it runs.
"""

from __future__ import annotations

import argparse
import math
import os
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.target_list import TargetList, TargetListError, parse_target_list

OK = 0  # every result as its target expects (run), no error (validate), done (the others)
DIFFERS = 1  # run: some result differs from what its target expects; validate: the list has errors
USAGE = 2  # bad arguments or input: a target list that cannot be read, an unknown name, an invalid request
FAILED = 3  # the work could not be done: checks ended in Error or Timeout, storage could not be reached

EXIT_CODES = """exit codes:
  0  done; for run: every result is what its target expects
  1  run: some result differs from what its target expects; validate: the list has errors
  2  usage or input error (bad arguments, a target list that cannot be read, an unknown name)
  3  could not run: checks ended in Error or Timeout, storage or ARM could not be reached"""

CONNECTION = "NwcheckStorage"  # the app's storage setting, read from the environment as the app reads it


class CliError(Exception):
    """Stops the command: the message goes to stderr and ``code`` is the exit code."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.code = code


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def queue_name(kind: str) -> str:
    """requests | urgent | polls | results | alerts → the queue's name from its app setting, as the app names it."""
    return setting(f"{kind.upper()}_QUEUE", f"nwcheck-{kind}")


def positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0 or (isinstance(value, float) and math.isinf(value)):
            raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
        return value
    return parse


def command(sub: Any, name: str, *, help: str, description: str, notes: str = "") -> argparse.ArgumentParser:  # noqa: A002
    """A subcommand's parser: its description wrapped, the exit codes (and ``notes``) after the options."""
    epilog = f"{EXIT_CODES}\n\n{textwrap.fill(notes, 88)}" if notes else EXIT_CODES
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=textwrap.fill(description, 88),
                                                     epilog=epilog,
                                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table",
                        help="table for people (default), json for scripts")


def add_storage(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--connection-string", metavar="CS",
                        help=f"the app's storage account (default: ${CONNECTION}, or the identity-based "
                             f"{CONNECTION}__queueServiceUri / __tableServiceUri with DefaultAzureCredential)")


def use_storage(connection_string: str | None) -> None:
    """``--connection-string`` wins over the environment, for this process only."""
    if connection_string:
        os.environ[CONNECTION] = connection_string


@contextmanager
def azure_errors(doing: str) -> Iterator[None]:
    """Storage settings missing → usage error; a service that cannot be reached or refuses → could not run."""
    from azure.core.exceptions import AzureError

    from shared.storage import StorageSettingError

    try:
        yield
    except StorageSettingError as exc:
        raise CliError(str(exc), USAGE) from None
    except AzureError as exc:
        first = str(exc).strip().splitlines()
        raise CliError(f"{doing}: {type(exc).__name__}: {first[0] if first else ''}", FAILED) from None


def targets_path(path: str | None, give: str = "--targets FILE") -> str:
    chosen = path or os.environ.get("TARGETS_PATH")
    if not chosen:
        raise CliError(f"no target list: give {give} or set TARGETS_PATH")
    return chosen


def read_target_list(path: str) -> TargetList:
    """The parsed list; CliError (usage) with every error of a file that cannot be used at all."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: cannot read the target list: {exc.strerror or exc}") from None
    try:
        return parse_target_list(data, source=path)
    except TargetListError as exc:
        raise CliError(str(exc)) from None


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    return "\n".join(lines)
