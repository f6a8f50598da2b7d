"""A plain-http control API for tests and tools that run the emulator as another process.

- ``GET /settings``; ``GET /requests?service=arm|ingestion|identity``; ``DELETE /requests``
- ``POST /faults`` (a fault, see ``emulator.faults``); ``DELETE /faults``
- ``POST /lro`` ``{"operation_seconds": 3, "retry_after_s": 1}``
- ``POST /throttle`` ``{"write_burst": 200, "write_refill": 50, "enabled": true}``
- ``POST /network/remove-rule`` ``{"nsg": ..., "rule": ...}``
- ``POST /network/add-rule`` ``{"nsg": ..., "rule": {...}}``
- ``GET /ingested?stream=Custom-...`` the rows accepted so far
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from emulator.faults import Fault
from emulator.httpserver import Reply, Request

if TYPE_CHECKING:
    from emulator.stack import Emulator


class AdminService:
    name = "admin"

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle(self, request: Request) -> Reply:
        try:
            body: Any = json.loads(request.body) if request.body else {}
            return self._route(request, body)
        except (ValueError, KeyError, TypeError) as exc:
            return Reply.json(400, {"error": str(exc)})

    def _route(self, request: Request, body: Any) -> Reply:
        emu = self.emulator
        route = (request.method, request.path)
        servers = {"arm": emu.arm_server, "ingestion": emu.ingestion_server, "identity": emu.identity_server}
        if route == ("GET", "/settings"):
            return Reply.json(200, emu.describe())
        if route == ("GET", "/requests"):
            server = servers[request.param("service") or "arm"]
            return Reply.json(200, [asdict(r) for r in server.requests])
        if route == ("DELETE", "/requests"):
            for server in servers.values():
                server.clear_requests()
            return Reply(204)
        if route == ("POST", "/faults"):
            return Reply.json(201, asdict(emu.faults.add(Fault.from_dict(body))))
        if route == ("DELETE", "/faults"):
            emu.faults.clear()
            return Reply(204)
        if route == ("POST", "/lro"):
            for key in ("operation_seconds", "retry_after_s"):
                if key in body:
                    setattr(emu.arm.lro, key, body[key])
            return Reply.json(200, asdict(emu.arm.lro))
        if route == ("POST", "/throttle"):
            emu.arm.throttle.configure(**body)
            return Reply(204)
        if route == ("POST", "/network/remove-rule"):
            emu.change_network(lambda n: n.remove_security_rule(body["nsg"], body["rule"]))
            return Reply(204)
        if route == ("POST", "/network/add-rule"):
            emu.change_network(lambda n: n.add_security_rule(body["nsg"], body["rule"]))
            return Reply(204)
        if route == ("GET", "/ingested"):
            return Reply.json(200, emu.ingestion.rows_of(request.param("stream") or "Custom-NetworkWatcherCheck"))
        return Reply.json(404, {"error": f"no such admin endpoint: {request.method} {request.path}"})
