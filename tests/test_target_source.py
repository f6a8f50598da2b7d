from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from emulator.azurite import Azurite
from shared.sweep import due_requests
from shared.target_list import parse_target_list
from shared.target_source import TargetSource

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = (ROOT / "targets.sample.yaml").read_bytes()


def test_blob_is_read_once_and_again_only_when_its_etag_changes(azurite: Azurite) -> None:
    container = f"c{uuid.uuid4().hex[:10]}"
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container)
    blobs.upload_blob("targets.yaml", SAMPLE)
    source = TargetSource({"NwcheckStorage": azurite.connection_string, "TARGETS_CONTAINER": container})
    first = source()
    assert len(first.targets) == 7
    assert source() is first  # 304: the parsed list is kept
    blobs.upload_blob("targets.yaml", SAMPLE.replace(b"name: app-to-bing", b"name: app-to-bing2"), overwrite=True)
    second = source()
    assert second is not first and second.by_name("app-to-bing2") is not None


def test_local_file_wins_and_invalid_entries_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_bytes(SAMPLE + b"  - {name: broken, kind: traceroute}\n")
    listed = TargetSource({"TARGETS_PATH": str(path)})()
    assert len(listed.targets) == 7
    assert [e.target for e in listed.errors] == ["broken"]


def test_missing_blob_connection_names_the_setting() -> None:
    with pytest.raises(ValueError, match="NwcheckStorage"):
        TargetSource({})()


def test_sweep_ids_are_stable_for_a_minute_and_every_target_runs_once_per_interval() -> None:
    targets = parse_target_list(SAMPLE)
    t0 = dt.datetime(2026, 11, 22, 10, 0, 5, tzinfo=dt.UTC)
    assert due_requests(targets, t0) == due_requests(targets, t0 + dt.timedelta(seconds=50))
    per_target: dict[str, int] = {}
    for minute in range(60):
        for request in due_requests(targets, t0 + dt.timedelta(minutes=minute)):
            per_target[request["target"]] = per_target.get(request["target"], 0) + 1
    assert per_target == {t.name: 3600 // t.interval_s for t in targets.targets}
