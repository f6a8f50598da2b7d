"""The seed walkthroughs' requests, as (name, operation, body) against the ``seed`` scenario.

Used by ``make demo`` and by the tests that run Azure's own client against the emulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
WATCHER_RG = "NetworkWatcherRG"
WATCHER = "NetworkWatcher_westcentralus"
REGION = "westcentralus"
_VMS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ContosoRG/providers/Microsoft.Compute/virtualMachines"
MULTI_TIER_APP0 = f"{_VMS}/MultiTierApp0"
DATABASE0 = f"{_VMS}/Database0"


@dataclass(frozen=True)
class SeedCase:
    name: str
    operation: str  # connectivityCheck | ipFlowVerify | nextHop
    body: dict[str, Any]
    expected_status: str  # connectionStatus, access or nextHopType


SEED_CASES: tuple[SeedCase, ...] = (
    SeedCase("app-to-db-port80", "connectivityCheck",
             {"source": {"resourceId": MULTI_TIER_APP0, "port": 0},
              "destination": {"resourceId": DATABASE0, "port": 80}}, "Unreachable"),
    SeedCase("app-to-13.107.21.200", "connectivityCheck",
             {"source": {"resourceId": MULTI_TIER_APP0, "port": 0},
              "destination": {"address": "13.107.21.200", "port": 80}}, "Unreachable"),
    SeedCase("app-to-bing", "connectivityCheck",
             {"source": {"resourceId": MULTI_TIER_APP0, "port": 0},
              "destination": {"address": "https://bing.com", "port": 0}}, "Reachable"),
    SeedCase("app-to-blob", "connectivityCheck",
             {"source": {"resourceId": MULTI_TIER_APP0, "port": 0},
              "destination": {"address": "https://build2017nwdiag360.blob.core.windows.net/", "port": 0}},
             "Reachable"),
    SeedCase("app-out-443", "ipFlowVerify",
             {"targetResourceId": MULTI_TIER_APP0, "direction": "Outbound", "protocol": "TCP",
              "localIPAddress": "10.1.1.4", "localPort": "60000",
              "remoteIPAddress": "13.107.21.200", "remotePort": "443"}, "Allow"),
    SeedCase("internet-in-3389", "ipFlowVerify",
             {"targetResourceId": MULTI_TIER_APP0, "direction": "Inbound", "protocol": "TCP",
              "localIPAddress": "10.1.1.4", "localPort": "3389",
              "remoteIPAddress": "203.0.113.10", "remotePort": "50000"}, "Deny"),
    SeedCase("app-nexthop-db", "nextHop",
             {"targetResourceId": MULTI_TIER_APP0, "sourceIPAddress": "10.1.1.4",
              "destinationIPAddress": "10.1.4.4"}, "VirtualAppliance"),
)
