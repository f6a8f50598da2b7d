"""The load, crash and outage scenarios: the app's real functions in a worker process
(``emulator.worker``), Azurite, and the session's emulator in the test process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.accounting import Accounting, account_app
from emulator.app_resources import provision
from emulator.azurite import Azurite
from emulator.load import rows_of, write_targets
from emulator.stack import Emulator


@dataclass
class Scenario:
    emu: Emulator
    azurite: Azurite
    workdir: Path
    settings: dict[str, str]

    def account(self, accepted: set[str], title: str) -> Accounting:
        accounting = account_app(accepted, rows_of(self.emu), self.azurite.connection_string, self.settings)
        print("\n" + accounting.report(title))
        return accounting


@pytest.fixture
def scenario(emu: Emulator, azurite: Azurite, tmp_path: Path) -> Iterator[Scenario]:
    """Fresh queues and containers, a target list, and the settings a worker process runs with."""
    def make(targets: int, azurite_: Azurite = azurite, **extra: str) -> Scenario:
        path = tmp_path / "targets.json"
        write_targets(path, targets)
        settings = provision(azurite_.connection_string, uuid.uuid4().hex[:8]) | emu.settings() | {
            "TARGETS_PATH": str(path), "TIMER_SCHEDULE": "0 * * * * *", "INGEST_SCHEDULE": "*/2 * * * * *",
            **extra}
        return Scenario(emu, azurite_, tmp_path, settings)

    yield make  # type: ignore[misc]
