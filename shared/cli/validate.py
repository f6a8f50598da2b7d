"""``nwcheck validate``: check a target list as the app reads it, and print every error.

The parser skips an invalid target and keeps the others (so one typo stops one check, not all);
here every skipped target's errors are printed, each with its path, as are the errors that make
the whole file unusable.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from shared.cli.common import DIFFERS, OK, CliError, add_output, command, targets_path
from shared.target_list import TargetError, TargetListError, parse_target_list


def add_parser(sub: Any) -> None:
    p = command(
        sub, "validate", help="check a target list and print every error",
        description="Check a target list (JSON or YAML) exactly as the app reads it and print every error, "
        "each with the target and field it is about. Exit 1 if there is any.")
    p.add_argument("file", nargs="?", metavar="FILE", help="the target list (default: $TARGETS_PATH)")
    add_output(p)
    p.set_defaults(func=run)


def _error(error: TargetError) -> dict[str, Any]:
    text = str(error)
    return {"path": "" if text == error.reason else text.removesuffix(f": {error.reason}"),
            "target": error.target, "index": error.index, "field": error.field, "reason": error.reason,
            "message": str(error)}


def run(args: argparse.Namespace) -> int:
    path = targets_path(args.file, give="FILE")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: cannot read the target list: {exc.strerror or exc}") from None
    names: list[str] = []
    try:
        parsed = parse_target_list(data, source=path)
        errors, names, unusable = parsed.errors, [t.name for t in parsed.targets], False
    except TargetListError as exc:
        errors, unusable = exc.errors, True
    if args.output == "json":
        print(json.dumps({"file": path, "valid": not errors, "usable": not unusable, "targets": names,
                          "errors": [_error(e) for e in errors]}, indent=2))
        return DIFFERS if errors else OK
    for error in errors:
        print(f"{path}: {error}")
    if unusable:
        print(f"{path}: the file cannot be used: no target of it would run ({len(errors)} error(s))")
    elif errors:
        print(f"{path}: {len(errors)} error(s); {len(names)} valid target(s) would run, the invalid ones are skipped")
    else:
        print(f"{path}: OK, {len(names)} target(s)")
    return DIFFERS if errors else OK
