from __future__ import annotations

import json
import uuid

from azure.storage.blob import BlobServiceClient

from emulator.azurite import Azurite
from emulator.stack import Emulator
from shared.claims import CheckClaims
from tests.test_pipeline import SAMPLE, _pipeline, _request


def _claims(azurite: Azurite) -> CheckClaims:
    container = BlobServiceClient.from_connection_string(azurite.connection_string).create_container(
        f"claims{uuid.uuid4().hex[:8]}")
    return CheckClaims(container)


def test_first_claim_wins_and_only_its_own_redelivery_may_start_again(azurite: Azurite) -> None:
    claims = _claims(azurite)
    assert claims("s-20261122T1000Z-abc", "message-1") is True
    assert claims("s-20261122T1000Z-abc", "message-1") is True  # the same message, delivered again
    assert claims("s-20261122T1000Z-abc", "message-2") is False  # a duplicate request
    assert claims("s-20261122T1001Z-abc", "message-2") is True  # another slot


def test_a_duplicate_request_starts_nothing(emu: Emulator, azurite: Azurite) -> None:
    pipeline = _pipeline(emu, SAMPLE)
    pipeline.claims = _claims(azurite)
    body = _request("app-to-bing", checkId="s-20261122T1000Z-dup")
    first = pipeline.accept(body, "m1")
    assert first.step is not None
    second = pipeline.accept(body, "m2")
    assert second.duplicate is not None and "already started" in second.duplicate
    assert (second.step, second.result, second.poison) == (None, None, None)
    assert emu.arm.posts == 1
    again = pipeline.accept(json.dumps(json.loads(body)), "m1")  # the first message, redelivered
    assert again.step is not None and emu.arm.posts == 2
