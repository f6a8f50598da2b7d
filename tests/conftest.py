"""Session fixtures: the local Azure stack, started by the tests themselves.

Azurite and the emulator are real servers on 127.0.0.1. If one cannot start, the session fails
loudly; nothing here ever skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from emulator.azurite import Azurite
from emulator.stack import Emulator

# Property tests judge behaviour, not speed: no per-example deadline on a busy 2-core CI machine.
settings.register_profile("nwcheck", deadline=None, print_blob=True)
settings.load_profile("nwcheck")


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The emulator with the seed scenario; its settings are in os.environ for the whole session."""
    emu = Emulator("seed", operation_seconds=0.3, retry_after_s=1)
    saved = {k: os.environ.get(k) for k in emu.settings()}
    os.environ.update(emu.settings())
    try:
        yield emu
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        emu.stop()


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator, reset around each test: no faults, default LRO timing and throttling,
    the seed network, and empty request and row logs."""
    pristine = emulator.network.copy()
    emulator.arm.reset_counters()
    lro = (emulator.arm.lro.operation_seconds, emulator.arm.lro.retry_after_s)
    yield emulator
    emulator.faults.clear()
    emulator.arm.lro.operation_seconds, emulator.arm.lro.retry_after_s = lro
    emulator.arm.throttle.configure(write_burst=200, write_refill=10, read_burst=250, read_refill=25, enabled=True)
    emulator.change_network(lambda _: setattr(emulator.arm, "network", pristine))
    emulator.ingestion.clear()
    emulator.arm.reset_counters()
    for server in (emulator.arm_server, emulator.ingestion_server, emulator.identity_server):
        server.clear_requests()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite() as instance:
        yield instance
