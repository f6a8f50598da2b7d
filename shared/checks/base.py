"""What every check kind provides, and the one exception a kind may raise.

A kind only speaks its operation: it builds the ARM request body from a Target and reads ARM's
final result into a ``Finding``. The pipeline owns everything around it (the watcher, the POST,
polling, deadlines, timing) and turns ``InvalidArmResult`` into an Error result.

Network outcomes are data: Unreachable, Deny, a blocking NSG rule all come back as a Finding.
``InvalidArmResult`` means ARM's answer itself is unusable (not an object, a wrong type, no status).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.results import Finding
from shared.targets import Target

RequestBody = Callable[[Target], dict[str, Any]]
ReadFinding = Callable[[Target, Any], Finding]


class InvalidArmResult(ValueError):
    """ARM's result cannot be read; the message starts with the field at fault, e.g.
    ``hops[1].issues[0].severity: must be a string (got 3)``."""


@dataclass(frozen=True)
class CheckKind:
    operation: str  # the Network Watcher action: connectivityCheck | ipFlowVerify | nextHop
    request_body: RequestBody
    finding: ReadFinding  # never raises for a network outcome; InvalidArmResult for a bad answer


def wrong_spec(target: Target, wanted: type) -> TypeError:
    """A kind was handed another kind's target: a bug in the caller, not a check outcome."""
    return TypeError(f"target {target.name!r} has a {type(target.spec).__name__} spec; "
                     f"this check needs {wanted.__name__}")
