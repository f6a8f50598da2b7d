"""What a target is: one network path nwcheck keeps checking, and what it expects to find.

The target list file (``shared/target_list/`` reads it) and inline targets in queue messages
both become these frozen values; everything downstream works on them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["connectivity", "ipFlow", "nextHop"]
KINDS: tuple[Kind, ...] = ("connectivity", "ipFlow", "nextHop")

# What each kind can find. A connectivity target may expect only Reachable or Unreachable:
# Degraded and Unknown are findings, not intentions (shared/target_list/ enforces it).
CONNECTIVITY_STATUSES = ("Reachable", "Unreachable", "Degraded", "Unknown")
IP_FLOW_STATUSES = ("Allow", "Deny")
NEXT_HOP_TYPES = ("Internet", "VirtualAppliance", "VirtualNetworkGateway", "VnetLocal", "HyperNetGateway",
                  "VnetPeering", "None")
DEFAULT_EXPECT: dict[str, str] = {"connectivity": "Reachable", "ipFlow": "Allow"}  # nextHop: must be given


@dataclass(frozen=True)
class WatcherRef:
    """A Network Watcher: ``/subscriptions/{subscription}/resourceGroups/{resource_group}/.../{name}``."""

    subscription: str
    resource_group: str
    name: str

    @property
    def resource_id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.Network/networkWatchers/{self.name}")


@dataclass(frozen=True)
class AlertSettings:
    failure_threshold: int = 2  # consecutive unhealthy results before an alert fires
    success_threshold: int = 2  # consecutive healthy results before it resolves
    repeat_interval_s: int = 4 * 3600  # reminder while firing
    latency_threshold_ms: int | None = None  # above it a Reachable result is a warning
    # consecutive Error/Timeout/Unknown results before the check-health alert fires: a little more
    # patient than a network alert, as ARM hiccups are common and retried anyway
    check_health_threshold: int = 3


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # index = datetime.weekday()


@dataclass(frozen=True)
class Window:
    """A one-off silence from ``start`` up to (not including) ``end``, both UTC instants."""

    start: dt.datetime
    end: dt.datetime
    reason: str | None = None


@dataclass(frozen=True)
class Recurring:
    """A silence on each of ``days`` from ``start`` to ``end``, wall-clock time in ``time_zone``
    (an IANA name). An ``end`` at or before ``start`` is on the next day, so 22:00-02:00 crosses
    midnight and 00:00-00:00 is the whole day."""

    days: tuple[str, ...]  # in week order, from WEEKDAYS
    start: dt.time
    end: dt.time
    time_zone: str = "UTC"
    reason: str | None = None


# While a silence is active, checks still run and are recorded and alert state still moves; only
# notifications are held back (shared/alerts).
Silence = Window | Recurring


@dataclass(frozen=True)
class Connectivity:
    """connectivityCheck from ``source_vm`` to a resource id or an address (IP, host name, URL)."""

    destination_resource_id: str | None = None
    destination_address: str | None = None
    port: int = 0
    protocol: str | None = None  # Tcp | Http | Https | Icmp
    source_port: int | None = None


@dataclass(frozen=True)
class IpFlow:
    """ipFlowVerify of a 5-tuple in or out of ``source_vm``'s NIC."""

    direction: str  # Inbound | Outbound
    protocol: str  # TCP | UDP
    local_ip: str
    local_port: str
    remote_ip: str
    remote_port: str  # a port or a range "80-120"
    nic_resource_id: str | None = None


@dataclass(frozen=True)
class NextHop:
    """nextHop from ``source_vm`` for traffic from ``source_ip`` to ``destination_ip``."""

    source_ip: str
    destination_ip: str
    nic_resource_id: str | None = None


@dataclass(frozen=True)
class Target:
    name: str
    kind: Kind
    source_vm: str  # ARM id of the VM the check runs from (connectivity) or on (ipFlow, nextHop)
    spec: Connectivity | IpFlow | NextHop
    expect: str
    interval_s: int = 300
    watcher: WatcherRef | None = None  # None: NetworkWatcher_<region> in NetworkWatcherRG of source_vm
    owner: str | None = None
    tags: tuple[tuple[str, str], ...] = field(default=())
    alert: AlertSettings = field(default_factory=AlertSettings)
    silences: tuple[Silence, ...] = ()  # this target's own; the list's global ones apply as well

    @property
    def subscription(self) -> str:
        """The source VM's subscription (ARM ids: /subscriptions/{id}/...)."""
        return self.source_vm.split("/")[2]
