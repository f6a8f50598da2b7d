"""Upload calls per 1,000 results: the ingest stage's batching, on Azurite and the emulator.

    .venv/bin/python -m benchmarks.ingest_calls [--results 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from dataclasses import replace

from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from emulator.azurite import Azurite
from emulator.stack import Emulator
from shared import storage
from shared.ingest import ResultsDrain
from shared.results import CheckResult, Finding, Hop, Issue


def _result(i: int) -> CheckResult:
    issue = Issue("Outbound", "Error", "NetworkSecurityRule", (("RuleName", "UserRule_Port80"),))
    hops = (Hop("Source", "10.1.1.4", "appNic0", (), ("a",), "s"), Hop("VirtualAppliance", "10.1.3.4", "auNic",
                                                                     (issue,), (), "a"))
    return CheckResult(check_id=f"bench-{i}", target=f"t{i % 50}", kind="connectivity", trigger="schedule",
                       correlation_id=None, expected="Reachable",
                       finding=Finding("Unreachable", probes_sent=100, probes_failed=100, hops=hops,
                                       rule_name="UserRule_Port80", blocking_hop="10.1.3.4",
                                       issue_type="NetworkSecurityRule"),
                       scheduled=None, started="2026-11-22T10:00:00.000Z", completed="2026-11-22T10:00:03.000Z",
                       polls=3, network_watcher=None, source_resource_id="/subscriptions/x/vm", destination="10.1.4.4",
                       port=80, protocol=None, direction=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    calls, seconds = [], []
    with Emulator("seed") as emu, Azurite() as azurite:
        client = LogsIngestionClient(emu.ingestion_server.url, ManagedIdentityCredential(
            client_id=emu.identity.client_id), retry_total=0, connection_verify=str(emu.tls.ca_cert))
        os.environ.update(emu.settings())
        for _ in range(args.runs):
            name = f"bench-{uuid.uuid4().hex[:8]}"
            queue = QueueClient.from_connection_string(azurite.connection_string, name,
                                                       message_encode_policy=TextBase64EncodePolicy(),
                                                       message_decode_policy=TextBase64DecodePolicy())
            queue.create_queue()
            poison = QueueClient.from_connection_string(azurite.connection_string, f"{name}-poison")
            poison.create_queue()
            for i in range(args.results):
                storage.send(queue, replace(_result(i), check_id=f"{name}-{i}").to_message())
            emu.ingestion.clear()
            drain = ResultsDrain(queue, poison, client, emu.ingestion.rule_id, "Custom-NetworkWatcherCheck",
                                 max_dequeue=5)
            started = time.perf_counter()
            while drain.run().received:
                pass
            seconds.append(time.perf_counter() - started)
            assert len(emu.ingestion.rows_of("Custom-NetworkWatcherCheck")) == args.results
            calls.append(emu.ingestion.calls * 1000 / args.results)
    print("| measure | value |\n|---|---|")
    print(f"| upload calls per 1,000 results (batches of 256) | {statistics.median(calls):g} "
          f"(min {min(calls):g}, max {max(calls):g}) |")
    print(f"| seconds to drain {args.results} results from Azurite into the emulator | "
          f"{statistics.median(seconds):.2f} (min {min(seconds):.2f}, max {max(seconds):.2f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
