"""``nwcheck replay``: poison messages go back to their queue (the app's records unwrapped, the host's
as they are); ``--dry-run`` moves none."""

from __future__ import annotations

import base64
import json

import pytest
from azure.storage.queue import QueueClient

from emulator.azurite import Azurite
from shared import storage
from shared.producer import requests_queue
from tests.cli.conftest import Cli
from tests.queues import raw_queue

REQUEST = {"version": 1, "target": "app-to-bing", "checkId": "c-1"}
HOST_POISONED = {"version": 1, "target": "app-to-blob", "checkId": "c-2"}
APP_RECORD = {"reason": "target: no target named 'app-to-bing' in the target list", "queue": "x",
              "message": json.dumps(REQUEST)}


def contents(queue: QueueClient) -> list[str]:
    """The decoded texts on a queue, left in place."""
    return sorted(base64.b64decode(m.content).decode() for m in queue.peek_messages(max_messages=32))


@pytest.fixture
def queues(azurite: Azurite, suffix: str) -> tuple[QueueClient, QueueClient]:
    """A queue and its poison queue holding one record the app wrote and one message the host gave up on."""
    name = f"cli-replay-{suffix}"
    queue, poison = raw_queue(azurite, name), raw_queue(azurite, f"{name}-poison")
    writer = requests_queue(azurite.connection_string, poison.queue_name)
    storage.send(writer, APP_RECORD)
    storage.send(writer, HOST_POISONED)
    return queue, poison


def test_dry_run_shows_what_would_move_and_moves_nothing(cli: Cli, queues: tuple[QueueClient, QueueClient]) -> None:
    queue, poison = queues
    before = contents(poison)
    run = cli("replay", queue.queue_name, "--dry-run")
    assert run.code == 0, run
    assert f"dry run: would move 2 message(s) from {poison.queue_name} back to {queue.queue_name}; nothing moved" \
        in run.out
    assert APP_RECORD["reason"] in run.out and "the Functions host gave up" in run.out
    assert contents(poison) == before and contents(queue) == []
    data = json.loads(cli("replay", queue.queue_name, "--dry-run", "-o", "json").out)
    assert (data["wouldMove"], data["moved"]) == (2, 0)
    assert sorted(json.loads(m["message"])["checkId"] for m in data["messages"]) == ["c-1", "c-2"]
    assert contents(poison) == before


def test_replay_moves_the_originals_back(cli: Cli, queues: tuple[QueueClient, QueueClient]) -> None:
    queue, poison = queues
    run = cli("replay", queue.queue_name)
    assert run.code == 0, run
    assert run.out == f"moved 2 message(s) from {poison.queue_name} back to {queue.queue_name}\n"
    assert contents(poison) == []
    assert sorted(json.loads(text)["checkId"] for text in contents(queue)) == ["c-1", "c-2"]
    assert json.dumps(REQUEST) in contents(queue)  # unwrapped from the app's record, byte for byte


def test_limit_and_the_queue_named_by_its_kind(cli: Cli, queues: tuple[QueueClient, QueueClient]) -> None:
    queue, poison = queues
    run = cli("replay", "results", "--limit", "1", env={"RESULTS_QUEUE": queue.queue_name})
    assert run.code == 0, run
    assert run.out.startswith("moved 1 message(s)")
    assert len(contents(poison)) == 1 and len(contents(queue)) == 1


def test_no_poison_queue_is_nothing_to_move(cli: Cli, suffix: str) -> None:
    run = cli("replay", f"never-{suffix}")
    assert run.code == 0, run
    assert run.out == f"never-{suffix}-poison does not exist: nothing to move\n"


def test_bad_arguments_and_missing_storage_are_usage_errors(cli: Cli) -> None:
    assert cli("replay").code == 2
    assert cli("replay", "results", "--limit", "0").code == 2
    unset = cli("replay", "results", env={"NwcheckStorage": ""})
    assert unset.code == 2 and "storage connection 'NwcheckStorage' is not configured" in unset.err, unset
