"""The check kinds, one module each, all with the same shape (``base.CheckKind``).

``CHECKS[target.kind]`` gives the Network Watcher operation to POST, the request body for a target,
and the reader that turns ARM's final result into a ``Finding``. Adding a kind is one module and
one entry here.
"""

from __future__ import annotations

from . import connectivity, ip_flow, next_hop
from .base import CheckKind, InvalidArmResult

CHECKS: dict[str, CheckKind] = {
    "connectivity": connectivity.CHECK,
    "ipFlow": ip_flow.CHECK,
    "nextHop": next_hop.CHECK,
}

__all__ = ["CHECKS", "CheckKind", "InvalidArmResult"]
