"""The installed command: its entry point, --help for every subcommand, and what the package holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.cli.conftest import NWCHECK, ROOT, Cli

COMMANDS = ("run", "enqueue", "validate", "replay", "status")


def test_make_setup_installed_the_console_script() -> None:
    (script,) = entry_points(group="console_scripts", name="nwcheck")
    assert script.value == "shared.cli:main"
    assert NWCHECK.exists(), "make setup installs it: pip install -e ."


def test_help_lists_every_command_and_the_exit_codes(cli: Cli) -> None:
    run = cli("--help")
    assert run.code == 0, run
    for command in COMMANDS:
        assert f"\n    {command} " in run.out, command
    assert "exit codes:" in run.out and "3  could not run" in run.out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli: Cli, command: str) -> None:
    run = cli(command, "--help")
    assert run.code == 0, run
    assert run.out.startswith(f"usage: nwcheck {command} "), run
    assert "exit codes:" in run.out
    assert run.err == ""


def test_no_command_or_an_unknown_one_is_a_usage_error(cli: Cli) -> None:
    bare = cli()
    assert bare.code == 2 and "usage: nwcheck" in bare.err, bare
    unknown = cli("frobnicate")
    assert unknown.code == 2 and "invalid choice: 'frobnicate'" in unknown.err, unknown


def test_python_m_shared_cli_is_the_same_command() -> None:
    done = subprocess.run([sys.executable, "-m", "shared.cli", "validate", "--help"], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("usage: nwcheck validate"), done


def test_the_package_is_shared_alone_with_its_schemas_and_the_command(tmp_path: Path) -> None:
    # Built from a copy, with a decoy top-level package beside `shared`, as the flat layout has
    # (emulator, tests, ...): only `shared` may go in, its schemas included.
    src = tmp_path / "src"
    shutil.copytree(ROOT / "shared", src / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", src)
    (src / "emulator").mkdir()
    (src / "emulator" / "__init__.py").write_text("")
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"),
             str(src)]
    done = subprocess.run(build, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "dist").glob("nwcheck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"shared", next(t for t in tops if t.endswith(".dist-info"))}, tops
    schemas = {p.relative_to(ROOT).as_posix() for p in (ROOT / "shared" / "schemas").glob("*.json")}
    assert schemas and schemas <= set(names)
    packages = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "shared").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= set(names)  # every subpackage, shared/cli included
    assert "shared/cli/__main__.py" in names
    info = next(t for t in tops if t.endswith(".dist-info"))
    assert "nwcheck = shared.cli:main" in zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
