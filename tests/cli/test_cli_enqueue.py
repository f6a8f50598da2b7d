"""``nwcheck enqueue``: exactly one message, base64-encoded once, that the app's validator accepts;
invalid input is printed, exits 2 and sends nothing."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from emulator.azurite import Azurite
from shared.messages import parse_request
from shared.target_list import parse_target_list
from tests.cli.conftest import SAMPLE, Cli
from tests.queues import raw_queue

VM = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ContosoRG/providers/Microsoft.Compute/"
      "virtualMachines/MultiTierApp0")
INLINE = {"name": "adhoc-db-1433", "kind": "connectivity", "source": VM,
          "destination": {"address": "10.1.4.4", "port": 1433}, "expect": "Reachable"}


@pytest.fixture
def queue(azurite: Azurite, suffix: str) -> QueueClient:
    return raw_queue(azurite, f"cli-requests-{suffix}")


def messages(queue: QueueClient) -> list[str]:
    """Every message on the queue, as stored (base64 text), taken off it."""
    out = []
    for message in queue.receive_messages(max_messages=32):
        out.append(message.content)
        queue.delete_message(message)
    return out


def test_a_stored_target_is_one_message_the_app_accepts(cli: Cli, queue: QueueClient) -> None:
    run = cli("enqueue", "--target", "app-to-db-port80", "--correlation-id", "deploy-1234", "--reply-to",
              "my-results", "--queue", queue.queue_name)
    assert run.code == 0, run
    (stored,) = messages(queue)
    body = base64.b64decode(stored, validate=True)  # base64 once: the decoded text is the JSON itself
    request = parse_request(body)
    assert (request.target_name, request.correlation_id, request.reply_to, request.trigger, request.inline) == (
        "app-to-db-port80", "deploy-1234", "my-results", "queue", None)
    check_id = re.search(r"enqueued check (\S+) on " + re.escape(queue.queue_name), run.out)
    assert check_id and request.check_id == check_id.group(1) and check_id.group(1).startswith("cli-")
    assert json.loads(body) == json.loads(run.out.split(": ", 1)[1])


def test_check_id_and_the_queue_from_its_setting(cli: Cli, queue: QueueClient) -> None:
    run = cli("enqueue", "--target", "app-to-bing", "--check-id", "ops-42", env={"REQUESTS_QUEUE": queue.queue_name})
    assert run.code == 0, run
    (stored,) = messages(queue)
    assert parse_request(base64.b64decode(stored)).check_id == "ops-42"


def test_high_priority_goes_on_the_urgent_queue(cli: Cli, azurite: Azurite, queue: QueueClient, suffix: str) -> None:
    urgent = raw_queue(azurite, f"cli-urgent-{suffix}")
    run = cli("enqueue", "--target", "app-to-db-port80", "--priority", "high",
              env={"REQUESTS_QUEUE": queue.queue_name, "URGENT_QUEUE": urgent.queue_name})
    assert run.code == 0, run
    assert f" on {urgent.queue_name}: " in run.out
    (stored,) = messages(urgent)
    assert parse_request(base64.b64decode(stored)).priority == "high"
    assert messages(queue) == []
    assert cli("enqueue", "--target", "app-to-bing", "--priority", "urgent").code == 2


def test_an_inline_target_from_a_file(cli: Cli, queue: QueueClient, tmp_path: Path) -> None:
    path = tmp_path / "adhoc.yaml"
    path.write_text(json.dumps(INLINE))
    run = cli("enqueue", "--inline", str(path), "--queue", queue.queue_name)
    assert run.code == 0, run
    (stored,) = messages(queue)
    request = parse_request(base64.b64decode(stored))
    assert request.target_name is None and request.inline is not None
    assert request.inline.name == "adhoc-db-1433" and request.inline.spec.port == 1433


def test_connection_string_flag_instead_of_the_setting(cli: Cli, azurite: Azurite, queue: QueueClient) -> None:
    run = cli("enqueue", "--target", "app-to-bing", "--queue", queue.queue_name, "--connection-string",
              azurite.connection_string, env={"NwcheckStorage": ""})
    assert run.code == 0, run
    assert len(messages(queue)) == 1


def _inline_file(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_invalid_input_exits_2_names_the_problem_and_enqueues_nothing(cli: Cli, queue: QueueClient,
                                                                      tmp_path: Path) -> None:
    no_port = json.dumps({**INLINE, "destination": {"address": "10.1.4.4"}})
    other_sub = json.dumps({**INLINE, "source": VM.replace("00000000-0000-0000-0000-000000000000", "nope")})
    cases = {
        ("--target", "bad name!"): "target: must be a target name",
        ("--target", "app-to-bing", "--reply-to", "Not_A_Queue"): "replyTo: must be a queue name",
        ("--target", "app-to-bing", "--correlation-id", "has space"): "correlationId: must be 1-256 printable",
        ("--target", "app-to-bing", "--check-id=.starts-with-dot"): "checkId: must be 1-128",
        ("--target", "nope", "--targets", str(SAMPLE)): f"no target named 'nope' in {SAMPLE}",
        ("--inline", _inline_file(tmp_path, "no-port.json", no_port)):
            "inline target: targets[adhoc-db-1433].destination.port: is required",
        ("--inline", _inline_file(tmp_path, "sub.json", other_sub)): "inline target: targets[adhoc-db-1433].source",
        ("--inline", _inline_file(tmp_path, "list.yaml", "- a\n- b\n")): "must hold one target definition",
        ("--inline", _inline_file(tmp_path, "broken.yaml", "name: [\n")): "not valid YAML",
        ("--inline", str(tmp_path / "missing.json")): "cannot read the inline target",
        ("--target", "app-to-bing", "--inline", _inline_file(tmp_path, "ok.json", json.dumps(INLINE))):
            "not allowed with argument",
        (): "one of the arguments --target --inline is required",
        ("--target", "app-to-bing", "--queue-url", "ftp://x/y"): "--queue-url: expected https://",
        ("--target", "app-to-bing", "--queue-url", "http://127.0.0.1:1/devstoreaccount1/q"):
            "--queue-url: expected https://",  # a token never goes over http
        ("--target", "app-to-bing", "--queue-url", "https://a.queue.core.windows.net/q", "--queue", "q"):
            "--queue-url names the queue already",
    }
    for args, message in cases.items():
        run = cli("enqueue", *args, "--queue", queue.queue_name) if "--queue-url" not in args else cli(
            "enqueue", *args)
        assert run.code == 2, (args, str(run))
        assert message in run.err, (args, str(run))
        assert run.out == ""
    assert messages(queue) == []


def test_a_target_name_is_checked_against_targets_path_when_set(cli: Cli, queue: QueueClient) -> None:
    run = cli("enqueue", "--target", "app-to-nowhere", "--queue", queue.queue_name,
              env={"TARGETS_PATH": str(SAMPLE)})
    assert run.code == 2 and "no target named 'app-to-nowhere'" in run.err, run
    assert any(t.name == "app-to-bing" for t in parse_target_list(SAMPLE.read_bytes()).targets)
    assert cli("enqueue", "--target", "app-to-bing", "--queue", queue.queue_name,
               env={"TARGETS_PATH": str(SAMPLE)}).code == 0
    assert len(messages(queue)) == 1


def test_storage_not_configured_is_a_usage_error_and_a_missing_queue_could_not_run(cli: Cli, suffix: str) -> None:
    unset = cli("enqueue", "--target", "app-to-bing", env={"NwcheckStorage": ""})
    assert unset.code == 2 and "storage connection 'NwcheckStorage' is not configured" in unset.err, unset
    missing = cli("enqueue", "--target", "app-to-bing", "--queue", f"absent-{suffix}")
    assert missing.code == 3 and "could not send the request: ResourceNotFoundError" in missing.err, missing
