"""Where the target list lives: a blob in Azure, a file in development; re-read only when changed.

``TARGETS_PATH`` (a local file) wins when set; otherwise the blob ``TARGETS_CONTAINER`` /
``TARGETS_BLOB`` in the ``NwcheckStorage`` account. The parsed list is cached per process and
kept until the blob's ETag (or the file's mtime and size) changes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from azure.storage.blob import BlobClient

from shared.storage import download_if_changed, service_endpoint
from shared.target_list import TargetList, parse_target_list

log = logging.getLogger(__name__)


class TargetSource:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = os.environ if env is None else env
        self._version: object = None
        self._list = TargetList((), ())

    def _blob(self) -> BlobClient:
        target, credential = service_endpoint("NwcheckStorage", "blob", self.env)
        container = self.env.get("TARGETS_CONTAINER", "nwcheck")
        name = self.env.get("TARGETS_BLOB", "targets.yaml")
        if credential is None:
            return BlobClient.from_connection_string(target, container, name)
        return BlobClient(target, container, name, credential=credential)

    def __call__(self) -> TargetList:
        path = self.env.get("TARGETS_PATH")
        if path:
            stat = Path(path).stat()
            version: object = (stat.st_mtime_ns, stat.st_size)
            if version != self._version:
                self._load(Path(path).read_bytes(), path, version)
            return self._list
        blob = self._blob()
        # Download only when the ETag differs from what we parsed last (304).
        changed = download_if_changed(blob, self._version if isinstance(self._version, str) else None)
        if changed is not None:
            self._load(changed[0], blob.url, changed[1])
        return self._list

    def _load(self, data: bytes, source: str, version: object) -> None:
        parsed = parse_target_list(data, source=source)
        for error in parsed.errors:
            log.error("target list %s: %s (skipped)", source, error)
        self._list, self._version = parsed, version
