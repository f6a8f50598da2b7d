"""``nwcheck run`` through the installed command against the emulator: statuses, the blocking hop
marked with its rule or route, exit codes, target selection, faults, Retry-After and concurrency."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator.seed_cases import SEED_CASES
from emulator.stack import Emulator
from tests.cli.conftest import CASES, NWCHECK, SAMPLE, Cli, expected_lines

SEED = {case.name: case.expected_status for case in SEED_CASES}
EXPECT = {"app-to-db-port80": "Reachable", "app-to-13.107.21.200": "Reachable", "app-to-bing": "Reachable",
          "app-to-blob": "Reachable", "app-out-443": "Allow", "internet-in-3389": "Deny",
          "app-nexthop-db": "VirtualAppliance"}
HEALTHY = [name for name in EXPECT if SEED[name] == EXPECT[name]]
KINDS = {"connectivityCheck": "connectivity", "ipFlowVerify": "ipFlow", "nextHop": "nextHop"}


def table_row(out: str, name: str) -> list[str]:
    """The cells of a target's line of the results table (split on runs of 2+ spaces)."""
    lines = [line for line in out.splitlines() if line.startswith(f"{name}  ")]
    assert len(lines) == 1, (name, out)
    return re.split(r"\s{2,}", lines[0].strip())


def posts(emu: Emulator) -> list[str]:
    return [r.target for r in emu.arm_server.requests if r.method == "POST"]


def polls(emu: Emulator) -> list[float]:
    return [r.at for r in emu.arm_server.requests if r.method == "GET" and "/operationResults/" in r.target]


def test_seed_targets_print_their_statuses_mark_the_blocking_hops_and_exit_1(cli: Cli, emu: Emulator) -> None:
    run = cli("run", "--targets", str(SAMPLE), "--all")
    assert run.code == 1, run  # two targets expect paths the seed network blocks
    for case in SEED_CASES:
        cells = table_row(run.out, case.name)
        verdict = "yes" if SEED[case.name] == EXPECT[case.name] else "NO"
        assert cells[1:5] == [KINDS[case.operation], case.expected_status, EXPECT[case.name], verdict], cells
    assert table_row(run.out, "app-to-db-port80")[-1] == "hop 10.1.3.4 NetworkSecurityRule rule UserRule_Port80"
    assert table_row(run.out, "internet-in-3389")[-1] == "rule defaultSecurityRules/DefaultInboundDenyAll"
    assert table_row(run.out, "app-nexthop-db")[-1].startswith("next hop 10.1.2.4")
    # The hop paths: the blocking hop marked, with its rule (NSG) or route (UDR); no other hop marked.
    marked = [line for line in run.out.splitlines() if "<== blocking" in line]
    assert len(marked) == 2, run
    assert re.fullmatch(r"\s*>>\s+3\s+VirtualAppliance\s+10\.1\.3\.4\s+NetworkSecurityRule rule UserRule_Port80 "
                        r"\(Outbound, Error\)\s+<== blocking", marked[0]), marked
    assert re.fullmatch(r"\s*>>\s+1\s+Source\s+10\.1\.1\.4\s+UserDefinedRoute route User \(Outbound, Error\)\s+"
                        r"<== blocking", marked[1]), marked
    path = run.out.split("app-to-db-port80: Unreachable, expected Reachable (MultiTierApp0 -> Database0:80)\n")[1]
    hops = [re.split(r"\s{2,}", line.strip()) for line in path.split("\n\n")[0].splitlines()[1:]]
    assert [h[-2:] if h[0] != ">>" else h[2:4] for h in hops] == [
        ["Source", "10.1.1.4"], ["VirtualAppliance", "10.1.2.4"], ["VirtualAppliance", "10.1.3.4"],
        ["VnetLocal", "10.1.4.4"]]
    assert "7 check(s)" in run.out and "5 as expected, 2 differ, 0 could not tell" in run.out
    assert len(posts(emu)) == 7


def test_json_output_has_each_result_in_its_message_form(cli: Cli) -> None:
    run = cli("run", "--targets", str(SAMPLE), "--all", "--output", "json")
    assert run.code == 1, run
    data = json.loads(run.out)
    results = {r["target"]: r for r in data["results"]}
    assert {name: r["finding"]["status"] for name, r in results.items()} == SEED
    assert {name: r["healthy"] for name, r in results.items()} == {n: n in HEALTHY for n in SEED}
    blocked = results["app-to-db-port80"]["finding"]
    assert (blocked["blocking_hop"], blocked["rule_name"], blocked["issue_type"]) == (
        "10.1.3.4", "UserRule_Port80", "NetworkSecurityRule")
    assert results["app-to-13.107.21.200"]["finding"]["route_type"] == "User"
    assert data["summary"] == {**data["summary"], "checks": 7, "asExpected": 5, "differ": 2, "couldNotTell": 0,
                               "exitCode": 1}
    assert all(r["check_id"].startswith("cli-") for r in data["results"])


def test_only_healthy_targets_exit_0_and_only_the_named_ones_run(cli: Cli, emu: Emulator) -> None:
    run = cli("run", "--targets", str(SAMPLE), "APP-OUT-443", "internet-in-3389", "app-nexthop-db", "app-to-b*")
    assert run.code == 0, run
    names = [line.split()[0] for line in run.out.splitlines()[1:] if line and not line.startswith(" ")]
    assert set(HEALTHY) <= set(names)
    assert len(posts(emu)) == len(HEALTHY) == 5
    assert "<== blocking" not in run.out


def test_the_target_list_defaults_to_targets_path(cli: Cli) -> None:
    run = cli("run", "app-to-bing", env={"TARGETS_PATH": str(SAMPLE)})
    assert run.code == 0, run
    assert table_row(run.out, "app-to-bing")[2] == "Reachable"


@pytest.mark.parametrize("case", ["invalid-version.yaml", "invalid-yaml-syntax.yaml", "invalid-top-level-key.yaml",
                                  "invalid-empty.yaml"])
def test_a_target_list_that_cannot_be_used_exits_2_with_the_parsers_message(cli: Cli, emu: Emulator,
                                                                            case: str) -> None:
    path = CASES / case
    run = cli("run", "--targets", str(path), "--all")
    assert run.code == 2, run
    raised = expected_lines(path, "raises")
    assert raised
    for message in raised:
        assert f"nwcheck run: {path}: {message}" in run.err.splitlines(), run
    assert run.out == "" and emu.arm_server.requests == []


def test_usage_errors_exit_2_and_reach_no_endpoint(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    cases = {
        ("run", "--targets", str(tmp_path / "missing.yaml"), "--all"): "cannot read the target list",
        ("run", "--all"): "no target list: give --targets FILE or set TARGETS_PATH",
        ("run", "--targets", str(SAMPLE)): "name the targets to check",
        ("run", "--targets", str(SAMPLE), "--all", "app-to-bing"): "give target names or --all, not both",
        ("run", "--targets", str(SAMPLE), "app-to-bing", "app-to-dbport80"):
            "no target named 'app-to-dbport80' in the target list (did you mean app-to-db-port80",
        ("run", "--targets", str(SAMPLE), "nothing-*"): "no target matches 'nothing-*'",
        ("run", "--targets", str(SAMPLE), "--all", "--timeout", "0"): "must be greater than 0",
        ("run", "--targets", str(SAMPLE), "--all", "--parallel", "many"): "not a number",
    }
    for args, message in cases.items():
        run = cli(*args)
        assert run.code == 2, (args, str(run))
        assert message in run.err, (args, str(run))
    assert emu.arm_server.requests == []


def test_an_invalid_target_cannot_be_named_but_the_valid_ones_of_its_list_run(cli: Cli, emu: Emulator) -> None:
    path = CASES / "invalid-many-errors.yaml"
    named = cli("run", "--targets", str(path), "app-to-db", "app-nexthop-db")
    assert named.code == 2, named
    assert "target 'app-to-db' is invalid and cannot run" in named.err
    assert "targets[app-to-db].expect: must be one of Reachable, Unreachable" in named.err
    assert emu.arm_server.requests == []
    rest = cli("run", "--targets", str(path), "--all")
    assert rest.code == 0, rest
    assert table_row(rest.out, "app-nexthop-db")[2] == "VirtualAppliance"
    for error in expected_lines(path, "error"):
        assert f"warning: {path}: {error} (target skipped)" in rest.err.splitlines()


def test_an_arm_refusal_ends_the_check_as_error_and_exits_3(cli: Cli, emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="status", operation="connectivityCheck", status=403,
                   code="AuthorizationFailed", message="The client has no permission.", count=None)
    run = cli("run", "--targets", str(SAMPLE), "app-to-bing", "app-out-443")
    assert run.code == 3, run
    cells = table_row(run.out, "app-to-bing")
    assert cells[2] == "Error" and cells[4] == "-"
    assert cells[-1] == "AuthorizationFailed: The client has no permission."
    assert table_row(run.out, "app-out-443")[2] == "Allow"
    assert "1 could not tell" in run.out


def test_a_result_that_differs_wins_over_one_that_could_not_run(cli: Cli, emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="status", operation="ipFlowVerify", status=403, code="AuthorizationFailed",
                   count=None)
    run = cli("run", "--targets", str(SAMPLE), "app-to-db-port80", "app-out-443")
    assert run.code == 1, run
    assert table_row(run.out, "app-out-443")[2] == "Error"


def test_an_operation_that_never_completes_times_out_and_exits_3(cli: Cli, emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="never_complete", operation="nextHop", count=None)
    run = cli("run", "--targets", str(SAMPLE), "app-nexthop-db", "app-to-bing", "--timeout", "3")
    assert run.code == 3, run
    cells = table_row(run.out, "app-nexthop-db")
    assert cells[2] == "Timeout" and "did not finish by its deadline" in cells[-1]
    assert table_row(run.out, "app-to-bing")[2] == "Reachable"
    assert 1 <= len(polls(emu)) - 1 <= 4  # polled about once a second (Retry-After 1) until the deadline


def test_unreachable_arm_is_an_error_result_not_a_crash(cli: Cli, emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="reset", count=None)
    run = cli("run", "--targets", str(SAMPLE), "app-to-bing", "--timeout", "5",
              env={"MAX_ATTEMPTS": "2", "BACKOFF_BASE_S": "1"})
    assert run.code == 3, run
    cells = table_row(run.out, "app-to-bing")
    assert cells[2] == "Error" and cells[-1].startswith("ConnectionError: gave up after 2 tries"), cells
    assert "Traceback" not in run.err


def test_throttling_is_retried_after_retry_after(cli: Cli, emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="status", operation="connectivityCheck", status=429, code="TooManyRequests",
                   retry_after=2, count=1)
    run = cli("run", "--targets", str(SAMPLE), "app-to-bing")
    assert run.code == 0, run
    starts = [r.at for r in emu.arm_server.requests if r.method == "POST"]
    assert len(starts) == 2
    assert starts[1] - starts[0] >= 1.9  # waited the Retry-After the 429 asked for


def test_polls_honor_retry_after_and_checks_run_concurrently(cli: Cli, emu: Emulator) -> None:
    emu.arm.lro.operation_seconds, emu.arm.lro.retry_after_s = 2.5, 2
    run = cli("run", "--targets", str(SAMPLE), "--all", "--parallel", "7")
    assert run.code == 1, run
    requests = [r for r in emu.arm_server.requests if r.method == "POST" or "/operationResults/" in r.target]
    # Seven checks at once: every operation started before any was polled ...
    assert [r.method for r in requests[:7]] == ["POST"] * 7
    # ... and each Location was polled Retry-After (2 s) apart, not sooner.
    by_location: dict[str, list[float]] = {}
    for r in requests[7:]:
        by_location.setdefault(r.target, []).append(r.at)
    assert len(by_location) == 7
    for times in by_location.values():
        assert len(times) == 2  # 202 at 2 s, 200 at 4 s
        assert times[1] - times[0] >= 1.9


def test_one_check_at_a_time_with_parallel_1(cli: Cli, emu: Emulator) -> None:
    run = cli("run", "--targets", str(SAMPLE), "app-to-bing", "app-to-blob", "--parallel", "1")
    assert run.code == 0, run
    methods = [r.method for r in emu.arm_server.requests if r.method == "POST" or "/operationResults/" in r.target]
    assert methods == ["POST", "GET", "POST", "GET"]


def from_a_terminal(*command: str) -> list[str]:
    """``command`` with SIGINT at its default disposition, as a shell in a terminal starts it. A test
    run started in the background (`make test &`, nohup) ignores SIGINT, every child inherits that,
    and Python installs no KeyboardInterrupt handler in a process that starts with SIGINT ignored.
    exec keeps the process id, so the test signals the command itself."""
    reset = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
    return [sys.executable, "-c", reset, *command]


def test_ctrl_c_stops_a_run_at_once_with_130(cli: Cli, emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="never_complete", count=None)
    process = subprocess.Popen(from_a_terminal(str(NWCHECK), "run", "--targets", str(SAMPLE), "--all"),  # noqa: S603
                               env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while len(polls(emu)) < 7 and time.monotonic() < deadline:  # every check started and waiting
            time.sleep(0.1)
        assert len(polls(emu)) >= 7
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, (out, err)
    assert time.monotonic() - interrupted < 5  # not after the 300 s timeout, nor after one more Retry-After round
    assert err == "nwcheck run: interrupted\n" and out == ""


def test_ctrl_c_stops_a_run_even_when_the_kernel_hands_it_to_a_worker_thread(cli: Cli, emu: Emulator) -> None:
    """A process-directed SIGINT goes to any thread that does not block it. Delivered to a worker,
    it was handled only when the main thread ran Python code again, which it did not while it slept
    on a future: the run went on to its timeout (this failed `test_ctrl_c_...` on a busy machine)."""
    emu.faults.add(service="arm", kind="never_complete", count=None)
    process = subprocess.Popen(from_a_terminal(str(NWCHECK), "run", "--targets", str(SAMPLE), "--all"),  # noqa: S603
                               env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while len(polls(emu)) < 7 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = [int(t) for t in os.listdir(f"/proc/{process.pid}/task") if int(t) != process.pid]
        assert workers, "the run has no worker thread"
        assert ctypes.CDLL(None, use_errno=True).tgkill(process.pid, workers[0], signal.SIGINT) == 0
        interrupted = time.monotonic()
        out, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 130, (out, err)
    assert time.monotonic() - interrupted < 5
    assert err == "nwcheck run: interrupted\n" and out == ""


def test_a_check_with_no_time_left_to_start_is_a_timeout_that_reaches_no_endpoint(cli: Cli, emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="never_complete", operation="connectivityCheck", count=None)
    # One at a time, in the list's order: app-to-bing takes the whole timeout, app-nexthop-db waits behind it.
    run = cli("run", "--targets", str(SAMPLE), "app-nexthop-db", "app-to-bing", "--parallel", "1", "--timeout", "2",
              "-o", "json")
    assert run.code == 3, run
    results = {r["target"]: r for r in json.loads(run.out)["results"]}
    assert (results["app-to-bing"]["finding"]["status"], results["app-to-bing"]["polls"] > 0) == ("Timeout", True)
    assert (results["app-nexthop-db"]["finding"]["status"], results["app-nexthop-db"]["polls"]) == ("Timeout", 0)
    assert results["app-nexthop-db"]["network_watcher"] is None  # not even resolved
    assert [p.rsplit("/", 1)[-1].split("?")[0] for p in posts(emu)] == ["connectivityCheck"]
