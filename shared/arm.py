"""Network Watcher through ARM: one ``requests`` session, an azure-identity token, strict answers.

Exceptions (retryable vs permanent decides what the pipeline does next)::

    ArmError
    ├── TransientArmError   429, 408, 5xx, timeouts, connection errors, no token: try again later
    └── PermanentArmError   any other 4xx, redirects, malformed answers, an unsafe Location: the
                            check ends as an Error result carrying ``code`` and ``message``

A token is attached only to the configured ARM endpoint, to a ``Location`` only after
``shared.location.check_location`` accepted it, and to a list's ``nextLink`` only after
``shared.location.check_next_link`` did. Redirects are never followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError

from shared.location import UnsafeLocation, check_location, check_next_link, parse_list_path
from shared.retry_after import retry_after_seconds
from shared.targets import WatcherRef

ARM_SCOPE = "https://management.azure.com/.default"
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_MAX_MESSAGE = 1024
MAX_PAGES = 1000  # of one list: a nextLink chain longer than this is a loop, not an inventory


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
        return _object_or_error(response, f"GET {resource_id}")

    def list_all(self, path: str, api_version: str, *, max_pages: int = MAX_PAGES) -> list[dict[str, Any]]:
        """Every item of an ARM list (e.g. ``/subscriptions/{id}/providers/Microsoft.Network/networkInterfaces``),
        following ``nextLink``. Each nextLink must pass ``check_next_link`` (https, the ARM host and port,
        the same subscription, scope and resource type) before it gets the token: an unsafe one raises
        PermanentArmError("UnsafeNextLink") and is never requested."""
        try:
            parse_list_path(path)
        except ValueError as exc:
            raise PermanentArmError("InvalidListPath", str(exc)) from None
        url = f"{self.endpoint}{path}?api-version={api_version}"
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for page in range(1, max_pages + 1):
            body = _object_or_error(self._send("GET", url), f"GET {path} (page {page})")
            value = body.get("value")
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise PermanentArmError("InvalidArmResponse", f"GET {path} (page {page}): 'value' is not a list of "
                                        "objects")
            items.extend(value)
            next_link = body.get("nextLink")
            if next_link is None or next_link == "":
                return items
            if not isinstance(next_link, str):
                raise PermanentArmError("InvalidArmResponse", f"GET {path} (page {page}): 'nextLink' is not a string")
            try:
                check_next_link(next_link, arm_endpoint=self.endpoint, list_path=path)
            except UnsafeLocation as exc:
                raise PermanentArmError("UnsafeNextLink", f"refused to follow the nextLink of {path} (page {page}): "
                                        f"{exc}") from None
            if next_link in seen or next_link == url:
                raise PermanentArmError("NextLinkLoop", f"{path}: page {page} links back to a page already read")
            seen.add(next_link)
            url = next_link
        raise PermanentArmError("TooManyPages", f"{path}: still a nextLink after {max_pages} pages")


def _object_or_error(response: requests.Response, what: str) -> dict[str, Any]:
    """The JSON object of a 200, or the ARM error as a transient or permanent ArmError."""
    if response.status_code != 200:
        code, message = _error_body(response)
        if 300 <= response.status_code < 400:
            code, message = "UnexpectedRedirect", f"ARM answered {response.status_code}; redirects are not followed"
        if response.status_code in TRANSIENT_STATUSES:
            header = response.headers.get("Retry-After")
            raise TransientArmError(code, message, response.status_code,
                                    retry_after_seconds(header) if header else None)
        raise PermanentArmError(code, message, response.status_code)
    try:
        data = response.json()
    except ValueError:
        raise PermanentArmError("InvalidArmResponse", f"{what}: body is not JSON") from None
    if not isinstance(data, dict):
        raise PermanentArmError("InvalidArmResponse", f"{what}: body is not an object")
    return data
