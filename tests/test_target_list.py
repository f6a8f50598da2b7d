"""The target list: the sample, one file per bad case, the published schema, and fuzzing.

Each ``tests/target_lists/invalid-*.yaml`` states in its leading comments the exact errors
(``# error:`` for a skipped target, ``# raises:`` for a refused file), the targets that still run
(``# valid:``), and whether the rule is beyond JSON Schema (``# schema: blind``).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.seed_cases import DATABASE0, MULTI_TIER_APP0, REGION, SEED_CASES, SUBSCRIPTION, WATCHER, WATCHER_RG
from shared import target_list as tl
from shared.target_list import TargetError, TargetList, TargetListError, parse_target, parse_target_list
from shared.targets import (
    KINDS,
    NEXT_HOP_TYPES,
    WEEKDAYS,
    AlertSettings,
    Connectivity,
    IpFlow,
    NextHop,
    Recurring,
    WatcherRef,
    Window,
)

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "target_lists"
SAMPLE = ROOT / "targets.sample.yaml"
SCHEMA = json.loads((ROOT / "shared" / "schemas" / "target-list.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
INVALID = sorted(CASES.glob("invalid-*.yaml"))
VALID = [*sorted(CASES.glob("valid-*")), SAMPLE]
NIC = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ContosoRG/providers/Microsoft.Network/networkInterfaces/appNic0"
NW = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{WATCHER_RG}/providers/Microsoft.Network/networkWatchers/"
      f"{WATCHER}")
# The rules only the parser knows (see the schema's description); a schema-valid file may break them.
BLIND_REASONS = ("duplicates the name of", "range start must not exceed its end", "host name is",
                 "but the URL says port", "is in subscription", "is not a known time zone", "must be after start",
                 "is not a valid date and time")


def _expected(path: Path, tag: str) -> list[str]:
    prefix = f"# {tag}: "
    return [line[len(prefix):] for line in path.read_text().splitlines() if line.startswith(prefix)]


def _outcome(text: str | bytes, source: str = "<targets>") -> tuple[list[str], list[str], list[str]]:
    """(file errors, target errors, names of the targets that run)."""
    try:
        result = parse_target_list(text, source=source)
    except TargetListError as exc:
        return [str(e) for e in exc.errors], [], []
    return [], [str(e) for e in result.errors], [t.name for t in result.targets]


def _parser_valid(doc: Any) -> tuple[bool, list[TargetError]]:
    try:
        result = parse_target_list(json.dumps(doc))
    except TargetListError as exc:
        return False, list(exc.errors)
    return not result.errors, list(result.errors)


def _assert_agree(doc: Any) -> None:
    """The schema and the parser agree, except where the parser alone knows a rule; and each
    target of a readable file either runs or has errors, never both, never neither."""
    schema_valid = VALIDATOR.is_valid(doc)
    parser_valid, errors = _parser_valid(doc)
    if errors and errors[0].index is not None:
        runs = len(parse_target_list(json.dumps(doc)).targets)
        assert runs + len({e.index for e in errors}) == len(doc["targets"])
    if parser_valid:
        assert schema_valid, [e.message for e in VALIDATOR.iter_errors(doc)]
    elif schema_valid:
        assert errors and all(any(b in e.reason for b in BLIND_REASONS) for e in errors), [str(e) for e in errors]


def _sample() -> dict[str, Any]:
    data = yaml.safe_load(SAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def _target(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "app-to-db", "kind": "connectivity", "source": MULTI_TIER_APP0,
                            "destination": {"resourceId": DATABASE0, "port": 80}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def _flow(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "flow", "kind": "ipFlow", "vm": MULTI_TIER_APP0, "direction": "Inbound",
                            "protocol": "TCP", "local": {"ip": "10.1.1.4", "port": 3389},
                            "remote": {"ip": "203.0.113.10", "port": "50000"}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


# --------------------------------------------------------------------------- one file per bad case


def test_there_are_at_least_thirty_invalid_cases_each_stating_its_errors() -> None:
    assert len(INVALID) >= 30
    for path in INVALID:
        assert _expected(path, "error") or _expected(path, "raises"), path.name


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_case_gets_exactly_its_errors_and_the_valid_targets_still_run(path: Path) -> None:
    raised, errors, names = _outcome(path.read_text(), source=path.name)
    assert raised == _expected(path, "raises")
    assert errors == _expected(path, "error")
    assert names == _expected(path, "valid")


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_schema_rejects_each_invalid_case_unless_the_rule_is_beyond_it(path: Path) -> None:
    try:
        doc = tl.load_document(path.read_text())
    except TargetListError:
        return  # unreadable (syntax, aliases, duplicate keys): the schema never sees it
    blind = bool(_expected(path, "schema"))
    assert VALIDATOR.is_valid(doc) == blind, [e.message for e in VALIDATOR.iter_errors(doc)]


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_files_are_valid_for_the_parser_and_the_schema(path: Path) -> None:
    raised, errors, names = _outcome(path.read_bytes())
    assert (raised, errors) == ([], [])
    assert names
    VALIDATOR.validate(tl.load_document(path.read_text()))


# --------------------------------------------------------------------------- the sample


def test_sample_covers_every_seed_case_with_the_same_request() -> None:
    targets = parse_target_list(SAMPLE.read_text()).targets
    assert [t.name for t in targets] == [case.name for case in SEED_CASES]
    for case, target in zip(SEED_CASES, targets, strict=True):
        body = case.body
        if case.operation == "connectivityCheck":
            assert isinstance(target.spec, Connectivity)
            assert target.source_vm == body["source"]["resourceId"]
            dest = body["destination"]
            assert (target.spec.destination_resource_id, target.spec.destination_address, target.spec.port) == (
                dest.get("resourceId"), dest.get("address"), dest["port"])
        elif case.operation == "ipFlowVerify":
            assert isinstance(target.spec, IpFlow)
            assert target.source_vm == body["targetResourceId"]
            spec = target.spec
            assert (spec.direction, spec.protocol, spec.local_ip, spec.local_port, spec.remote_ip,
                    spec.remote_port) == (body["direction"], body["protocol"], body["localIPAddress"],
                                          body["localPort"], body["remoteIPAddress"], body["remotePort"])
        else:
            assert isinstance(target.spec, NextHop)
            assert target.source_vm == body["targetResourceId"]
            assert (target.spec.source_ip, target.spec.destination_ip) == (
                body["sourceIPAddress"], body["destinationIPAddress"])


def test_sample_expectations_alert_on_the_two_blocked_paths_and_keep_rdp_closed() -> None:
    expect = {t.name: t.expect for t in parse_target_list(SAMPLE.read_text()).targets}
    assert expect == {"app-to-db-port80": "Reachable", "app-to-13.107.21.200": "Reachable",
                      "app-to-bing": "Reachable", "app-to-blob": "Reachable", "app-out-443": "Allow",
                      "internet-in-3389": "Deny", "app-nexthop-db": "VirtualAppliance"}
    differs = {c.name for c in SEED_CASES if c.expected_status != expect[c.name]}
    assert differs == {"app-to-db-port80", "app-to-13.107.21.200"}


def test_sample_shows_derived_and_explicit_watchers_and_defaults_with_overrides() -> None:
    targets = parse_target_list(SAMPLE.read_text())
    db, hop = targets.by_name("app-to-db-port80"), targets.by_name("APP-NEXTHOP-DB")
    assert db is not None and hop is not None
    assert db.watcher is None  # derived later from the VM's region
    assert hop.watcher == WatcherRef(SUBSCRIPTION, WATCHER_RG, WATCHER)
    assert WATCHER == f"NetworkWatcher_{REGION}"
    assert (db.interval_s, hop.interval_s) == (60, 3600)
    assert db.tags == (("env", "demo"), ("tier", "data")) and db.owner == "team-db"
    assert hop.owner == "team-contoso-network"
    assert db.alert == AlertSettings(failure_threshold=2, success_threshold=2, repeat_interval_s=4 * 3600)
    bing = targets.by_name("app-to-bing")
    assert bing is not None and bing.alert.latency_threshold_ms == 200
    assert targets.by_name("no-such-target") is None


def test_the_same_list_as_json_gives_the_same_targets() -> None:
    as_json = json.dumps(_sample())
    assert parse_target_list(as_json) == parse_target_list(SAMPLE.read_text())
    assert parse_target_list(as_json.encode()) == parse_target_list(("\ufeff" + as_json).encode())


# --------------------------------------------------------------------------- the schema itself


def _ci(text: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) if c == "." else c for c in text)


def test_schema_is_a_valid_2020_12_schema_closed_everywhere_but_tags() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("type") == "object":
                # the target dispatcher: its kind's definition is closed, and so is it
                closed = "unevaluatedProperties" if where == "#/$defs/target" else "additionalProperties"
                assert node.get(closed) is False, where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(SCHEMA, "#")
    assert SCHEMA["$defs"]["tags"]["propertyNames"]["pattern"] == f"^(?:{tl.TAG_KEY})$"


def test_schema_patterns_are_the_parsers_patterns() -> None:
    defs = SCHEMA["$defs"]
    for name, pattern in (("name", tl.NAME), ("ipv4", tl.IPV4), ("address", tl.ADDRESS)):
        assert defs[name]["pattern"] == f"^(?:{pattern})$", name
    assert defs["interval"]["anyOf"][1]["pattern"] == f"^(?:{tl.INTERVAL})$"
    assert defs["repeatInterval"]["anyOf"][1]["pattern"] == f"^(?:{tl.REPEAT})$"
    for kind, ref in (("vm", "vmId"), ("nic", "nicId"), ("watcher", "watcherId")):
        provider, rtype, name, _ = tl.ARM_TYPES[kind]
        expected = (f"^(?:{_ci('/subscriptions/')}({tl.GUID}){_ci('/resourceGroups/')}({tl.RESOURCE_GROUP})"
                    f"{_ci(f'/providers/{provider}/{rtype}/')}({name}))$")
        assert defs[ref]["pattern"] == expected, kind
    assert defs["expect_nextHop"]["enum"] == list(NEXT_HOP_TYPES)


@pytest.mark.parametrize("doc", [
    {"version": 1, "targets": []},
    {"version": 1.0, "targets": [_target(interval=300.0, destination={"address": "10.1.4.4", "port": 80.0})]},
    {"version": True, "targets": []},
    {"version": 1, "targets": [], "$schema": ""},
    {"version": 1, "targets": [], "defaults": {}},
    {"version": 1, "targets": [], "defaults": None},
    {"version": 1, "targets": [_target(name="a\n")]},
    {"version": 1, "targets": [_target(source=MULTI_TIER_APP0 + "\n")]},
    {"version": 1, "targets": [_target(source=MULTI_TIER_APP0.upper().replace("0000", "AAAA"))]},
    {"version": 1, "targets": [_target(source=MULTI_TIER_APP0.replace("Microsoft", "Micro\u017foft"))]},
    {"version": 1, "targets": [_target(tags={"env\n": "x"})]},
    {"version": 1, "targets": [_target(tags={"env": "x\ny"})]},
    {"version": 1, "targets": [_target(tags={"env": ""})]},
    {"version": 1, "targets": [_target(kind="nextHop", vm=MULTI_TIER_APP0, sourceIp="10.1.1.4",
                                       destinationIp="10.1.4.4", source=None, destination=None)]},
    {"version": 1, "defaults": {"expect": {"nextHop": "None"}},
     "targets": [_target(kind="nextHop", vm=MULTI_TIER_APP0, sourceIp="10.1.1.4", destinationIp="10.1.4.4",
                         source=None, destination=None)]},
    {"version": 1, "targets": [_target(protocol="Icmp", destination={"address": "10.1.4.4"})]},
    {"version": 1, "targets": [_target(destination={"address": "https://x.example:8443/p?q=1"})]},
    {"version": 1, "targets": [_target(destination={"address": "http://user@x.example/"})]},
    {"version": 1, "targets": [_target(destination={"address": "https://x.example/#frag"})]},
    {"version": 1, "targets": [_target(destination={"address": "bing.com.", "port": 443})]},
    {"version": 1, "targets": [_target(interval="1440m"), _target(name="b", interval="24h")]},
    {"version": 1, "targets": [_target(interval="1441m")]},
    {"version": 1, "targets": [_target(interval="05m")]},
    {"version": 1, "targets": [_target(alert={"repeatInterval": "7d", "latencyThresholdMs": None})]},
    {"version": 1, "targets": [_target(alert={"repeatInterval": "169h"})]},
    {"version": 1, "targets": [_flow(direction="Outbound", local={"ip": "10.1.1.4", "port": "*"})]},
    {"version": 1, "targets": [_flow(remote={"ip": "203.0.113.10", "port": "*"})]},
    {"version": 1, "targets": [_flow(remote={"ip": "203.0.113.10", "port": "1024-65535"})]},
    {"version": 1, "targets": [_flow(remote={"ip": "203.0.113.10", "port": "080"})]},
    {"version": 1, "targets": [_flow(local={"ip": "010.1.1.4", "port": 1})]},
    {"version": 1, "targets": [_flow(watcher="auto", nic=NIC)]},
    {"version": 1, "targets": [_flow(watcher="Auto")]},
    {"version": 1, "targets": [{"name": "x", "kind": "ping", "vm": "?"}]},
], ids=lambda d: json.dumps(d)[:60])
def test_schema_and_parser_agree_on_edge_cases(doc: dict[str, Any]) -> None:
    _assert_agree(doc)


# --------------------------------------------------------------------------- values and defaults


def test_formats_of_intervals_and_ports_are_normalised() -> None:
    assert [parse_target(_target(interval=v)).interval_s for v in (60, "1m", "90m", "1h", "24h", "1d", 120.0)] \
        == [60, 60, 5400, 3600, 86_400, 86_400, 120]
    flow = parse_target(_flow(local={"ip": "10.1.1.4", "port": 3389.0}, remote={"ip": "203.0.113.10", "port": 0}))
    assert isinstance(flow.spec, IpFlow) and (flow.spec.local_port, flow.spec.remote_port) == ("3389", "0")
    assert flow.expect == "Allow"  # ipFlow's default


def test_target_settings_override_defaults_key_by_key() -> None:
    defaults = {"interval": "10m", "watcher": NW, "owner": "net", "tags": {"env": "prod", "team": "net"},
                "alert": {"failureThreshold": 3, "latencyThresholdMs": 250},
                "expect": {"connectivity": "Unreachable", "nextHop": "Internet"}}
    plain = parse_target(_target(), defaults)
    assert (plain.interval_s, plain.watcher, plain.owner, plain.expect) == (
        600, WatcherRef(SUBSCRIPTION, WATCHER_RG, WATCHER), "net", "Unreachable")
    assert plain.alert == AlertSettings(failure_threshold=3, latency_threshold_ms=250)
    own = parse_target(_target(interval="1m", watcher="auto", owner="db", tags={"team": "db"}, expect="Reachable",
                               alert={"successThreshold": 5, "latencyThresholdMs": None}), defaults)
    assert (own.interval_s, own.watcher, own.owner, own.expect) == (60, None, "db", "Reachable")
    assert own.tags == (("env", "prod"), ("team", "db"))
    assert own.alert == AlertSettings(failure_threshold=3, success_threshold=5, latency_threshold_ms=None)
    hop = parse_target({"name": "h", "kind": "nextHop", "vm": MULTI_TIER_APP0, "nic": NIC, "sourceIp": "10.1.1.4",
                        "destinationIp": "10.1.4.4"}, defaults)
    assert hop.expect == "Internet" and isinstance(hop.spec, NextHop) and hop.spec.nic_resource_id == NIC


def test_inline_target_without_defaults_gets_the_documented_ones() -> None:
    target = parse_target(_target(sourcePort=0, protocol="Http"))
    assert (target.interval_s, target.watcher, target.expect, target.alert, target.tags, target.owner) == (
        300, None, "Reachable", AlertSettings(), (), None)
    assert target.spec == Connectivity(destination_resource_id=DATABASE0, port=80, protocol="Http", source_port=0)
    assert target.subscription == SUBSCRIPTION


def test_arm_ids_are_case_insensitive_and_kept_as_written() -> None:
    lower = MULTI_TIER_APP0.lower()
    assert parse_target(_target(source=lower)).source_vm == lower


def test_error_text_names_target_field_and_reason() -> None:
    assert str(TargetError("app-to-db", "destination.port", "must be 0..65535 (got 70000)")) == \
        "targets[app-to-db].destination.port: must be 0..65535 (got 70000)"
    assert str(TargetError(None, "name", "is required", 3)) == "targets[#3].name: is required"
    assert str(TargetError(None, "version", "must be 1 (got 2)")) == "version: must be 1 (got 2)"
    with pytest.raises(TargetListError) as caught:
        parse_target(_target(destination={"resourceId": DATABASE0, "port": 70000}))
    assert str(caught.value) == "targets[app-to-db].destination.port: must be 0..65535 (got 70000)"
    assert isinstance(caught.value, ValueError)


# Inline targets (queue messages) with everything a YAML file cannot easily say.
INLINE_CASES: list[tuple[Any, Any, list[str]]] = [
    (None, None, ["must be a mapping (got null)"]),
    ([], None, ["must be a mapping (got a list)"]),
    ({}, None, ["name: is required", "kind: is required"]),
    ({"name": "x", "kind": "connectivity", "a b\nc": 1, "": 2}, None,
     ["targets[x]['a b\\nc']: unknown key (allowed: name, kind, expect, interval, watcher, owner, tags, alert, "
      "silences, source, sourcePort, destination, protocol)",
      "targets[x]['']: unknown key (allowed: name, kind, expect, interval, watcher, owner, tags, alert, "
      "silences, source, sourcePort, destination, protocol)",
      "targets[x].source: is required", "targets[x].destination: is required"]),
    ({"name": "x", "kind": "connectivity", 1: 2}, None,
     ["targets[x]: keys must be strings (got 1)", "targets[x].source: is required",
      "targets[x].destination: is required"]),
    (_target(name=True), None, ["name: must be a string (got true)"]),
    (_target(destination={"resourceId": DATABASE0, "port": True}), None,
     ["targets[app-to-db].destination.port: must be an integer 0..65535 (got true)"]),
    (_target(destination={"resourceId": DATABASE0, "port": 80.5}), None,
     ["targets[app-to-db].destination.port: must be an integer 0..65535 (got 80.5)"]),
    (_target(destination={"resourceId": DATABASE0, "port": 2**80}), None,
     ["targets[app-to-db].destination.port: must be 0..65535 (got a very large integer)"]),
    (_target(interval=float("nan")), None,
     ["targets[app-to-db].interval: must be whole minutes: '5m', '1h', '1d', or seconds like 300 (got nan)"]),
    (_target(interval=90), None, ["targets[app-to-db].interval: must be whole minutes (got 90 seconds)"]),
    (_target(interval=5), None,
     ["targets[app-to-db].interval: must be whole minutes (got 5 seconds); did you mean '5m'?"]),
    (_target(interval=-60), None, ["targets[app-to-db].interval: must be at least 1 minute (got -60 seconds)"]),
    (_target(interval=86_460), None, ["targets[app-to-db].interval: must be at most a day (got 86460 seconds)"]),
    (_target(interval="25h"), None, ["targets[app-to-db].interval: must be at most a day (got '25h')"]),
    (_target(alert={"repeatInterval": "8d"}), None,
     ["targets[app-to-db].alert.repeatInterval: must be at most 7 days (got '8d')"]),
    (_target(alert={"successThreshold": 101, "latencyThresholdMs": 0}), None,
     ["targets[app-to-db].alert.successThreshold: must be 1..100 (got 101)",
      "targets[app-to-db].alert.latencyThresholdMs: must be 1..60000 (got 0)"]),
    (_target(alert=[]), None, ["targets[app-to-db].alert: must be a mapping (got a list)"]),
    (_target(tags={"": "x"}), None,
     ["targets[app-to-db].tags: tag names must be 1 to 128 letters, digits, '_', '.', ':' or '-', starting with "
      "a letter or digit (got '')"]),
    (_target(tags={f"t{i}": "x" for i in range(51)}), None,
     ["targets[app-to-db].tags: must have at most 50 tags (got 51)"]),
    (_target(owner="x" * 300), None, ["targets[app-to-db].owner: must be at most 256 characters (got 300)"]),
    (_target(owner="a\tb"), None,
     ["targets[app-to-db].owner: must not contain control characters such as line breaks (got 'a\\tb')"]),
    (_target(watcher="NetworkWatcher_westcentralus"), None,
     ["targets[app-to-db].watcher: must be 'auto' or a network watcher resource id: /subscriptions/{guid}/"
      "resourceGroups/{group}/providers/Microsoft.Network/networkWatchers/{name} "
      "(got 'NetworkWatcher_westcentralus')"]),
    (_target(watcher=NW.replace("NetworkWatcherRG", "bad rg")), None,
     ["targets[app-to-db].watcher: resource group 'bad rg' is not a valid resource group name"]),
    (_target(source=MULTI_TIER_APP0.replace("MultiTierApp0", "-app")), None,
     ["targets[app-to-db].source: '-app' is not a valid virtual machine name"]),
    (_target(source="MultiTierApp0"), None,
     ["targets[app-to-db].source: must be a virtual machine resource id: /subscriptions/{guid}/resourceGroups/"
      "{group}/providers/Microsoft.Compute/virtualMachines/{name} (got 'MultiTierApp0')"]),
    (_target(destination={"address": "https://x.example/#top"}), None,
     ["targets[app-to-db].destination.address: must not have a fragment (#...) (got 'https://x.example/#top')"]),
    (_target(destination={"address": "https://x .example/"}), None,
     ["targets[app-to-db].destination.address: is not a valid URL (a host name or IPv4 address, an optional "
      "port, path and query) (got 'https://x .example/')"]),
    (_target(destination={"address": "x" * 3000, "port": 1}), None,
     ["targets[app-to-db].destination.address: must be at most 2048 characters (got 3000)"]),
    (_target(destination={"address": "", "port": 1}), None,
     ["targets[app-to-db].destination.address: must not be empty"]),
    (_target(destination={"address": "2001:db8::1", "port": 1}), None,
     ["targets[app-to-db].destination.address: must be an IPv4 address, a host name or an http(s) URL "
      "(got '2001:db8::1')"]),
    (_target(destination={"port": 80}), None,
     ["targets[app-to-db].destination: needs exactly one of resourceId (a VM) or address (an IP, host name or "
      "URL)"]),
    (_target(destination="10.1.4.4:80"), None,
     ["targets[app-to-db].destination: must be a mapping (got '10.1.4.4:80')"]),
    (_target(sourcePort=-1), None, ["targets[app-to-db].sourcePort: must be 0..65535 (got -1)"]),
    (_flow(local={"ip": "10.1.1.4"}, remote={"ip": "203.0.113.10", "port": [80]}), None,
     ["targets[flow].local.port: is required",
      "targets[flow].remote.port: must be a port 0..65535, a range like '1024-65535' or '*' (got a list)"]),
    (_flow(remote={"ip": "203.0.113.10", "port": "80-"}), None,
     ["targets[flow].remote.port: must be a port 0..65535, a range like '1024-65535' or '*' (got '80-')"]),
    (_flow(direction="Outbound", remote={"ip": "::1", "port": "*"}), None,
     ["targets[flow].remote.ip: must be an IPv4 address like 10.1.1.4 (got '::1')",
      "targets[flow].remote.port: '*' is only allowed for the source side of the flow (local when Outbound, "
      "remote when Inbound)"]),
    (_flow(nic=MULTI_TIER_APP0), None,
     [f"targets[flow].nic: is a Microsoft.Compute/virtualMachines resource id, not a network interface (got "
      f"'{MULTI_TIER_APP0[:77]}...')"]),
    (_flow(kind="nextHop"), None,
     ["targets[flow].direction: unknown key (allowed: name, kind, expect, interval, watcher, owner, tags, alert, "
      "silences, vm, nic, sourceIp, destinationIp)",
      "targets[flow].protocol: unknown key (allowed: name, kind, expect, interval, watcher, owner, tags, alert, "
      "silences, vm, nic, sourceIp, destinationIp)",
      "targets[flow].local: unknown key (allowed: name, kind, expect, interval, watcher, owner, tags, alert, "
      "silences, vm, nic, sourceIp, destinationIp)",
      "targets[flow].remote: unknown key (allowed: name, kind, expect, interval, watcher, owner, tags, alert, "
      "silences, vm, nic, sourceIp, destinationIp)",
      "targets[flow].expect: is required for kind nextHop (one of Internet, VirtualAppliance, "
      "VirtualNetworkGateway, VnetLocal, HyperNetGateway, VnetPeering, None), here or in "
      "defaults.expect.nextHop",
      "targets[flow].sourceIp: is required", "targets[flow].destinationIp: is required"]),
    (_target(), {"interval": "1s"},
     ["defaults.interval: must be whole minutes: '5m', '1h', '1d', or seconds like 300 (got '1s')"]),
    (_target(), {"expect": {"connectivity": "Allow", "ping": "x"}},
     ["defaults.expect.ping: unknown key (allowed: connectivity, ipFlow, nextHop)",
      "defaults.expect.connectivity: must be one of Reachable, Unreachable (got 'Allow')"]),
    (_target(), [], ["defaults: must be a mapping (got a list)"]),
]


@pytest.mark.parametrize(("data", "defaults", "expected"), INLINE_CASES, ids=lambda v: repr(v)[:50])
def test_inline_target_errors(data: Any, defaults: Any, expected: list[str]) -> None:
    with pytest.raises(TargetListError) as caught:
        parse_target(data, defaults)
    assert [str(e) for e in caught.value.errors] == expected
    assert str(caught.value) == "\n".join(expected)


# --------------------------------------------------------------------------- reading the text


@pytest.mark.parametrize(("text", "expected"), [
    (b"", "t.yaml: is empty; expected a mapping with 'version' and 'targets'"),
    ("null", "t.yaml: is empty; expected a mapping with 'version' and 'targets'"),
    ("42", "t.yaml: must be a mapping (got 42)"),
    (b"\xff\xfeversion: 1", "t.yaml: is not UTF-8 text (invalid start byte at byte 0)"),
    ('{"version": 1, "version": 1, "targets": []}', "t.yaml: not valid JSON: duplicate key 'version'"),
    ('{"version": 1, "targets": [}', "t.yaml: not valid JSON: Expecting value: line 1 column 28 (char 27)"),
    ("version: 1\ntargets: [\n", "t.yaml: not valid YAML: expected the node content, but found "
                                 "'<stream end>' (line 3, column 1)"),
    ("version: 1\ntargets: []\nversion: 1\n", "t.yaml: not valid YAML: duplicate key 'version' (line 3, column 1)"),
    ("version: 1\ntargets: []\n? [a]\n: b\n", "t.yaml: not valid YAML: found unhashable key (line 3, column 3)"),
    ("version: !!python/object:os.system x\ntargets: []\n",
     "t.yaml: not valid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:"
     "os.system' (line 1, column 10)"),
    ("version: 1\ntargets: []\n1: x\n", "t.yaml: keys must be strings (got 1)"),
    ("version: 1\ntargets: []\ndefaults: {interval: 2024-01-01}\n",
     "t.yaml: defaults.interval: must be whole minutes: '5m', '1h', '1d', or seconds like 300 (got a date)"),
    ("[" * 100_000, None),
    ("version: 1\ntargets:\n" + "  - " * 10_000 + "x\n", None),
    ("x" * (tl.MAX_BYTES + 1), f"t.yaml: is {tl.MAX_BYTES + 1} bytes long; at most {tl.MAX_BYTES} are accepted"),
    ('{"version": 1, "targets": [], "x": ' + "9" * 5000 + "}", None),
], ids=lambda v: repr(v)[:40])
def test_unreadable_text_is_refused_with_the_reason(text: str | bytes, expected: str | None) -> None:
    with pytest.raises(TargetListError) as caught:
        parse_target_list(text, source="t.yaml")
    if expected is not None:
        assert str(caught.value) == expected
    assert str(caught.value).startswith("t.yaml: ")


def test_yaml_aliases_and_merge_keys_work() -> None:
    result = parse_target_list(f"""
version: 1
targets:
  - &first
    <<: {{kind: connectivity, source: {MULTI_TIER_APP0}, destination: {{address: bing.com, port: 443}}}}
    name: a
  - {{<<: *first, name: b}}
""")
    assert [t.name for t in result.targets] == ["a", "b"]
    assert result.targets[0].spec == result.targets[1].spec


def test_an_alias_bomb_is_read_without_expanding_it() -> None:
    # Each line doubles the expanded size: 2**40 leaves if copied; shared, it is a few lines.
    bomb = ["a0: &a0 [x, x]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 40)]
    text = ("version: 1\ntargets:\n  - name: t\n    kind: nextHop\n    expect: None\n    tags:\n"
            + "".join(f"      {line}\n" for line in bomb))
    errors = [str(e) for e in parse_target_list(text).errors]
    assert "targets[t].tags.a39: must be a string (got a list)" in errors
    assert len(errors) == 3 + 40  # vm, sourceIp, destinationIp, and each tag
    looped = parse_target_list("version: 1\ntargets: &t [*t]\n")  # a list that contains itself
    assert [str(e) for e in looped.errors] == ["targets[#0]: must be a mapping (got a list)"]


def test_an_empty_list_is_valid_and_checks_nothing() -> None:
    assert parse_target_list("version: 1\ntargets: []\n") == TargetList((), ())


# --------------------------------------------------------------------------- fuzzing

JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
JSONISH = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=25)
# Values that are valid somewhere, so mutations often reach the deeper rules.
TOKENS: st.SearchStrategy[Any] = st.sampled_from([
    "connectivity", "ipFlow", "nextHop", "Reachable", "Unreachable", "Allow", "Deny", "VirtualAppliance", "None",
    "Inbound", "Outbound", "TCP", "UDP", "Tcp", "Icmp", "auto", "5m", "1d", "25h", "0m", "*", "80", "1024-65535",
    "65535-1", "10.1.1.4", "256.1.1.1", "bing.com", "https://bing.com:443/", "ftp://x", "app-to-db",
    "App-To-Db", MULTI_TIER_APP0, DATABASE0, NIC, NW, NW.replace("0000", "1111"), "", "a\n", 0, 80, 65536,
    60, 300, 86_400, 90, 1, 100, 101, None, True, 3.0, [], {},
])
VALUES = st.one_of(TOKENS, JSONISH)


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*here, i))
    return found


@st.composite
def mutated_samples(draw: st.DrawFn) -> Any:
    doc: Any = copy.deepcopy(_sample())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(doc)))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["name", "kind", "expect", "nic", "vm", "protocol", "extra", "port"]))] = \
                draw(VALUES)
        else:
            parent[path[-1]] = draw(VALUES)
    return doc


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_VM_BASE = MULTI_TIER_APP0.rsplit("/", 1)[0]
_OTHER_SUB = "11111111-1111-1111-1111-111111111111"
_BAD: dict[str, list[Any]] = {  # per field: valid values and near misses, to probe each rule's edges
    "name": ["a", "A.b_c-1", "a" * 80, "a" * 81, "-a", "a b", "", 42, "\u00e9t\u00e9", "a\n"],
    "interval": [60, 86_400, 86_460, 59, 90, 120.0, 300.5, "1m", "1440m", "1441m", "24h", "25h", "1d", "2d",
                 "0m", "05m", "5 m", "5M", "90s", True, None],
    "watcher": ["auto", NW, NW.lower(), NW.replace(SUBSCRIPTION, _OTHER_SUB), NIC, "Auto", "", 1,
                NW.replace("NetworkWatcher_westcentralus", "nw-"), NW + "/"],
    "owner": ["x", "", "a" * 256, "a" * 257, "a\n", 1],
    "tags": [{}, {"env": "prod"}, {"env": 1}, {"": "x"}, {"a b": "x"}, {"env": "a" * 257}, {"env\n": "x"},
             [], {"k": ""}, {"k:v.w_x-y": "\u00e9"}, {f"t{i}": "x" for i in range(51)}],
    "alert": [{}, {"failureThreshold": 1}, {"failureThreshold": 100}, {"failureThreshold": 101},
              {"failureThreshold": 0}, {"successThreshold": 2.0}, {"successThreshold": "2"},
              {"repeatInterval": "7d"}, {"repeatInterval": "8d"}, {"repeatInterval": 604_800},
              {"repeatInterval": 604_860}, {"repeatInterval": "10080m"}, {"repeatInterval": "10081m"},
              {"repeatInterval": "168h"}, {"repeatInterval": "169h"}, {"latencyThresholdMs": None},
              {"latencyThresholdMs": 60_000}, {"latencyThresholdMs": 60_001}, {"x": 1}, None],
    "vm": [MULTI_TIER_APP0, MULTI_TIER_APP0.lower(), MULTI_TIER_APP0.upper(), NIC, "x", MULTI_TIER_APP0 + "/",
           MULTI_TIER_APP0.replace("ContosoRG", "rg."), MULTI_TIER_APP0.replace("ContosoRG", "a" * 90),
           MULTI_TIER_APP0.replace("ContosoRG", "a" * 91), f"{_VM_BASE}/{'v' * 64}", f"{_VM_BASE}/{'v' * 65}",
           f"{_VM_BASE}/-a", f"{_VM_BASE}/a_", f"{_VM_BASE}/a-", f"{_VM_BASE}/_a", f"{_VM_BASE}/a.b",
           MULTI_TIER_APP0.replace(SUBSCRIPTION, _OTHER_SUB), MULTI_TIER_APP0.replace("0000-0000-0000", "0000-0000")],
    "nic": [NIC, NIC.replace(SUBSCRIPTION, _OTHER_SUB), MULTI_TIER_APP0, NIC.replace("appNic0", "n" * 80),
            NIC.replace("appNic0", "n" * 81), ""],
    "ip": ["10.1.1.4", "0.0.0.0", "255.255.255.255", "256.1.1.1",  # noqa: S104 - an address to check, not to bind
           "10.1.1", "10.01.1.4", "::1", " 10.1.1.4", 10],
    "flowPort": [0, 80, 65535, 65536, -1, "80", "*", "1-2", "2-1", "65535", "65536", "080", "", " 80", 80.0,
                 True, "1024-65535", "0-0", "*-1"],
    "port": [0, 80, 65535, 65536, -1, "80", 80.0, True, None],
    "address": ["10.1.4.4", "bing.com", "https://bing.com", "http://bing.com:80/x?y=1", "https://bing.com:0",
                "https://bing.com:65536", "ftp://x.example", "https://u@x.example", "bing..com", "-bing.com",
                "bing.com-", "a" * 64 + ".com", "a" * 63 + ".com", "1.2.3.4.5", "256.0.0.1", "x.1com", "HTTPS://x.io",
                "https://10.1.4.4/", "https://x.io/a b", "https://x.io/#f", "https://x.io:8080", "db0", "x_y.com",
                ".".join(["a" * 63] * 4), "https://" + ".".join(["a" * 63] * 4) + "/"],
    "protocol": ["Tcp", "Http", "Https", "Icmp", "TCP", "tcp", 1],
    "flowProtocol": ["TCP", "UDP", "Tcp", "ICMP"],
    "direction": ["Inbound", "Outbound", "inbound", "Both"],
    "expect": ["Reachable", "Unreachable", "Degraded", "Allow", "Deny", "VirtualAppliance", "None", "Internet",
               "VnetPeering", "Firewall", None],
}


_GOOD: dict[str, Any] = {"interval": "5m", "watcher": NW, "owner": "team", "tags": {"env": "prod"},
                         "alert": {"failureThreshold": 3}}


@st.composite
def _field(draw: st.DrawFn, pool: str, good: Any) -> Any:
    """Usually ``good``; sometimes a value from the pool of edges and near misses (a document has a
    few dozen fields, so this makes about half of the documents valid)."""
    return draw(st.sampled_from(_BAD[pool])) if draw(st.integers(0, 19)) == 0 else good


@st.composite
def _endpoint(draw: st.DrawFn, ip: str, port: Any) -> Any:
    side = {"ip": draw(_field("ip", ip)), "port": draw(_field("flowPort", port))}
    return draw(st.sampled_from([side] * 18 + [{"ip": ip}, {**side, "x": 1}]))


@st.composite
def near_valid_targets(draw: st.DrawFn, index: int) -> Any:
    kind = draw(st.sampled_from(["connectivity", "ipFlow", "nextHop", "connectivity", "ipFlow", "nextHop", "ping"]))
    target: dict[str, Any] = {"name": draw(_field("name", f"t{index}")), "kind": kind}
    if kind == "connectivity":
        destination = draw(st.sampled_from([{"resourceId": DATABASE0}, {"address": draw(_field("address", "db0"))},
                                            {"address": draw(_field("address", "https://bing.com/"))}]
                                           * 6 + [{"resourceId": DATABASE0, "address": "10.1.4.4"}, {}]))
        if draw(st.integers(0, 9)):
            destination["port"] = draw(_field("port", 443))
        target |= {"source": draw(_field("vm", MULTI_TIER_APP0)), "destination": destination}
        for key, pool in (("protocol", "protocol"), ("sourcePort", "port"), ("expect", "expect")):
            if draw(st.booleans()):
                target[key] = draw(_field(pool, {"expect": "Reachable", "sourcePort": 0}.get(key, "Tcp")))
    elif kind == "ipFlow":
        direction = draw(_field("direction", "Inbound"))
        target |= {"vm": draw(_field("vm", MULTI_TIER_APP0)), "direction": direction,
                   "protocol": draw(_field("flowProtocol", "TCP")),
                   "local": draw(_endpoint("10.1.1.4", "*" if direction == "Outbound" else 3389)),
                   "remote": draw(_endpoint("203.0.113.10", "*" if direction == "Inbound" else "443"))}
        if draw(st.booleans()):
            target["expect"] = draw(_field("expect", "Deny"))
    else:
        target |= {"vm": draw(_field("vm", MULTI_TIER_APP0)), "sourceIp": draw(_field("ip", "10.1.1.4")),
                   "destinationIp": draw(_field("ip", "10.1.4.4"))}
        if draw(st.integers(0, 3)):
            target["expect"] = draw(_field("expect", "VnetLocal"))
    if kind != "connectivity" and draw(st.booleans()):
        target["nic"] = draw(_field("nic", NIC))
    for key, good in _GOOD.items():
        if draw(st.integers(0, 3)) == 0:
            target[key] = draw(_field(key, good))
    if draw(st.integers(0, 29)) == 0:
        del target[draw(st.sampled_from(sorted(target)))]
    if draw(st.integers(0, 29)) == 0:
        target[draw(st.sampled_from(["nic", "vm", "source", "port", "x"]))] = "x"
    return target


@st.composite
def near_valid_documents(draw: st.DrawFn) -> Any:
    doc: dict[str, Any] = {"version": draw(st.sampled_from([1] * 36 + [1.0, 2, True, "1"])),
                           "targets": [draw(near_valid_targets(i)) for i in range(draw(st.integers(1, 3)))]}
    if draw(st.booleans()):
        defaults: dict[str, Any] = {}
        for key, good in _GOOD.items():
            if draw(st.booleans()):
                defaults[key] = draw(_field(key, good))
        if draw(st.booleans()):
            defaults["expect"] = {kind: draw(_field("expect", tl.EXPECT[kind][-1])) if kind in tl.EXPECT else "x"
                                  for kind in draw(st.sets(st.sampled_from([*KINDS] * 10 + ["x"])))}
        doc["defaults"] = defaults
    return doc


def _edge_documents() -> list[tuple[str, dict[str, Any]]]:
    """Every near miss of _BAD, one at a time, in every place it may appear in a valid document."""
    conn = _target(name="c")
    flow_in, flow_out = _flow(name="i"), _flow(name="o", direction="Outbound", local={"ip": "10.1.1.4", "port": "*"},
                                               remote={"ip": "13.107.21.200", "port": 443})
    hop = {"name": "h", "kind": "nextHop", "vm": MULTI_TIER_APP0, "sourceIp": "10.1.1.4", "destinationIp": "10.1.4.4",
           "expect": "VnetLocal"}
    places: dict[str, list[tuple[dict[str, Any], tuple[str, ...]]]] = {
        "name": [(conn, ("name",))],
        "vm": [(conn, ("source",)), (conn, ("destination", "resourceId")), (flow_in, ("vm",)), (hop, ("vm",))],
        "nic": [(flow_in, ("nic",)), (hop, ("nic",))],
        "ip": [(flow_in, ("local", "ip")), (flow_out, ("remote", "ip")), (hop, ("sourceIp",)),
               (hop, ("destinationIp",))],
        "flowPort": [(flow_in, ("local", "port")), (flow_in, ("remote", "port")), (flow_out, ("local", "port")),
                     (flow_out, ("remote", "port"))],
        "port": [(conn, ("destination", "port")), (conn, ("sourcePort",))],
        "address": [({**conn, "destination": {"port": 443}}, ("destination", "address")),
                    ({**conn, "destination": {}}, ("destination", "address"))],
        "protocol": [(conn, ("protocol",)), ({**conn, "destination": {"address": "10.1.4.4"}}, ("protocol",))],
        "flowProtocol": [(flow_in, ("protocol",))],
        "direction": [(flow_in, ("direction",)), (flow_out, ("direction",))],
        "expect": [(conn, ("expect",)), (flow_in, ("expect",)), (hop, ("expect",))],
        **{key: [(conn, (key,)), ({}, ("defaults", key))] for key in _GOOD},
    }
    docs = []
    for pool, spots in places.items():
        for base, path in spots:
            for value in _BAD[pool]:
                target = copy.deepcopy(base)
                doc: dict[str, Any] = {"version": 1, "targets": [target or copy.deepcopy(conn)]}
                node = doc if path[0] == "defaults" else target
                for step in path[:-1]:
                    node = node.setdefault(step, {})
                node[path[-1]] = value
                docs.append((f"{pool}:{base.get('name', 'defaults')}.{'.'.join(path)}={value!r}"[:90], doc))
    return docs


EDGE_DOCUMENTS = _edge_documents()


@pytest.mark.parametrize("doc", [d for _, d in EDGE_DOCUMENTS], ids=[i for i, _ in EDGE_DOCUMENTS])
def test_schema_and_parser_agree_on_every_near_miss(doc: dict[str, Any]) -> None:
    _assert_agree(doc)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid_documents())
def test_fuzz_near_valid_documents_the_schema_and_the_parser_agree(doc: Any) -> None:
    _assert_agree(doc)


@FUZZ
@given(mutated_samples())
def test_fuzz_mutated_samples_get_errors_not_exceptions_and_the_schema_agrees(doc: Any) -> None:
    _assert_agree(doc)
    for text in (json.dumps(doc), yaml.safe_dump(doc)):
        try:
            result = parse_target_list(text)
        except TargetListError as exc:
            assert exc.errors and all(str(e) for e in exc.errors)
            continue
        assert len(result.targets) + len({e.index for e in result.errors}) >= len(doc["targets"])


@FUZZ
@given(st.dictionaries(st.sampled_from(["version", "defaults", "targets", "$schema", "other"]), VALUES, max_size=4)
       | JSONISH)
def test_fuzz_arbitrary_documents_never_crash(doc: Any) -> None:
    _assert_agree(doc)


@FUZZ
@given(st.dictionaries(st.sampled_from([*tl.COMMON_KEYS, *{k for ks in tl.KIND_KEYS.values() for k in ks}]),
                       VALUES, max_size=10),
       st.none() | st.dictionaries(st.sampled_from([*tl.DEFAULT_KEYS, "x"]), VALUES, max_size=3))
def test_fuzz_inline_targets_parse_or_raise_target_list_error(data: Any, defaults: Any) -> None:
    try:
        parse_target(data, defaults)
    except TargetListError as exc:
        assert exc.errors


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=200)
       | st.lists(st.sampled_from(["version: 1\n", "targets:\n", "  - ", "name: a\n", "{", "}", "[", "]", "&a ",
                                  "*a ", "!!binary ", "!!set ", "? ", ": ", "- ", "\t", '"', "'", ",", "\n"]))
       .map("".join))
def test_fuzz_arbitrary_text_raises_only_target_list_error(text: str | bytes) -> None:
    try:
        parse_target_list(text)
    except TargetListError as exc:
        assert str(exc)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.integers(min_value=0, max_value=999).map(str), st.sampled_from(["00", "01", "", " 1",
                                                                                         "1\n", "\u0661"])),
                min_size=3, max_size=5).map(".".join))
def test_fuzz_ipv4_pattern_agrees_with_ipaddress(text: str) -> None:
    import ipaddress

    try:
        ipaddress.IPv4Address(text)
        valid = True
    except ValueError:
        valid = False
    assert valid == bool(re.fullmatch(tl.IPV4, text))


def test_target_to_dict_round_trips_every_sample_target() -> None:
    from shared.target_list import target_to_dict

    parsed = parse_target_list((ROOT / "targets.sample.yaml").read_text())
    assert parsed.targets and not parsed.errors
    for target in parsed.targets:
        assert parse_target(json.loads(json.dumps(target_to_dict(target)))) == target


# --------------------------------------------------------------------------- silences


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def test_silences_are_read_as_utc_instants_and_weekly_windows() -> None:
    parsed = parse_target_list((CASES / "valid-silences.yaml").read_text())
    assert parsed.silences == (
        Window(_utc("2026-12-05T19:00:00Z"), _utc("2026-12-06T01:00:00Z"), "CHG-1234 firewall migration"),
        Recurring(("Sat",), dt.time(22), dt.time(2), "Europe/Berlin", "weekly patching, Saturday night in Berlin"),
    )
    db = parsed.by_name("app-to-db")
    assert db is not None and db.alert.check_health_threshold == 5
    assert db.silences == (
        # wall-clock time in New York (EST, -05:00 in December)
        Window(_utc("2026-12-24T23:00:00Z"), _utc("2026-12-27T13:00:00Z")),
        Recurring(("Mon", "Tue", "Wed", "Thu", "Fri"), dt.time(12), dt.time(12, 30), "UTC"),
        Recurring(WEEKDAYS, dt.time(0), dt.time(0), "Asia/Tokyo", "every day, all day"),
    )
    assert all(s.start.tzinfo is dt.UTC for s in db.silences + parsed.silences if isinstance(s, Window))
    hop = parsed.by_name("app-nexthop-db")
    assert hop is not None and hop.silences == () and hop.alert.check_health_threshold == 3


def test_days_are_kept_in_week_order_and_a_wall_clock_time_in_a_dst_gap_reads_as_the_earlier_offset() -> None:
    weekly = parse_target(_target(silences=[{"days": ["Sun", "Mon"], "from": "01:00", "to": "02:00"}])).silences
    assert weekly == (Recurring(("Mon", "Sun"), dt.time(1), dt.time(2)),)
    # 02:30 does not exist in Berlin on 2026-03-29 (clocks go 02:00 -> 03:00): read with +01:00.
    gap = parse_target(_target(silences=[{"start": "2026-03-29T02:30", "end": "2026-03-29T04:00",
                                          "timeZone": "Europe/Berlin"}])).silences
    assert gap == (Window(_utc("2026-03-29T01:30:00Z"), _utc("2026-03-29T02:00:00Z")),)


def test_target_to_dict_round_trips_silences_and_the_check_health_threshold() -> None:
    from shared.target_list import target_to_dict

    parsed = parse_target_list((CASES / "valid-silences.yaml").read_text())
    for target in parsed.targets:
        data = json.loads(json.dumps(target_to_dict(target)))
        assert parse_target(data) == target
        assert VALIDATOR.is_valid({"version": 1, "targets": [data]})
    data = target_to_dict(parsed.targets[0])
    assert data["alert"]["checkHealthThreshold"] == 5
    assert data["silences"][0] == {"start": "2026-12-24T23:00:00Z", "end": "2026-12-27T13:00:00Z"}
    assert data["silences"][1] == {"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "from": "12:00", "to": "12:30",
                                   "timeZone": "UTC"}


_ONE_OFF = {"start": "2026-12-05T20:00:00Z", "end": "2026-12-06T02:00:00Z"}
_WEEKLY = {"days": ["Sat"], "from": "22:00", "to": "02:00"}
SILENCE_EDGES: list[Any] = [
    [], None, "x", {}, [None], [[]], [{}], [_ONE_OFF], [_WEEKLY], [_ONE_OFF] * 50, [_ONE_OFF] * 51,
    [{**_ONE_OFF, "end": _ONE_OFF["start"]}], [{**_ONE_OFF, "start": "2026-12-06T03:00:00+01:00"}],
    [{"start": "2026-12-05T20:00Z", "end": "2026-12-05T21:00+14:00"}],
    [{"start": "2026-12-05T20:00:00.5+01:00", "end": "2026-12-05T20:00:00.123456-05:30"}],
    [{"start": "2026-12-05T20:00:00.1234567Z", "end": "2026-12-06T00:00Z"}],
    [{"start": "2026-02-30T20:00Z", "end": "2026-03-01T00:00Z"}],
    [{"start": "0000-01-01T00:00Z", "end": "2026-03-01T00:00Z"}],
    [{"start": "2026-12-05T20:00Z", "end": "9999-12-31T23:00-05:00"}],
    [{**_ONE_OFF, "start": "2026-12-05 20:00:00Z"}], [{**_ONE_OFF, "start": "2026-12-05T20:00:00z"}],
    [{**_ONE_OFF, "start": "2026-12-05T24:00Z"}], [{**_ONE_OFF, "start": "2026-12-05T20:00:00+24:00"}],
    [{**_ONE_OFF, "start": "2026-12-05"}], [{**_ONE_OFF, "start": 5}], [{**_ONE_OFF, "start": "2026-12-05T20:00"}],
    [{"start": "2026-12-05T20:00", "end": "2026-12-05T22:00", "timeZone": "UTC"}],
    [{"start": "2026-12-05T20:00", "end": "2026-12-05T22:00", "timeZone": "America/Argentina/Buenos_Aires"}],
    [{**_ONE_OFF, "timeZone": "UTC"}], [{"start": "2026-12-05T20:00", "end": "2026-12-05T22:00"}],
    [{**_WEEKLY, "timeZone": "Mars/Olympus_Mons"}], [{**_WEEKLY, "timeZone": "../etc/passwd"}],
    [{**_WEEKLY, "timeZone": ""}], [{**_WEEKLY, "timeZone": "localtime"}], [{**_WEEKLY, "timeZone": "Etc/GMT+5"}],
    [{**_WEEKLY, "timeZone": "A" * 65}], [{**_WEEKLY, "timeZone": 1}],
    [{"from": "22:00", "to": "02:00"}], [{"from": "00:00", "to": "00:00"}], [{**_WEEKLY, "from": "24:00"}],
    [{**_WEEKLY, "from": "2:00"}], [{**_WEEKLY, "from": 1320}], [{**_WEEKLY, "to": None}], [{"from": "22:00"}],
    [{**_WEEKLY, "days": []}], [{**_WEEKLY, "days": ["Sat", "Sat"]}], [{**_WEEKLY, "days": "Sat"}],
    [{**_WEEKLY, "days": ["Saturday"]}], [{**_WEEKLY, "days": list(WEEKDAYS)}], [{**_WEEKLY, "days": [1]}],
    [{**_WEEKLY, "reason": ""}], [{**_WEEKLY, "reason": "a\nb"}], [{**_WEEKLY, "reason": "r" * 257}],
    [{**_ONE_OFF, "extra": 1}], [{**_WEEKLY, "end": "x"}], [{**_ONE_OFF, "days": ["Sat"]}], [{"reason": "x"}],
    [{"timeZone": "UTC"}], [_ONE_OFF, {"start": "x"}],
]
ALERT_EDGES: list[Any] = [{"checkHealthThreshold": v} for v in (0, 1, 3.0, 100, 101, "3", None, True)]


def _silence_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for value in SILENCE_EDGES:
        docs.append((f"target:{json.dumps(value)[:70]}", {"version": 1, "targets": [_target(silences=value)]}))
        docs.append((f"global:{json.dumps(value)[:70]}",
                     {"version": 1, "silences": value, "targets": [_target(name="a"), _flow(name="b")]}))
    for value in ALERT_EDGES:
        docs.append((f"alert:{value}", {"version": 1, "targets": [_target(alert=value)]}))
        docs.append((f"defaults.alert:{value}", {"version": 1, "defaults": {"alert": value}, "targets": [_target()]}))
    return docs


SILENCE_DOCUMENTS = _silence_documents()


@pytest.mark.parametrize("doc", [d for _, d in SILENCE_DOCUMENTS], ids=[i for i, _ in SILENCE_DOCUMENTS])
def test_schema_and_parser_agree_on_silences_and_the_check_health_threshold(doc: dict[str, Any]) -> None:
    _assert_agree(doc)


def test_a_bad_global_silence_is_an_error_of_the_file_that_stops_no_target() -> None:
    result = parse_target_list(json.dumps({"version": 1, "silences": [_ONE_OFF, {"from": "22:00"}],
                                           "targets": [_target()]}))
    assert [t.name for t in result.targets] == ["app-to-db"]
    assert [str(e) for e in result.errors] == ["silences[1].to: is required"]
    assert len(result.silences) == 1 and isinstance(result.silences[0], Window)
    assert parse_target_list(json.dumps({"version": 1, "silences": "never", "targets": []})).errors == (
        TargetError(None, "silences", "must be a list of silences (got 'never')"),)


@pytest.mark.parametrize(("silences", "expected"), [
    ({}, ["targets[app-to-db].silences: must be a list of silences (got a mapping)"]),
    ([_ONE_OFF] * 51, ["targets[app-to-db].silences: must have at most 50 silences (got 51)"]),
    (["22:00-02:00"], ["targets[app-to-db].silences[0]: must be a mapping (got '22:00-02:00')"]),
    ([{}], ["targets[app-to-db].silences[0].start: is required", "targets[app-to-db].silences[0].end: is required"]),
    ([{**_ONE_OFF, "until": "x"}],
     ["targets[app-to-db].silences[0].until: unknown key (allowed: start, end, timeZone, reason)"]),
    ([{**_WEEKLY, "form": "x"}], ["targets[app-to-db].silences[0].form: unknown key; did you mean 'from'?"]),
    ([{**_ONE_OFF, "start": "2026-02-30T20:00Z"}],
     ["targets[app-to-db].silences[0].start: is not a valid date and time (got '2026-02-30T20:00Z')"]),
    ([{**_ONE_OFF, "start": "5th of December"}],
     ["targets[app-to-db].silences[0].start: must be a date and time such as '2026-12-05T20:00:00+01:00' "
      "(got '5th of December')"]),
    ([{**_ONE_OFF, "end": _ONE_OFF["start"]}], ["targets[app-to-db].silences[0].end: must be after start"]),
    ([{**_WEEKLY, "timeZone": "CET "}],
     ["targets[app-to-db].silences[0].timeZone: must be an IANA time zone name such as Europe/Berlin or UTC "
      "(got 'CET ')"]),
    ([{**_WEEKLY, "from": "24:00", "days": ["Sat", "Fri", "Sat"]}],
     ["targets[app-to-db].silences[0].days[2]: lists Sat twice",
      "targets[app-to-db].silences[0].from: must be a time of day such as '22:00' (got '24:00')"]),
    ([{**_WEEKLY, "days": []}],
     ["targets[app-to-db].silences[0].days: must name at least one day; leave it out for every day"]),
    ([{**_WEEKLY, "days": "Sat"}],
     ["targets[app-to-db].silences[0].days: must be a list of days from Mon, Tue, Wed, Thu, Fri, Sat, Sun "
      "(got 'Sat')"]),
], ids=lambda v: repr(v)[:50])
def test_silence_errors_name_the_silence_the_field_and_the_reason(silences: Any, expected: list[str]) -> None:
    with pytest.raises(TargetListError) as caught:
        parse_target(_target(silences=silences))
    assert [str(e) for e in caught.value.errors] == expected


def test_the_samples_commented_silence_is_valid_when_uncommented() -> None:
    lines = SAMPLE.read_text().splitlines()
    block: list[str] = []
    for line in lines[lines.index("# silences:"):]:
        if not line.startswith("# "):
            break
        block.append(line[2:])
    text = SAMPLE.read_text() + "\n" + "\n".join(block) + "\n"
    result = parse_target_list(text)
    assert not result.errors
    assert result.silences == (Recurring(("Sat", "Sun"), dt.time(22), dt.time(2), "Europe/Berlin",
                                         "weekly patching of the Contoso VMs"),)
    VALIDATOR.validate(tl.load_document(text))
