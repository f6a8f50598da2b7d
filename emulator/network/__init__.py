"""The emulator's network model: a declarative scenario plus Azure's NSG and routing rules,
from which it answers Network Watcher's connectivityCheck, ipFlowVerify and nextHop.

Pure Python, no HTTP: the emulator's HTTP layer calls ``Network``'s methods.
"""

from __future__ import annotations

from .model import Scenario, parse_scenario, read_scenario_data
from .operations import Network, load_scenario

__all__ = ["Network", "Scenario", "load_scenario", "parse_scenario", "read_scenario_data"]
