"""The investigations webhook's input: what it accepts, and a clear refusal for everything else."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.investigations.payload import MAX_BYTES, AlertTrigger, BadPayload, DirectRequest, parse

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "alerts"
JSON = "application/json"
SUB = "00000000-0000-0000-0000-000000000000"
DB = f"/subscriptions/{SUB}/resourceGroups/ContosoRG/providers/Microsoft.Compute/virtualMachines/Database0"


def sample(name: str = "metric-alert.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return data


def _body(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_microsoft_samples_parse() -> None:
    metric = parse(_body(sample()), JSON)
    assert isinstance(metric, AlertTrigger)
    assert (metric.monitor_condition, metric.severity, metric.signal_type) == ("Fired", "Sev3", "Metric")
    assert metric.target_ids == (DB.lower(),)  # Azure sends them lower-cased
    log = parse(_body(sample("log-search-alert.json")), "application/json; charset=utf-8")
    assert isinstance(log, AlertTrigger) and log.configuration_items == ("Database0",)
    activity = parse(_body(sample("activity-log-alert.json")), JSON)
    assert isinstance(activity, AlertTrigger)
    # The scope of the activity log event is the same VM, in another letter case: not added twice.
    assert len(activity.target_ids) == 1


def test_ids_in_dimensions_are_taken_and_links_are_not() -> None:
    data = sample("log-search-alert.json")
    data["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"].append({"name": "_ResourceId", "value": DB})
    trigger = parse(_body(data), JSON)
    assert isinstance(trigger, AlertTrigger) and DB in trigger.target_ids
    assert not any("loganalytics.io" in i for i in trigger.target_ids)


def test_simple_forms() -> None:
    assert parse(b'{"targets": ["app-to-db-port80", "app-to-db-port80"]}', JSON) == DirectRequest(
        ("app-to-db-port80",), None, None)
    assert parse(_body({"resourceId": DB, "requestId": "deploy-42"}), JSON) == DirectRequest((), DB, "deploy-42")


def _with(path: str, value: Any, base: str = "metric-alert.json") -> dict[str, Any]:
    data = copy.deepcopy(sample(base))
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return data


_DELETE = object()
E = "data.essentials"
# An alert that names no resource at all (no ids, no configuration items, no id in its context).
_NOTHING = _with(f"{E}.alertTargetIDs", [], base="activity-log-alert.json")
_NOTHING["data"]["alertContext"]["authorization"]["scope"] = "not an id"

# (case, body, content type, status, message pattern)
BAD: list[tuple[str, Any, str | None, int, str]] = [
    ("no content type", sample(), None, 415, "Content-Type must be application/json"),
    ("text/plain", sample(), "text/plain", 415, "Content-Type"),
    ("form encoded", sample(), "application/x-www-form-urlencoded", 415, "Content-Type"),
    ("json-ish vendor type", sample(), "application/vnd.api+json", 415, "Content-Type"),
    ("too large", {"targets": ["x"], "pad": "a" * MAX_BYTES}, JSON, 413, "at most 262144"),
    ("not JSON", b"{not json", JSON, 400, "not JSON"),
    ("empty body", b"", JSON, 400, "not JSON"),
    ("not UTF-8", b"\xff\xfe{}", JSON, 400, "not JSON"),
    ("a list", [sample()], JSON, 400, "JSON object, not list"),
    ("a string", "alert", JSON, 400, "JSON object, not str"),
    ("null", None, JSON, 400, "JSON object, not NoneType"),
    ("wrong schema id", _with("schemaId", "somethingElse"), JSON, 400, "schemaId must be"),
    ("activity log schema", _with("schemaId", "Microsoft.Insights/activityLogs"), JSON, 400,
     "enable the common alert schema"),
    ("schema id not a string", _with("schemaId", 7), JSON, 400, "schemaId must be"),
    ("no schema id but data", {"data": sample()["data"]}, JSON, 400, "needs schemaId"),
    ("extra top-level field", {**sample(), "extra": 1}, JSON, 400, r"unknown top-level field\(s\) \['extra'\]"),
    ("data not an object", _with("data", []), JSON, 400, "data: must be an object"),
    ("no essentials", _with("data.essentials", _DELETE), JSON, 400, "data.essentials: must be an object"),
    ("essentials a string", _with("data.essentials", "x"), JSON, 400, "data.essentials: must be an object"),
    ("no alert id", _with(f"{E}.alertId", _DELETE), JSON, 400, "alertId: is required"),
    ("alert id not an alert", _with(f"{E}.alertId", DB), JSON, 400, "alertId: is not a valid value"),
    ("alert id a URL", _with(f"{E}.alertId", "https://evil.example/alerts/1"), JSON, 400, "alertId"),
    ("alert id a number", _with(f"{E}.alertId", 12), JSON, 400, "alertId: must be a string"),
    ("no monitor condition", _with(f"{E}.monitorCondition", _DELETE), JSON, 400, "monitorCondition: is required"),
    ("monitor condition lower case", _with(f"{E}.monitorCondition", "fired"), JSON, 400,
     r"monitorCondition: must be one of \['Fired', 'Resolved'\]"),
    ("monitor condition unknown", _with(f"{E}.monitorCondition", "Acknowledged"), JSON, 400, "monitorCondition"),
    ("severity Sev5", _with(f"{E}.severity", "Sev5"), JSON, 400, "severity: must be one of"),
    ("severity a number", _with(f"{E}.severity", 3), JSON, 400, "severity: must be a string"),
    ("no alert rule", _with(f"{E}.alertRule", _DELETE), JSON, 400, "alertRule: is required"),
    ("alert rule too long", _with(f"{E}.alertRule", "r" * 300), JSON, 400, "alertRule: must be a string of at most"),
    ("no signal type", _with(f"{E}.signalType", _DELETE), JSON, 400, "signalType: is required"),
    ("targets not a list", _with(f"{E}.alertTargetIDs", DB), JSON, 400, "alertTargetIDs: must be a list"),
    ("too many targets", _with(f"{E}.alertTargetIDs", [DB] * 101), JSON, 400, "at most 100"),
    ("target id a number", _with(f"{E}.alertTargetIDs", [5]), JSON, 400, r"alertTargetIDs\[0\]: must be a non-empty"),
    ("target id empty", _with(f"{E}.alertTargetIDs", [""]), JSON, 400, r"alertTargetIDs\[0\]"),
    ("target id a URL", _with(f"{E}.alertTargetIDs", ["http://127.0.0.1:9/steal"]), JSON, 400,
     "is not an Azure resource id"),
    ("target id without subscription guid", _with(f"{E}.alertTargetIDs", ["/subscriptions/abc/resourceGroups/x"]),
     JSON, 400, "is not an Azure resource id"),
    ("target id with a query", _with(f"{E}.alertTargetIDs", [DB + "?api-version=1"]), JSON, 400,
     "is not an Azure resource id"),
    ("target id path traversal", _with(f"{E}.alertTargetIDs", [DB + "/../../x"]), JSON, 400,
     "is not an Azure resource id"),
    ("target id with spaces", _with(f"{E}.alertTargetIDs", [DB + " x"]), JSON, 400, "is not an Azure resource id"),
    ("configuration items not a list", _with(f"{E}.configurationItems", "db"), JSON, 400,
     "configurationItems: must be a list"),
    ("nothing alerted", _NOTHING, JSON, 400, "names no resource"),
    ("simple: both forms", {"targets": ["a"], "resourceId": DB}, JSON, 400, "exactly one of"),
    ("simple: neither", {"requestId": "x"}, JSON, 400, "exactly one of"),
    ("simple: unknown field", {"targets": ["a"], "url": "https://x"}, JSON, 400, r"unknown field\(s\) \['url'\]"),
    ("simple: empty list", {"targets": []}, JSON, 400, "at least one target"),
    ("simple: bad name", {"targets": ["a b"]}, JSON, 400, r"targets\[0\]: is not a target name"),
    ("simple: name not a string", {"targets": [1]}, JSON, 400, r"targets\[0\]"),
    ("simple: too many names", {"targets": [f"t{i}" for i in range(51)]}, JSON, 400, "at most 50"),
    ("simple: resource id not ARM", {"resourceId": "Database0"}, JSON, 400, "is not an Azure resource id"),
    ("simple: resource id a URL", {"resourceId": "https://management.azure.com" + DB}, JSON, 400,
     "is not an Azure resource id"),
    ("simple: bad request id", {"targets": ["a"], "requestId": "has space"}, JSON, 400, "requestId"),
]


@pytest.mark.parametrize(("case", "body", "content_type", "status", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_payloads_are_refused_with_a_clear_reason(case: str, body: Any, content_type: str | None, status: int,
                                                       message: str) -> None:
    raw = body if isinstance(body, bytes) else _body(body)
    with pytest.raises(BadPayload) as caught:
        parse(raw, content_type)
    assert caught.value.status == status, case
    assert caught.value.code and str(caught.value)
    assert re.search(message, str(caught.value)), str(caught.value)


def test_there_are_at_least_forty_cases() -> None:
    assert len(BAD) >= 40


def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    with pytest.raises(BadPayload) as caught:
        parse(b"{}", JSON, content_length=str(MAX_BYTES + 1))
    assert caught.value.status == 413
    with pytest.raises(BadPayload) as caught:  # a header that is no number does not hide the real size
        parse(b"x" * (MAX_BYTES + 1), JSON, content_length="lots")
    assert caught.value.status == 413 and f"{MAX_BYTES + 1} bytes" in str(caught.value)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children,
                                                                                        max_size=4), max_leaves=20))
def test_fuzzed_json_is_accepted_or_refused_never_crashes(value: Any) -> None:
    try:
        result = parse(_body(value), JSON)
    except BadPayload as exc:
        assert 400 <= exc.status < 500
    else:
        assert isinstance(result, AlertTrigger | DirectRequest)


@given(st.binary(max_size=300))
def test_fuzzed_bytes_never_crash(raw: bytes) -> None:
    try:
        parse(raw, JSON)
    except BadPayload as exc:
        assert 400 <= exc.status < 500
