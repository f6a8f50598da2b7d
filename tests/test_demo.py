"""`make demo` keeps working: the real functions, one sweep, one result per seed target, one investigation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_the_real_functions_end_to_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDENTITY_", "ARM_", "LOGS_", "REQUESTS_CA",
                                                                   "SSL_CERT", "NWCHECK", "Nwcheck", "TARGETS_"))}
    done = subprocess.run([sys.executable, "-m", "emulator", "demo", "--operation-seconds", "1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 checks requested by one sweep; 7 rows in NetworkWatcherCheck_CL" in done.stdout
    assert "10.1.3.4 NetworkSecurityRule UserRule_Port80" in done.stdout
    assert "Fired: app-to-db-port80: Unreachable, expected Reachable (hop 10.1.3.4, rule UserRule_Port80)" \
        in done.stdout
    assert "NetworkWatcherAlert_CL (2 rows)" in done.stdout
    assert "defaultSecurityRules/DefaultInboundDenyAll" in done.stdout
    # ... and an alert on Database0 through the investigations webhook, to its summary.
    assert "202 in" in done.stdout and "checks of app-to-db-port80, app-nexthop-db" in done.stdout
    assert ("Blocked: app-to-db-port80 is Unreachable (expected Reachable), at hop 10.1.3.4 by NSG rule "
            "UserRule_Port80") in done.stdout
    assert "NetworkWatcherInvestigation_CL: 1 row" in done.stdout
