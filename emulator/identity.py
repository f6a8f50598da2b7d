"""The managed identity endpoint as App Service and Azure Functions provide it.

``GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=...`` with ``X-IDENTITY-HEADER``;
optional ``client_id`` / ``mi_res_id`` / ``object_id`` pick a user-assigned identity. Like Azure,
it is served over plain http on the local machine (the token call carries no bearer token).
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field

from emulator.faults import Faults
from emulator.httpserver import Reply, Request
from emulator.tokens import TokenIssuer

TOKEN_PATH = "/msi/token"  # noqa: S105 - a URL path, not a secret


@dataclass
class IdentityService:
    issuer: TokenIssuer
    faults: Faults
    client_id: str = "11111111-2222-3333-4444-555555555555"
    principal_id: str = "66666666-7777-8888-9999-000000000000"
    resource_id: str = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/nwcheck-rg/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/nwcheck-id"
    )
    header_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    token_lifetime_s: int = 3600
    name: str = "identity"
    tokens_issued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _error(status: int, message: str) -> Reply:
        # App Service answers errors as {"statusCode": ..., "message": ...}; MSAL reads those two keys.
        return Reply.json(status, {"statusCode": status, "message": message})

    def handle(self, request: Request) -> Reply:
        fault = self.faults.take("identity", "token")
        if fault is not None:
            if fault.kind == "reset":
                return Reply(0, reset=True)
            if fault.kind == "slow":
                return self._answer(request, fault.seconds)
            return self._error(fault.status, fault.message)
        return self._answer(request, 0.0)

    def _answer(self, request: Request, delay_s: float) -> Reply:
        if request.method != "GET" or request.path != TOKEN_PATH:
            return self._error(404, f"No such endpoint: {request.method} {request.path}")
        given = request.header("X-IDENTITY-HEADER") or ""
        if not hmac.compare_digest(given.encode(), self.header_secret.encode()):
            return self._error(401, "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.")
        if request.param("api-version") != "2019-08-01":
            return self._error(400, "api-version must be 2019-08-01.")
        resource = request.param("resource")
        if not resource:
            return self._error(400, "The 'resource' query parameter is required.")
        for key, expected in (("client_id", self.client_id), ("mi_res_id", self.resource_id),
                              ("object_id", self.principal_id), ("principal_id", self.principal_id)):
            value = request.param(key)
            if value is not None and value.lower() != expected.lower():
                return self._error(400, "No managed identity found for specified ClientId/ResourceId/PrincipalId.")
        token, expires = self.issuer.issue(resource, self.client_id, self.token_lifetime_s)
        with self._lock:
            self.tokens_issued += 1
        reply = Reply.json(200, {
            "access_token": token,
            "expires_on": str(expires),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": self.client_id,
        })
        reply.delay_s = delay_s
        return reply
