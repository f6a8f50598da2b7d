"""Load scenarios on the local stack: a target list of N targets over the seed scenario's VMs, one
sweep through the real ``sweep`` function with the check ids it enqueued, and the wait until
every accepted check is a row in Log Analytics. Used by the load, crash and outage tests, the
crash runner and the benchmarks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from emulator.accounting import CHECK_STREAM
from emulator.functions_host import LocalHost
from emulator.stack import Emulator

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "targets.sample.yaml"


def write_targets(path: Path, count: int) -> list[str]:
    """``count`` targets, every one due every minute: the sample's seven (connectivity, ipFlow and
    nextHop over the seed's VMs) repeated under distinct names. Returns their names."""
    sample = yaml.safe_load(SAMPLE.read_text())
    templates = sample["targets"]
    targets = []
    for i in range(count):
        target = {**templates[i % len(templates)]}
        target["name"] = f"{target['name']}-{i:05d}"
        target["interval"] = "1m"
        targets.append(target)
    defaults = {**sample.get("defaults", {}), "interval": "1m"}
    path.write_text(json.dumps({"version": 1, "defaults": defaults, "targets": targets}))
    return [t["name"] for t in targets]


@dataclass
class Sweep:
    check_ids: list[str]
    seconds: float  # the sweep function's own invocation


def sweep(host: LocalHost) -> Sweep:
    """Run the timer function ``sweep`` once on ``host``; the check ids it put on the requests queue."""
    meta, user = host.functions["sweep"]
    out_name = next(b["name"] for b in meta["bindings"] if b["direction"] == "OUT")
    captured: list[str] = []

    def recording(**kwargs: Any) -> None:
        user(**kwargs)
        captured.extend(json.loads(text)["checkId"] for text in kwargs[out_name].get() or [])

    host.functions["sweep"] = (meta, recording)
    try:
        before = len(host.invocations)
        sent = host.tick("sweep")
    finally:
        host.functions["sweep"] = (meta, user)
    if sent != len(captured):
        raise RuntimeError(f"the sweep sent {sent} messages for {len(captured)} requests")
    return Sweep(captured, sum(i.seconds for i in host.invocations[before:] if i.function == "sweep"))


def rows_of(emu: Emulator) -> list[dict[str, Any]]:
    return emu.ingestion.rows_of(CHECK_STREAM)


def all_ingested(emu: Emulator, accepted: set[str], every_s: float = 1.0) -> Callable[[], bool]:
    """A ``done()`` for ``run_until``: every accepted check has a row (looked at most every ``every_s``)."""
    state = {"at": 0.0, "done": False}

    def done() -> bool:
        if not state["done"] and time.monotonic() - state["at"] >= every_s:
            state["at"] = time.monotonic()
            state["done"] = accepted <= {str(r.get("CheckId")) for r in rows_of(emu)}
        return bool(state["done"])

    return done


class Worker:
    """``python -m emulator.worker`` in a subprocess, with the app settings ``settings``."""

    def __init__(self, workdir: Path, settings: dict[str, str], *, sweep: bool = False, threads: int | None = None,
                 lease_s: int = 60, ingest_every_s: float = 2.0, name: str = "worker") -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.settings_file = workdir / "settings.json"
        self.settings_file.write_text(json.dumps(settings))
        self.stop_file = workdir / f"{name}.stop"
        self.stats_file = workdir / f"{name}.stats.json"
        self.sweep_file = workdir / f"{name}.sweep.json" if sweep else None
        self.log_file = workdir / f"{name}.log"
        args = [sys.executable, "-m", "emulator.worker", "--settings", str(self.settings_file),
                "--stop-file", str(self.stop_file), "--stats", str(self.stats_file), "--lease-s", str(lease_s),
                "--ingest-every", str(ingest_every_s)]
        if threads is not None:
            args += ["--threads", str(threads)]
        if self.sweep_file is not None:
            args += ["--sweep", str(self.sweep_file)]
        self._log = self.log_file.open("wb")
        env = {**os.environ, **settings, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log,  # noqa: S603 - our own module
                                        stderr=subprocess.STDOUT)

    def swept(self, timeout_s: float = 300.0) -> Sweep:
        """The sweep's check ids and duration, once the worker has written them."""
        assert self.sweep_file is not None
        deadline = time.monotonic() + timeout_s
        while not self.sweep_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not sweep:\n{self.log()}")
            time.sleep(0.1)
        data = json.loads(self.sweep_file.read_text())
        return Sweep(data["check_ids"], data["seconds"])

    def log(self, lines: int = 40) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when an instance dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._log.close()

    def stop(self, timeout_s: float = 120.0) -> dict[str, Any]:
        """Ask it to stop after its invocations in flight; its figures."""
        self.stop_file.touch()
        try:
            self.process.wait(timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            self._log.close()
        if self.process.returncode != 0 or not self.stats_file.exists():
            raise RuntimeError(f"the worker ended with {self.process.returncode}:\n{self.log()}")
        return dict(json.loads(self.stats_file.read_text()))


def wait_for(done: Callable[[], bool], timeout_s: float, worker: Worker | None = None, every_s: float = 1.0) -> bool:
    """Poll ``done`` until true or the timeout (or the worker's death)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return True
        if worker is not None and worker.process.poll() is not None:
            raise RuntimeError(f"the worker ended with {worker.process.returncode}:\n{worker.log()}")
        time.sleep(every_s)
    return done()
