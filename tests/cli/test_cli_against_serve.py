"""The README's terminal walk-through: `python -m emulator serve` prints settings that are enough
for the `nwcheck` command (and for `func start`): storage for the host and for the app, and the
app's queues created. Its settings are the only ones the command gets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.storage.queue import QueueServiceClient

from tests.cli.conftest import APP_SETTINGS, ROOT, SAMPLE, Cli


@pytest.fixture
def served() -> Iterator[dict[str, str]]:
    process = subprocess.Popen([sys.executable, "-m", "emulator", "serve", "--operation-seconds", "0.2"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.rstrip() == "}":
            break
    try:
        yield json.loads("".join(lines))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_the_settings_serve_prints_are_enough_for_the_cli(served: dict[str, Any]) -> None:
    for name in ("AzureWebJobsStorage", "NwcheckStorage", "ARM_ENDPOINT", "IDENTITY_ENDPOINT", "REQUESTS_CA_BUNDLE",
                 "REQUESTS_QUEUE", "RESULTS_QUEUE", "CHECKS_CONTAINER"):
        assert served.get(name), f"serve printed no {name}"
    queues = {q.name for q in QueueServiceClient.from_connection_string(served["NwcheckStorage"]).list_queues()}
    assert {served["REQUESTS_QUEUE"], served["REQUESTS_QUEUE"] + "-poison", served["URGENT_QUEUE"]} <= queues
    env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS and k not in served} | served
    run = Cli(env)("run", "--targets", str(SAMPLE), "app-to-db-port80", "app-nexthop-db")
    assert run.code == 1, run  # one of the two is not as expected
    assert "app-to-db-port80: Unreachable, expected Reachable" in run.out, run
    sent = Cli(env)("enqueue", "--target", "app-to-db-port80")
    assert sent.code == 0, sent
    peeked = QueueServiceClient.from_connection_string(served["NwcheckStorage"]).get_queue_client(
        served["REQUESTS_QUEUE"]).peek_messages()
    assert len(peeked) == 1
