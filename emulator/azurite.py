"""Start Microsoft's Azurite (pinned in package.json) on 127.0.0.1 with free ports.

In memory by default, or in a folder when a test needs the data to survive a restart. Started
with ``--skipApiVersionCheck`` (new SDKs send x-ms-version values Azurite does not know yet) and
``--loose`` (ignore headers it does not support instead of failing).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite"
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented by Microsoft; not a secret).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at (http://\S+)")


class AzuriteError(RuntimeError):
    pass


class Azurite:
    def __init__(self, location: Path | None = None, ports: dict[str, int] | None = None,
                 start_timeout_s: float = 60.0) -> None:
        if not AZURITE_BIN.exists():
            raise AzuriteError(f"Azurite is not installed at {AZURITE_BIN}: run 'npm ci' (make does it).")
        if shutil.which("node") is None:
            raise AzuriteError("Node.js is not on PATH; Azurite needs it.")
        self.location = location
        ports = ports or {"blob": 0, "queue": 0, "table": 0}
        args = [str(AZURITE_BIN), "--skipApiVersionCheck", "--loose", "--disableTelemetry",
                "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                "--blobPort", str(ports["blob"]), "--queuePort", str(ports["queue"]),
                "--tablePort", str(ports["table"])]
        if location is None:
            args.append("--inMemoryPersistence")
        else:
            location.mkdir(parents=True, exist_ok=True)
            args += ["--location", str(location)]
        self._output: list[str] = []
        self.process: subprocess.Popen[str] = subprocess.Popen(  # noqa: S603 - our own pinned binary
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.endpoints: dict[str, str] = {}
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True, name="azurite-output").start()
        if not ready.wait(start_timeout_s) or len(self.endpoints) < 3:
            self.stop()
            raise AzuriteError("Azurite did not start (or not within "
                               f"{start_timeout_s:.0f}s). Its output:\n" + "\n".join(self._output[-30:]))

    def _read(self, ready: threading.Event) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._output.append(line.rstrip())
            match = _LISTENING.search(line)
            if match:
                self.endpoints[match.group(1).lower()] = match.group(2)
                if len(self.endpoints) == 3:
                    ready.set()
        ready.set()  # output ended: Azurite exited; the caller sees missing endpoints

    def url(self, service: str) -> str:
        return f"{self.endpoints[service]}/{ACCOUNT}"

    @property
    def ports(self) -> dict[str, int]:
        return {name: int(url.rsplit(":", 1)[1]) for name, url in self.endpoints.items()}

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint={self.url('blob')};QueueEndpoint={self.url('queue')};"
                f"TableEndpoint={self.url('table')};")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
