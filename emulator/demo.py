"""Until the check pipeline lands, ``make demo`` runs each seed case the way the seeds do it:
POST the operation, then GET its Location after Retry-After until it answers 200. Authentication
is the real azure-identity ManagedIdentityCredential against the emulator's identity endpoint.
"""

from __future__ import annotations

import os
import time
from typing import Any

import requests
from azure.identity import ManagedIdentityCredential

from emulator.seed_cases import SEED_CASES, SUBSCRIPTION, WATCHER, WATCHER_RG
from emulator.stack import Emulator

API_VERSION = "2026-01-01"


def _blocking(result: dict[str, Any]) -> str:
    for hop in result.get("hops", []):
        for issue in hop.get("issues", []):
            if issue.get("severity") == "Error":
                context = ", ".join(f"{c['key']}={c['value']}" for c in issue.get("context", []))
                return f"{hop.get('address')} {issue.get('type')} {context}"
    return result.get("ruleName") or result.get("routeTableId") or ""


def run_demo(emu: Emulator) -> int:
    credential = ManagedIdentityCredential(client_id=os.environ["AZURE_CLIENT_ID"])
    session = requests.Session()
    base = os.environ["ARM_ENDPOINT"]
    rows = []
    for case in SEED_CASES:
        token = credential.get_token("https://management.azure.com/.default").token
        headers = {"Authorization": f"Bearer {token}"}
        url = (f"{base}/subscriptions/{SUBSCRIPTION}/resourceGroups/{WATCHER_RG}/providers/Microsoft.Network/"
               f"networkWatchers/{WATCHER}/{case.operation}?api-version={API_VERSION}")
        started = time.monotonic()
        response = session.post(url, json=case.body, headers=headers, timeout=10)
        polls = 0
        while response.status_code == 202:
            time.sleep(int(response.headers.get("Retry-After", "1")))
            response = session.get(response.headers["Location"], headers=headers, timeout=10)
            polls += 1
        result = response.json()
        status = result.get("connectionStatus") or result.get("access") or result.get("nextHopType") or "?"
        rows.append((case.name, case.operation, status, case.expected_status, f"{polls}",
                     f"{time.monotonic() - started:.1f}s", _blocking(result)))
    header = ("case", "operation", "status", "expected", "polls", "took", "blocking hop / rule / route")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    mismatches = [r for r in rows if r[2] != r[3]]
    print(f"\n{len(rows)} seed cases, {len(rows) - len(mismatches)} as the seeds show them; "
          f"ARM answered {emu.arm.posts} POSTs and {sum(op.polls for op in emu.arm.operations.values())} polls.")
    return 1 if mismatches else 0
