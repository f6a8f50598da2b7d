"""Faults that tests switch on, per service and operation, for a number of requests.

Kinds:
- ``status``: answer ``status`` (500, 503, 429, 403, 404, ...) with an ARM error body; 429 and 503
  carry ``Retry-After``.
- ``reset``: close the connection without an answer (TCP RST).
- ``slow``: wait ``seconds`` before answering normally.
- ``malformed_json``: answer 200 with a body that is not JSON.
- ``no_location``: a 202 without a ``Location`` header.
- ``foreign_location``: a 202 whose ``Location`` is ``location`` (another host).
- ``foreign_next_link``: a list page (``networkInterfaces``, ``virtualNetworks``) answered
  normally except that its ``nextLink`` is ``next_link`` (another host, plain http, another
  subscription or resource type, or the same page again: a loop).
- ``never_complete``: the operation started by this POST answers 202 forever.
- ``sync``: answer the POST with 200 and the result at once (the spec allows it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset(
    {"status", "reset", "slow", "malformed_json", "no_location", "foreign_location", "foreign_next_link",
     "never_complete", "sync"}
)
SERVICES = frozenset({"arm", "ingestion", "identity"})


@dataclass
class Fault:
    service: str
    kind: str
    # connectivityCheck | ipFlowVerify | nextHop | poll | vm | networkInterfaces | virtualNetworks | upload |
    # token | *
    operation: str = "*"
    count: int | None = 1  # None: until cleared
    status: int = 500
    code: str = "InternalServerError"
    message: str = "Injected fault."
    retry_after: int | None = None
    seconds: float = 0.0
    location: str = ""
    next_link: str = ""
    hits: int = 0

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"fault service must be one of {sorted(SERVICES)}, not {self.service!r}")
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {sorted(KINDS)}, not {self.kind!r}")
        if self.kind == "foreign_location" and not self.location:
            raise ValueError("a foreign_location fault needs 'location'")
        if self.kind == "foreign_next_link" and not self.next_link:
            raise ValueError("a foreign_next_link fault needs 'next_link'")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        allowed = set(cls.__dataclass_fields__) - {"hits"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)


@dataclass
class Faults:
    _active: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault | None = None, **kwargs: Any) -> Fault:
        fault = fault or Fault(**kwargs)
        with self._lock:
            self._active.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    def take(self, service: str, operation: str) -> Fault | None:
        """The first active fault for this request, counted as used."""
        with self._lock:
            for fault in self._active:
                if fault.service == service and fault.operation in ("*", operation):
                    fault.hits += 1
                    if fault.count is not None and fault.hits >= fault.count:
                        self._active.remove(fault)
                    return fault
        return None
