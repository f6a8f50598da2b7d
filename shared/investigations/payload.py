"""What the investigations webhook accepts, validated before anything else happens.

Two forms, both ``application/json``, at most 256 KiB (checked before parsing):

- the **common alert schema** an Azure Monitor action group posts
  (``{"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {...}, "alertContext": {...}}}``);
- a **simple form** for people and scripts: ``{"targets": ["name", ...]}`` or ``{"resourceId": "<ARM id>"}``,
  with an optional ``requestId`` that makes a retried request idempotent.

Anything else is a ``BadPayload`` with the HTTP status to answer and a message naming the problem.
URLs in the payload (``linkToSearchResultsAPI`` and the like) are never read, let alone fetched: only
ARM ids (``alertTargetIDs``, and ids found in dimensions or an activity log's scope) and
configuration item names are taken from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared.target_list import NAME

MAX_BYTES = 256 * 1024  # the common alert schema's own cap per alert
MAX_IDS = 100
MAX_NAMES = 50
SCHEMA_ID = "azureMonitorCommonAlertSchema"
SEVERITIES = ("Sev0", "Sev1", "Sev2", "Sev3", "Sev4")
CONDITIONS = ("Fired", "Resolved")
_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_SEGMENT = r"[^/\s?#]{1,260}"
# A subscription, a resource group, or a resource (with child resources): what alertTargetIDs hold.
ARM_ID = re.compile(rf"/subscriptions/{_GUID}(?:/resourceGroups/{_SEGMENT}"
                    rf"(?:/providers/[A-Za-z0-9.]{{1,100}}/[A-Za-z0-9]{{1,100}}/{_SEGMENT}(?:/[A-Za-z0-9]{{1,100}}/{_SEGMENT})*)?)?",
                    re.IGNORECASE)
ALERT_ID = re.compile(rf"/subscriptions/{_GUID}/providers/Microsoft\.AlertsManagement/alerts/{_SEGMENT}",
                      re.IGNORECASE)
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_TARGET_NAME = re.compile(NAME)
_OTHER_SCHEMAS = {"Microsoft.Insights/activityLogs": "the activity log alert schema",
                  "AzureMonitorMetricAlert": "the metric alert schema"}


class BadPayload(ValueError):
    """Refused: answer ``status`` with this message; nothing is enqueued."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class AlertTrigger:
    """The essentials of a common-alert-schema alert that nwcheck uses."""

    alert_id: str
    alert_rule: str
    severity: str
    signal_type: str
    monitor_condition: str
    monitoring_service: str
    target_ids: tuple[str, ...]  # alertTargetIDs, then ARM ids found in the alert context
    configuration_items: tuple[str, ...]
    fired: str | None


@dataclass(frozen=True)
class DirectRequest:
    """The simple form: stored targets by name, or every target involving one resource."""

    targets: tuple[str, ...]
    resource_id: str | None
    request_id: str | None


def _show(value: Any) -> str:
    return json.dumps(value)[:80]


def check_envelope(body: bytes, content_type: str | None, content_length: str | None = None) -> None:
    """Size and content type, before a byte is parsed."""
    declared = content_length.strip() if content_length else ""
    size = max(len(body), int(declared) if declared.isdigit() else 0)
    if size > MAX_BYTES:
        raise BadPayload(413, "PayloadTooLarge", f"body is {size} bytes; at most {MAX_BYTES} (256 KiB) are accepted")
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise BadPayload(415, "UnsupportedMediaType",
                         f"Content-Type must be application/json (got {_show(content_type or '')})")


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadPayload(400, "InvalidPayload", f"{path}: must be an object (got {_show(value)})")
    return value


def _string(data: dict[str, Any], key: str, path: str, *, required: bool = True, max_len: int = 1024,
            pattern: re.Pattern[str] | None = None, choices: tuple[str, ...] = ()) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadPayload(400, "InvalidPayload", f"{path}.{key}: is required")
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise BadPayload(400, "InvalidPayload", f"{path}.{key}: must be a string of at most {max_len} characters "
                                                f"(got {_show(value)})")
    if choices and value not in choices:
        raise BadPayload(400, "InvalidPayload", f"{path}.{key}: must be one of {list(choices)} (got {_show(value)})")
    if pattern is not None and not pattern.fullmatch(value):
        raise BadPayload(400, "InvalidPayload", f"{path}.{key}: is not a valid value (got {_show(value)})")
    return value


def _strings(data: dict[str, Any], key: str, path: str, limit: int, max_len: int = 1024) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > limit:
        raise BadPayload(400, "InvalidPayload", f"{path}.{key}: must be a list of at most {limit} strings "
                                                f"(got {_show(value)})")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not 0 < len(item) <= max_len:
            raise BadPayload(400, "InvalidPayload", f"{path}.{key}[{index}]: must be a non-empty string "
                                                    f"(got {_show(item)})")
    return list(value)


def _arm_ids(values: list[str], path: str) -> list[str]:
    for index, value in enumerate(values):
        if not ARM_ID.fullmatch(value):
            raise BadPayload(400, "InvalidResourceId",
                             f"{path}[{index}]: is not an Azure resource id "
                             f"(/subscriptions/<guid>/resourceGroups/...; got {_show(value)})")
    return values


def _ids_in_context(context: Any) -> Iterator[str]:
    """ARM ids the alert context carries where nwcheck knows to look: dimension values (log search
    and metric alerts split by ``_ResourceId``) and an activity log event's ``authorization.scope``.
    The context is free-form, so a value that is not an ARM id is ignored, not refused."""
    if not isinstance(context, dict):
        return
    condition = context.get("condition")
    criteria = condition.get("allOf") if isinstance(condition, dict) else None
    dimension_lists = ([c.get("dimensions") for c in criteria if isinstance(c, dict)]
                       if isinstance(criteria, list) else [])
    dimension_lists.append(context.get("Dimensions"))
    for dimensions in dimension_lists:
        for item in dimensions if isinstance(dimensions, list) else []:
            value = item.get("value") if isinstance(item, dict) else None
            if isinstance(value, str) and ARM_ID.fullmatch(value):
                yield value
    authorization = context.get("authorization")
    scope = authorization.get("scope") if isinstance(authorization, dict) else None
    if isinstance(scope, str) and ARM_ID.fullmatch(scope):
        yield scope


def _alert(data: dict[str, Any]) -> AlertTrigger:
    unknown = sorted(set(data) - {"schemaId", "data"})
    if unknown:
        raise BadPayload(400, "InvalidPayload", f"unknown top-level field(s) {unknown}")
    body = _object(data.get("data"), "data")
    essentials = _object(body.get("essentials"), "data.essentials")
    path = "data.essentials"
    alert_id = _string(essentials, "alertId", path, pattern=ALERT_ID, max_len=512)
    condition = _string(essentials, "monitorCondition", path, choices=CONDITIONS)
    severity = _string(essentials, "severity", path, choices=SEVERITIES)
    target_ids = _arm_ids(_strings(essentials, "alertTargetIDs", path, MAX_IDS), f"{path}.alertTargetIDs")
    items = _strings(essentials, "configurationItems", path, MAX_IDS, max_len=260)
    named = {t.lower() for t in target_ids}
    extra = [i for i in _ids_in_context(body.get("alertContext")) if i.lower() not in named]
    if not target_ids and not items and not extra:
        raise BadPayload(400, "InvalidPayload", f"{path}: names no resource (alertTargetIDs and configurationItems "
                                                "are empty), so there is nothing to investigate")
    return AlertTrigger(
        alert_id=str(alert_id), alert_rule=str(_string(essentials, "alertRule", path, max_len=260)),
        severity=str(severity), signal_type=str(_string(essentials, "signalType", path, max_len=64)),
        monitor_condition=str(condition),
        monitoring_service=str(_string(essentials, "monitoringService", path, required=False, max_len=128) or ""),
        target_ids=tuple(target_ids + list(dict.fromkeys(extra))[:MAX_IDS]), configuration_items=tuple(items),
        fired=_string(essentials, "firedDateTime", path, required=False, max_len=40))


def _direct(data: dict[str, Any]) -> DirectRequest:
    unknown = sorted(set(data) - {"targets", "resourceId", "requestId"})
    if unknown:
        raise BadPayload(400, "InvalidPayload", f"unknown field(s) {unknown}: the simple form is "
                                                '{"targets": [names]} or {"resourceId": "<ARM id>"}, '
                                                'with an optional "requestId"')
    if ("targets" in data) == ("resourceId" in data):
        raise BadPayload(400, "InvalidPayload", "exactly one of 'targets' (stored target names) and 'resourceId' "
                                                "(an Azure resource id) is required")
    names = _strings(data, "targets", "", MAX_NAMES, max_len=80)
    if "targets" in data and not names:
        raise BadPayload(400, "InvalidPayload", "targets: must name at least one target")
    for index, name in enumerate(names):
        if not _TARGET_NAME.fullmatch(name):
            raise BadPayload(400, "InvalidPayload", f"targets[{index}]: is not a target name (got {_show(name)})")
    resource_id = _string(data, "resourceId", "", required=False, max_len=2048)
    if resource_id is not None:
        _arm_ids([resource_id], "resourceId")
    return DirectRequest(targets=tuple(dict.fromkeys(names)), resource_id=resource_id,
                         request_id=_string(data, "requestId", "", required=False, pattern=_REQUEST_ID, max_len=64))


def parse(body: bytes, content_type: str | None, content_length: str | None = None) -> AlertTrigger | DirectRequest:
    """The webhook's body → what to investigate; BadPayload (with its status) names what is wrong."""
    check_envelope(body, content_type, content_length)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(400, "MalformedJson", f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadPayload(400, "InvalidPayload", f"body must be a JSON object, not {type(data).__name__}")
    if "schemaId" in data:
        schema = data["schemaId"]
        if schema != SCHEMA_ID:
            hint = (f"; this is {_OTHER_SCHEMAS[schema]}: enable the common alert schema on the action group's "
                    "webhook" if isinstance(schema, str) and schema in _OTHER_SCHEMAS else "")
            raise BadPayload(400, "UnsupportedSchema", f"schemaId must be {SCHEMA_ID!r} (got {_show(schema)}){hint}")
        return _alert(data)
    if "data" in data:
        raise BadPayload(400, "UnsupportedSchema", f"an alert payload needs schemaId {SCHEMA_ID!r}; enable the "
                                                   "common alert schema on the action group's webhook")
    return _direct(data)
