"""Run the installed ``nwcheck`` command as another process, as an operator would, against the
session's emulator and Azurite (their settings go to the process through its environment)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.azurite import Azurite
from emulator.stack import Emulator

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "targets.sample.yaml"
CASES = ROOT / "tests" / "target_lists"
# The console script `make setup` installs (pip install -e .), next to the interpreter running the tests.
NWCHECK = Path(sys.executable).parent / "nwcheck"
# Settings a test process may have picked up that must not leak into the command's environment.
APP_SETTINGS = ("TARGETS_PATH", "NwcheckStorage", "REQUESTS_QUEUE", "POLLS_QUEUE", "RESULTS_QUEUE", "ALERTS_QUEUE",
                "ALERTS_TABLE", "MAX_ATTEMPTS", "BACKOFF_BASE_S")


@dataclass
class Run:
    code: int
    out: str
    err: str

    def __str__(self) -> str:  # what a failed assertion shows
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        assert NWCHECK.exists(), f"{NWCHECK} is not installed: run `make setup` (pip install -e .)"
        done = subprocess.run([str(NWCHECK), *args], cwd=ROOT, env={**self.env, **(env or {})},  # noqa: S603
                              capture_output=True, text=True, timeout=timeout, check=False)
        return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli(emu: Emulator, azurite: Azurite) -> Cli:
    """``cli("run", "--all", ...)``: the command with the emulator's and Azurite's settings, and no other
    setting of the app's."""
    env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS}
    env.update(emu.settings())
    env["NwcheckStorage"] = azurite.connection_string
    return Cli(env)


@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:10]


def expected_lines(path: Path, tag: str) -> list[str]:
    """The ``# error: ...`` / ``# raises: ...`` lines a case file of tests/target_lists states."""
    prefix = f"# {tag}: "
    return [line[len(prefix):] for line in path.read_text().splitlines() if line.startswith(prefix)]
