"""Network Watcher through ARM: one ``requests`` session, an azure-identity token, strict answers.

Exceptions (retryable vs permanent decides what the pipeline does next)::

    ArmError
    ├── TransientArmError   429, 408, 5xx, timeouts, connection errors, no token: try again later
    └── PermanentArmError   any other 4xx, redirects, malformed answers, an unsafe Location: the
                            check ends as an Error result carrying ``code`` and ``message``

A token is attached only to the configured ARM endpoint, and to a ``Location`` only after
``shared.location.check_location`` accepted it. Redirects are never followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError

from shared.location import UnsafeLocation, check_location
from shared.retry_after import retry_after_seconds
from shared.targets import WatcherRef

ARM_SCOPE = "https://management.azure.com/.default"
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_MAX_MESSAGE = 1024


class ArmError(Exception):
    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message[:_MAX_MESSAGE]
        self.status = status


class TransientArmError(ArmError):
    def __init__(self, code: str, message: str, status: int | None = None, retry_after_s: int | None = None) -> None:
        super().__init__(code, message, status)
        self.retry_after_s = retry_after_s


class PermanentArmError(ArmError):
    pass


@dataclass(frozen=True)
class Done:
    """The operation's result (the JSON body of a 200)."""

    result: Any


@dataclass(frozen=True)
class Pending:
    """Still running: GET ``location`` again after ``retry_after_s``."""

    location: str
    retry_after_s: int


def _error_body(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError):
        return f"HTTP{response.status_code}", response.text[:_MAX_MESSAGE] or response.reason or ""


class ArmClient:
    def __init__(self, endpoint: str, credential: TokenCredential, *, api_version: str,
                 session: requests.Session | None = None, timeout: tuple[float, float] = (3.05, 10.0),
                 scope: str = ARM_SCOPE) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.credential = credential
        self.api_version = api_version
        self.session = session or requests.Session()
        self.timeout = timeout
        self.scope = scope

    def _headers(self) -> dict[str, str]:
        try:
            token = self.credential.get_token(self.scope).token
        except ClientAuthenticationError as exc:
            raise TransientArmError("TokenUnavailable", f"could not get a token for {self.scope}: {exc}") from exc
        return {"Authorization": f"Bearer {token}"}

    def _send(self, method: str, url: str, body: Any = None) -> requests.Response:
        headers = self._headers()
        try:
            return self.session.request(method, url, json=body, headers=headers, timeout=self.timeout,
                                        allow_redirects=False)
        except requests.Timeout as exc:
            raise TransientArmError("Timeout", f"{method} timed out after {self.timeout} s: {exc}") from exc
        except requests.ConnectionError as exc:
            raise TransientArmError("ConnectionError", f"{method} failed to connect or was reset: {exc}") from exc

    def _interpret(self, response: requests.Response, subscription: str) -> Done | Pending:
        status = response.status_code
        if status == 200:
            try:
                return Done(response.json())
            except ValueError:
                raise PermanentArmError("InvalidArmResponse", "ARM answered 200 with a body that is not JSON: "
                                        f"{response.text[:200]!r}", status) from None
        if status == 202:
            location = response.headers.get("Location")
            if not location:
                raise PermanentArmError("MissingLocation", "ARM answered 202 without a Location header", status)
            try:
                check_location(location, arm_endpoint=self.endpoint, subscription=subscription)
            except UnsafeLocation as exc:
                raise PermanentArmError("UnsafeLocation", f"refused to poll the Location ARM gave: {exc}",
                                        status) from None
            return Pending(location, retry_after_seconds(response.headers.get("Retry-After")))
        code, message = _error_body(response)
        if status in TRANSIENT_STATUSES:
            header = response.headers.get("Retry-After")
            raise TransientArmError(code, message, status, retry_after_seconds(header) if header else None)
        if 300 <= status < 400:
            raise PermanentArmError("UnexpectedRedirect", f"ARM answered {status}; redirects are not followed",
                                    status)
        raise PermanentArmError(code, message, status)

    def start(self, watcher: WatcherRef, operation: str, body: dict[str, Any]) -> Done | Pending:
        """POST the operation on the watcher: a result at once, or where and when to poll."""
        url = f"{self.endpoint}{watcher.resource_id}/{operation}?api-version={self.api_version}"
        return self._interpret(self._send("POST", url, body), watcher.subscription)

    def poll(self, location: str, subscription: str) -> Done | Pending:
        """GET a Location, after checking it may receive the token (no request is sent otherwise)."""
        try:
            check_location(location, arm_endpoint=self.endpoint, subscription=subscription)
        except UnsafeLocation as exc:
            raise PermanentArmError("UnsafeLocation", str(exc)) from None
        return self._interpret(self._send("GET", location), subscription)

    def get(self, resource_id: str, api_version: str) -> dict[str, Any]:
        """GET an ARM resource (e.g. a VM, to find its region)."""
        response = self._send("GET", f"{self.endpoint}{resource_id}?api-version={api_version}")
        if response.status_code != 200:
            code, message = _error_body(response)
            error = TransientArmError if response.status_code in TRANSIENT_STATUSES else PermanentArmError
            raise error(code, message, response.status_code)
        try:
            data = response.json()
        except ValueError:
            raise PermanentArmError("InvalidArmResponse", f"GET {resource_id}: body is not JSON") from None
        if not isinstance(data, dict):
            raise PermanentArmError("InvalidArmResponse", f"GET {resource_id}: body is not an object")
        return data
