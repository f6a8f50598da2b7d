"""Start the whole emulator on 127.0.0.1 (free ports) and say which settings point the app at it."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from emulator.admin import AdminService
from emulator.arm import ArmService, LroSettings
from emulator.faults import Faults
from emulator.httpserver import RunningServer
from emulator.identity import TOKEN_PATH, IdentityService
from emulator.ingestion import IngestionService
from emulator.network import Network, load_scenario
from emulator.throttle import Throttle
from emulator.tls import TlsFiles, make_tls_files
from emulator.tokens import TokenIssuer

T = TypeVar("T")


class Emulator:
    """Managed identity (http, as on App Service), ARM and Logs Ingestion (https), and an admin API."""

    def __init__(self, scenario: str | Network = "seed", *, operation_seconds: float = 2.0, retry_after_s: int = 1,
                 workdir: Path | None = None) -> None:
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="nwcheck-emulator-")
        self.workdir = workdir or Path(self._tmp.name)  # type: ignore[union-attr]
        self.tls: TlsFiles = make_tls_files(self.workdir / "tls")
        self.issuer = TokenIssuer()
        self.faults = Faults()
        network = scenario if isinstance(scenario, Network) else load_scenario(scenario)
        self.identity = IdentityService(self.issuer, self.faults)
        self.arm = ArmService(self.issuer, network, self.faults, Throttle(),
                              LroSettings(operation_seconds, retry_after_s))
        self.ingestion = IngestionService(self.issuer, self.faults)
        context = self.tls.server_context()
        self.identity_server = RunningServer(self.identity)
        self.arm_server = RunningServer(self.arm, context)
        self.arm.public_url = self.arm_server.url
        self.ingestion_server = RunningServer(self.ingestion, context)
        self.admin_server = RunningServer(AdminService(self))

    @property
    def network(self) -> Network:
        return self.arm.network

    def change_network(self, change: Callable[[Network], T]) -> T:
        """Apply a change to the live network model (e.g. remove a rule) between requests."""
        with self.arm._lock:
            return change(self.arm.network)

    def settings(self) -> dict[str, str]:
        """The app settings (environment variables) that point nwcheck and the Azure SDKs here."""
        return {
            "IDENTITY_ENDPOINT": f"{self.identity_server.url}{TOKEN_PATH}",
            "IDENTITY_HEADER": self.identity.header_secret,
            "AZURE_CLIENT_ID": self.identity.client_id,
            "ARM_ENDPOINT": self.arm_server.url,
            "LOGS_INGESTION_ENDPOINT": self.ingestion_server.url,
            "LOGS_DCR_IMMUTABLE_ID": self.ingestion.rule_id,
            "REQUESTS_CA_BUNDLE": str(self.tls.ca_cert),
            "SSL_CERT_FILE": str(self.tls.ca_cert),
            "NWCHECK_EMULATOR_ADMIN": self.admin_server.url,
        }

    def describe(self) -> dict[str, Any]:
        return {"settings": self.settings(), "lro": asdict(self.arm.lro),
                "throttle": {"write_burst": self.arm.throttle.write_burst,
                             "write_refill": self.arm.throttle.write_refill,
                             "enabled": self.arm.throttle.enabled}}

    def stop(self) -> None:
        for server in (self.admin_server, self.ingestion_server, self.arm_server, self.identity_server):
            server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running(scenario: str | Network = "seed", **kwargs: Any) -> Iterator[Emulator]:
    emulator = Emulator(scenario, **kwargs)
    try:
        yield emulator
    finally:
        emulator.stop()


def dump_settings(emulator: Emulator) -> str:
    return json.dumps(emulator.settings(), indent=2)
