"""ARM, as far as Network Watcher needs it: the three operations as long-running operations,
the VM reads of the seeds, the subscription-wide NIC and VNet lists (paged with ``nextLink``),
ARM error bodies, throttling and injected faults.

The long-running-operation protocol is the one the seeds captured: ``202 Accepted``, body
``null``, ``Location: https://{host}/subscriptions/{sub}/providers/Microsoft.Network/locations/
{region}/operationResults/{id}?api-version=...`` and ``Retry-After``; GET on the Location answers
202 (with a fresh Retry-After) while the operation runs and 200 with the result when done.

Lists answer ``{"value": [...], "nextLink": ...}`` as ARM does: ``page_size`` items per page and,
while more remain, a ``nextLink`` on this host with the same path and api-version plus an opaque
``$skiptoken``; the last page has no ``nextLink``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ArmError
from emulator.faults import Fault, Faults
from emulator.httpserver import Reply, Request
from emulator.network import Network
from emulator.throttle import Throttle
from emulator.tokens import ARM_AUDIENCES, TokenIssuer, TokenRejected

_SEG = r"([^/]+)"
_WATCHER_OP = re.compile(
    rf"^/subscriptions/{_SEG}/resourceGroups/{_SEG}/providers/Microsoft\.Network/networkWatchers/{_SEG}/"
    r"(connectivityCheck|ipFlowVerify|nextHop)$",
    re.IGNORECASE,
)
_OPERATION_RESULT = re.compile(
    rf"^/subscriptions/{_SEG}/providers/Microsoft\.Network/locations/{_SEG}/operationResults/{_SEG}$",
    re.IGNORECASE,
)
_VMS = re.compile(
    rf"^/subscriptions/{_SEG}/resourceGroups/{_SEG}/providers/Microsoft\.Compute/virtualMachines(?:/{_SEG})?$",
    re.IGNORECASE,
)
_LISTS = re.compile(
    rf"^/subscriptions/{_SEG}/providers/Microsoft\.Network/(networkInterfaces|virtualNetworks)$", re.IGNORECASE)
_LIST_KINDS: dict[str, str] = {"networkinterfaces": "networkInterfaces", "virtualnetworks": "virtualNetworks"}
# ARM rejects api-versions a provider has not registered; we accept the dated versions of the
# years ARM has served these resource types rather than keep a list that goes stale.
_API_VERSION = re.compile(r"^(20(1[4-9]|2[0-6]))-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(-preview)?$")
_OPERATIONS: dict[str, str] = {
    "connectivitycheck": "connectivityCheck", "ipflowverify": "ipFlowVerify", "nexthop": "nextHop",
}


@dataclass
class LroSettings:
    operation_seconds: float = 2.0  # how long an operation runs before its Location answers 200
    retry_after_s: int = 1  # the Retry-After sent with every 202


@dataclass
class Operation:
    subscription: str
    region: str
    kind: str
    result: dict[str, Any]
    done_at: float  # monotonic; float('inf') for an operation that never completes
    polls: int = 0


@dataclass
class ArmService:
    issuer: TokenIssuer
    network: Network
    faults: Faults
    throttle: Throttle = field(default_factory=Throttle)
    lro: LroSettings = field(default_factory=LroSettings)
    public_url: str = ""  # scheme://host:port the Location headers point at; set once listening
    page_size: int = 50  # items per page of a list; tests set 2 to see several pages
    clock: Callable[[], float] = time.monotonic
    name: str = "arm"
    operations: dict[str, Operation] = field(default_factory=dict)
    posts: int = 0
    throttled: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def reset_counters(self) -> None:
        with self._lock:
            self.posts = self.throttled = 0
            self.operations.clear()

    # ---- dispatch ----------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        op_match = _WATCHER_OP.match(request.path)
        list_match = _LISTS.match(request.path)
        operation = _OPERATIONS[op_match.group(4).lower()] if op_match else (
            _LIST_KINDS[list_match.group(2).lower()] if list_match else
            "poll" if _OPERATION_RESULT.match(request.path) else "vm" if _VMS.match(request.path) else "other")
        fault = self.faults.take("arm", operation)
        delay = 0.0
        if fault is not None:
            if fault.kind == "reset":
                return Reply(0, reset=True)
            if fault.kind == "status":
                return self._fault_reply(fault)
            if fault.kind == "slow":
                delay = fault.seconds
            if fault.kind == "malformed_json":
                return Reply(200, b'{"hops": [ {"type": "Source", ', {"Content-Type": "application/json"})
        try:
            self._authenticate(request)
            self._check_api_version(request)
            if op_match and request.method == "POST":
                reply = self._start(request, op_match, fault)
            elif request.method == "GET" and (m := _OPERATION_RESULT.match(request.path)):
                reply = self._poll(request, m)
            elif request.method == "GET" and (m := _VMS.match(request.path)):
                reply = self._vms(request, m)
            elif request.method == "GET" and list_match:
                reply = self._list(request, list_match, fault)
            elif op_match or list_match or _OPERATION_RESULT.match(request.path) or _VMS.match(request.path):
                raise ArmError(405, "MethodNotAllowed", f"The requested method {request.method} is not allowed.")
            else:
                raise ArmError(404, "InvalidResourceType", f"The resource type could not be found: {request.path}")
        except TokenRejected as exc:
            reply = Reply.json(401, {"error": {"code": exc.code, "message": exc.message}}, {
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                                    f'error="invalid_token", error_description="{exc.message}"'})
        except ArmError as exc:
            reply = Reply.json(exc.status, exc.body())
        reply.delay_s = delay
        reply.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
        reply.headers.setdefault("x-ms-correlation-request-id", request.header("x-ms-client-request-id")
                                 or str(uuid.uuid4()))
        return reply

    @staticmethod
    def _fault_reply(fault: Fault) -> Reply:
        headers = {}
        if fault.retry_after is not None or fault.status in (429, 503):
            headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 1)
        return Reply.json(fault.status, {"error": {"code": fault.code, "message": fault.message}}, headers)

    def _authenticate(self, request: Request) -> None:
        self.issuer.verify(request.header("Authorization"), ARM_AUDIENCES)

    @staticmethod
    def _check_api_version(request: Request) -> None:
        version = request.param("api-version")
        if not version:
            raise ArmError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        if not _API_VERSION.match(version):
            raise ArmError(400, "InvalidApiVersionParameter",
                           f"The api-version '{version}' is invalid. The supported versions are dated "
                           "'yyyy-mm-dd' or 'yyyy-mm-dd-preview'.")

    def _take(self, subscription: str, kind: str) -> dict[str, str]:
        allowed, remaining, retry_after = self.throttle.take(subscription, kind)
        header = {f"x-ms-ratelimit-remaining-subscription-{kind}": str(remaining)}
        if not allowed:
            with self._lock:
                self.throttled += 1
            raise _Throttled(kind, subscription, retry_after, header)
        return header

    # ---- the three operations ----------------------------------------------------------------
    def _start(self, request: Request, match: re.Match[str], fault: Fault | None) -> Reply:
        subscription, resource_group, watcher = match.group(1), match.group(2), match.group(3)
        kind = _OPERATIONS[match.group(4).lower()]
        try:
            limit_headers = self._take(subscription, "writes")
        except _Throttled as exc:
            return exc.reply()
        with self._lock:
            self.posts += 1
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                                                         "deserialized: not JSON.") from None
        with self._lock:
            region = self.network.watcher_region(subscription, resource_group, watcher)
            if region is None:
                raise ArmError(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.Network/networkWatchers/{watcher}' under resource group "
                               f"'{resource_group}' was not found.")
            compute = {"connectivityCheck": self.network.connectivity_check,
                       "ipFlowVerify": self.network.ip_flow_verify, "nextHop": self.network.next_hop}[kind]
            result = compute(subscription, region, body)
        if fault is not None and fault.kind == "sync":
            return Reply.json(200, result, limit_headers)
        op_id = str(uuid.uuid4())
        never = fault is not None and fault.kind == "never_complete"
        with self._lock:
            self.operations[op_id] = Operation(subscription, region, kind, result,
                                               float("inf") if never else self.clock() + self.lro.operation_seconds)
        headers = {**limit_headers, "Retry-After": str(self.lro.retry_after_s), "x-ms-request-id": op_id,
                   "Content-Type": "application/json; charset=utf-8"}
        if fault is not None and fault.kind == "foreign_location":
            headers["Location"] = fault.location
        elif fault is None or fault.kind != "no_location":
            headers["Location"] = self._location(subscription, region, op_id, request.param("api-version") or "")
        return Reply(202, b"null", headers)

    def _location(self, subscription: str, region: str, op_id: str, api_version: str) -> str:
        return (f"{self.public_url}/subscriptions/{subscription}/providers/Microsoft.Network/locations/{region}"
                f"/operationResults/{op_id}?api-version={api_version}")

    def _poll(self, request: Request, match: re.Match[str]) -> Reply:
        subscription, region, op_id = match.group(1), match.group(2), match.group(3)
        try:
            limit_headers = self._take(subscription, "reads")
        except _Throttled as exc:
            return exc.reply()
        with self._lock:
            op = self.operations.get(op_id)
            if op is None or op.subscription.lower() != subscription.lower() or op.region.lower() != region.lower():
                raise ArmError(404, "NotFound", f"Operation '{op_id}' was not found in region '{region}'.")
            op.polls += 1
            if self.clock() < op.done_at:
                return Reply(202, b"", {**limit_headers, "Retry-After": str(self.lro.retry_after_s),
                                        "Location": self._location(subscription, region, op_id,
                                                                   request.param("api-version") or "")})
            return Reply.json(200, op.result, limit_headers)

    # ---- reads -------------------------------------------------------------------------------
    def _vms(self, request: Request, match: re.Match[str]) -> Reply:
        subscription, resource_group, name = match.group(1), match.group(2), match.group(3)
        try:
            limit_headers = self._take(subscription, "reads")
        except _Throttled as exc:
            return exc.reply()
        with self._lock:
            if name is None:
                return Reply.json(200, {"value": self.network.list_vms(subscription, resource_group)}, limit_headers)
            vm = self.network.get_vm(subscription, resource_group, name)
        if vm is None:
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource 'Microsoft.Compute/virtualMachines/{name}' under resource group "
                           f"'{resource_group}' was not found.")
        return Reply.json(200, vm, limit_headers)

    def _list(self, request: Request, match: re.Match[str], fault: Fault | None) -> Reply:
        subscription, kind = match.group(1), _LIST_KINDS[match.group(2).lower()]
        try:
            limit_headers = self._take(subscription, "reads")
        except _Throttled as exc:
            return exc.reply()
        offset = _skip_offset(request.param("$skiptoken"))
        with self._lock:
            if not self.network.has_subscription(subscription):
                raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
            items = (self.network.list_nics if kind == "networkInterfaces" else self.network.list_vnets)(subscription)
            size = max(1, self.page_size)
        body: dict[str, Any] = {"value": items[offset:offset + size]}
        if fault is not None and fault.kind == "foreign_next_link":
            body["nextLink"] = fault.next_link
        elif offset + size < len(items):
            token = base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode().rstrip("=")
            body["nextLink"] = (f"{self.public_url}/subscriptions/{subscription}/providers/Microsoft.Network/{kind}"
                                f"?api-version={request.param('api-version')}&$skiptoken={token}")
        return Reply.json(200, body, limit_headers)


def _skip_offset(token: str | None) -> int:
    """The offset an opaque ``$skiptoken`` of ours stands for; 0 without one."""
    if token is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        offset = None
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ArmError(400, "InvalidSkipToken", f"The $skiptoken '{token[:100]}' is not valid.")
    return offset


class _Throttled(Exception):
    def __init__(self, kind: str, subscription: str, retry_after: int, headers: dict[str, str]) -> None:
        super().__init__(kind)
        self.kind, self.subscription, self.retry_after, self.headers = kind, subscription, retry_after, headers

    def reply(self) -> Reply:
        op = "write" if self.kind == "writes" else "read"
        return Reply.json(429, {"error": {
            "code": "SubscriptionRequestsThrottled",
            "message": f"Number of '{op}' requests for subscription '{self.subscription}' exceeded. Please try "
                       f"again after '{self.retry_after}' seconds after additional tokens are available."}},
            {**self.headers, "Retry-After": str(self.retry_after)})
