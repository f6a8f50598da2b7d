"""``nwcheck validate``: every error of a list, each with its path, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import CASES, SAMPLE, Cli, expected_lines

INVALID = sorted(CASES.glob("invalid-*.yaml"))
VALID = [*sorted(CASES.glob("valid-*")), SAMPLE]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_every_error_of_a_broken_list_is_printed_with_its_path_and_exit_1(cli: Cli, path: Path) -> None:
    run = cli("validate", str(path))
    assert run.code == 1, run
    errors = expected_lines(path, "raises") + expected_lines(path, "error")
    lines = run.out.splitlines()
    assert lines[:len(errors)] == [f"{path}: {error}" for error in errors]
    valid = expected_lines(path, "valid")
    if expected_lines(path, "raises"):
        assert lines[-1].endswith("the file cannot be used: no target of it would run"
                                  f" ({len(errors)} error(s))"), run
    else:
        assert lines[-1] == (f"{path}: {len(errors)} error(s); {len(valid)} valid target(s) would run, "
                             "the invalid ones are skipped"), run


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_a_valid_list_exits_0(cli: Cli, path: Path) -> None:
    run = cli("validate", str(path))
    assert run.code == 0, run
    assert run.out.startswith(f"{path}: OK, ") and run.out.endswith(" target(s)\n")


def test_the_file_defaults_to_targets_path(cli: Cli) -> None:
    path = CASES / "invalid-many-errors.yaml"
    run = cli("validate", env={"TARGETS_PATH": str(path)})
    assert run.code == 1 and run.out.count(f"{path}: targets[app-to-db].") == 3, run
    assert cli("validate", env={"TARGETS_PATH": str(SAMPLE)}).out == f"{SAMPLE}: OK, 7 target(s)\n"


def test_json_output_names_target_field_and_reason(cli: Cli) -> None:
    path = CASES / "invalid-many-errors.yaml"
    run = cli("validate", str(path), "--output", "json")
    assert run.code == 1, run
    data = json.loads(run.out)
    assert (data["valid"], data["usable"], data["targets"]) == (False, True, ["app-nexthop-db"])
    assert [(e["target"], e["field"], e["path"]) for e in data["errors"]] == [
        ("app-to-db", "interval", "targets[app-to-db].interval"), ("app-to-db", "expect", "targets[app-to-db].expect"),
        ("app-to-db", "destination.port", "targets[app-to-db].destination.port")]
    assert [e["message"] for e in data["errors"]] == expected_lines(path, "error")
    unusable = json.loads(cli("validate", str(CASES / "invalid-version.yaml"), "-o", "json").out)
    assert (unusable["usable"], unusable["errors"][0]["message"]) == (False, "version: must be 1 (got 2)")


def test_a_missing_file_or_none_given_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    missing = cli("validate", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "cannot read the target list: No such file or directory" in missing.err, missing
    none = cli("validate")
    assert none.code == 2 and "no target list: give FILE or set TARGETS_PATH" in none.err, none
