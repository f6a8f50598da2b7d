"""Access tokens as the emulator's identity endpoint issues them and its APIs check them.

JWT-shaped (``header.payload.signature``, HMAC-SHA256 with a per-process key) so that a token
carries its audience and expiry the way an Entra token does. ARM and Logs Ingestion answer 401
to a missing, malformed, badly signed, expired or wrong-audience token, as Azure does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

ARM_AUDIENCES = frozenset({"https://management.azure.com", "https://management.core.windows.net"})
MONITOR_AUDIENCES = frozenset({"https://monitor.azure.com"})


def normalize_audience(resource: str) -> str:
    """``https://monitor.azure.com//.default`` and ``https://monitor.azure.com/`` are one audience."""
    if resource.endswith("/.default"):
        resource = resource[: -len("/.default")]
    return resource.rstrip("/")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenRejected(Exception):
    """Why a bearer token is not accepted; ``code`` is the ARM-style error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class TokenIssuer:
    tenant_id: str = "00000000-0000-0000-0000-00000000beef"
    key: bytes = b""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = secrets.token_bytes(32)

    def issue(self, resource: str, client_id: str, lifetime_s: int, now: float | None = None) -> tuple[str, int]:
        """A signed token for ``resource``; returns the token and its expiry (epoch seconds)."""
        issued = int(now if now is not None else time.time())
        expires = issued + lifetime_s
        header = {"alg": "HS256", "typ": "JWT"}
        payload = {
            "aud": normalize_audience(resource),
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": issued,
            "nbf": issued,
            "exp": expires,
            "appid": client_id,
            "oid": client_id,
            "tid": self.tenant_id,
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
        signature = hmac.new(self.key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}", expires

    def verify(self, authorization: str | None, audiences: frozenset[str]) -> dict[str, Any]:
        """Check an ``Authorization`` header; return the token's claims or raise TokenRejected."""
        if not authorization:
            raise TokenRejected("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise TokenRejected(
                "AuthenticationFailed", "Authentication failed. The 'Authorization' header is not a Bearer token."
            )
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenRejected("InvalidAuthenticationToken", "The access token is invalid.")
        expected = hmac.new(self.key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            valid = hmac.compare_digest(_unb64(parts[2]), expected)
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, TypeError):
            raise TokenRejected("InvalidAuthenticationToken", "The access token is invalid.") from None
        if not valid or not isinstance(claims, dict):
            raise TokenRejected("InvalidAuthenticationToken", "The access token signature is invalid.")
        if int(claims.get("exp", 0)) <= time.time():
            raise TokenRejected("ExpiredAuthenticationToken", "The access token expiry UTC time is in the past.")
        if claims.get("aud") not in audiences:
            raise TokenRejected(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{claims.get('aud')}'. "
                f"It should exactly match with one of the allowed audiences {sorted(audiences)}.",
            )
        return claims
