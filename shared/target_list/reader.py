"""Checking values: ``_Check`` collects every problem while reading one part of the file, and
the readers of fields that several parts share (ARM ids, IPv4 addresses, destination addresses,
durations, watchers, tags, alert settings)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from difflib import get_close_matches
from typing import Any

from shared.schedule import MIN_INTERVAL_S
from shared.target_list.document import _show
from shared.target_list.patterns import (
    _ANY_ARM,
    _ARM,
    _CONTROL,
    _DURATION,
    _KEY_HINTS,
    _UNIT_S,
    ADDRESS,
    ALERT_KEYS,
    ARM_TYPES,
    GUID,
    MAX_ADDRESS,
    MAX_HOST,
    MAX_LATENCY_MS,
    MAX_REPEAT_S,
    MAX_TAGS,
    MAX_TEXT,
    PORT,
    RESOURCE_GROUP,
    TAG_KEY,
)
from shared.targets import WatcherRef


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Check:
    """Collects (field, reason) problems while reading one part of the file."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def bad(self, path: str, reason: str) -> None:
        self.problems.append((path, reason))

    def mapping(self, path: str, value: Any, allowed: Iterable[str], required: Iterable[str] = (),
                known: Iterable[str] = ()) -> dict[str, Any] | None:
        """``value``'s allowed keys; unknown keys are problems unless in ``known`` (judged elsewhere)."""
        if not isinstance(value, dict):
            self.bad(path, f"must be a mapping (got {_show(value)})")
            return None
        allowed = tuple(allowed)
        for key in value:
            if not isinstance(key, str):
                self.bad(path, f"keys must be strings (got {_show(key)})")
            elif key not in allowed and key not in known:
                # A key is echoed into the field path only if it is plain; others are quoted, shortened.
                where = _join(path, key) if re.fullmatch(r"[A-Za-z0-9_$-]{1,64}", key) else f"{path}[{_show(key)}]"
                self.bad(where, _unknown_key(key, allowed))
        for key in required:
            if key not in value:
                self.bad(_join(path, key), "is required")
        return {k: v for k, v in value.items() if isinstance(k, str) and k in allowed}

    def string(self, path: str, value: Any, *, max_len: int = MAX_TEXT, min_len: int = 1) -> str | None:
        if not isinstance(value, str):
            self.bad(path, f"must be a string (got {_show(value)})")
        elif len(value) < min_len:
            self.bad(path, "must not be empty")
        elif len(value) > max_len:
            self.bad(path, f"must be at most {max_len} characters (got {len(value)})")
        elif _CONTROL.search(value):
            self.bad(path, f"must not contain control characters such as line breaks (got {_show(value)})")
        else:
            return value
        return None

    def matching(self, path: str, value: Any, pattern: str, explain: str, max_len: int = MAX_TEXT) -> str | None:
        text = self.string(path, value, max_len=max_len)
        if text is not None and not re.fullmatch(pattern, text):
            self.bad(path, f"{explain} (got {_show(text)})")
            return None
        return text

    def integer(self, path: str, value: Any, low: int, high: int) -> int | None:
        # JSON Schema's "integer" includes 80.0; so do we, to agree with the published schema.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(path, f"must be an integer {low}..{high} (got {_show(value)})")
        elif not low <= value <= high:
            self.bad(path, f"must be {low}..{high} (got {_show(value)})")
        else:
            return value
        return None

    def choice(self, path: str, value: Any, options: Iterable[str], what: str = "") -> str | None:
        options = tuple(options)
        if isinstance(value, str) and value in options:
            return value
        hint = ""
        if isinstance(value, str):
            near = [o for o in options if o.lower() == value.lower()]
            hint = f"; did you mean {near[0]!r}?" if near else ""
        self.bad(path, f"must be one of {', '.join(options)}{what} (got {_show(value)}){hint}")
        return None


def _unknown_key(key: str, allowed: tuple[str, ...]) -> str:
    near = get_close_matches(key, allowed, n=1, cutoff=0.7)
    if not near and _KEY_HINTS.get(key, "").split(".")[0] in allowed:
        near = [_KEY_HINTS[key]]
    if near:
        return f"unknown key; did you mean {near[0]!r}?"
    return f"unknown key (allowed: {', '.join(allowed)})"


def _arm_id(c: _Check, path: str, value: Any, kind: str) -> str | None:
    provider, rtype, _, what = ARM_TYPES[kind]
    text = c.string(path, value, max_len=1024)
    if text is None or _ARM[kind].fullmatch(text):
        return text
    parts = _ANY_ARM.fullmatch(text)
    if parts is None:
        reason = (f"must be a {what} resource id: /subscriptions/{{guid}}/resourceGroups/{{group}}/providers/"
                  f"{provider}/{rtype}/{{name}} (got {_show(text)})")
    elif (parts[3].lower(), parts[4].lower()) != (provider.lower(), rtype.lower()):
        reason = f"is a {parts[3]}/{parts[4]} resource id, not a {what} (got {_show(text)})"
    elif not re.fullmatch(GUID, parts[1]):
        reason = f"subscription {_show(parts[1])} is not a GUID"
    elif not re.fullmatch(RESOURCE_GROUP, parts[2]):
        reason = f"resource group {_show(parts[2])} is not a valid resource group name"
    else:
        reason = f"{_show(parts[5])} is not a valid {what} name"
    c.bad(path, reason)
    return None


def _subscription(resource_id: str) -> str:
    return resource_id.split("/")[2].lower()


def _ipv4(c: _Check, path: str, value: Any) -> str | None:
    text = c.string(path, value, max_len=64)
    if text is None:
        return None
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        c.bad(path, f"must be an IPv4 address like 10.1.1.4 (got {_show(text)})")
        return None


def _address(c: _Check, path: str, value: Any) -> str | None:
    """A destination address: an IPv4 address, a host name or an http(s) URL."""
    text = c.string(path, value, max_len=MAX_ADDRESS)
    if text is None:
        return None
    if re.fullmatch(ADDRESS, text):
        host = re.sub(r"^https?://", "", text).split("/")[0].split("?")[0].split(":")[0]
        if len(host) > MAX_HOST:
            c.bad(path, f"host name is {len(host)} characters long; at most {MAX_HOST} are allowed")
            return None
        return text
    scheme, sep, rest = text.partition("://")
    if not sep:
        reason = "must be an IPv4 address, a host name or an http(s) URL"
    elif scheme not in ("http", "https"):
        reason = "only http:// and https:// URLs are supported"
    elif "@" in rest.split("/")[0]:
        reason = "must not carry user information (user@host)"
    elif "#" in rest:
        reason = "must not have a fragment (#...)"
    else:
        reason = "is not a valid URL (a host name or IPv4 address, an optional port, path and query)"
    c.bad(path, f"{reason} (got {_show(text)})")
    return None


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _url_port(address: str) -> int | None:
    match = re.match(rf"https?://[^/?:]+:({PORT})", address)
    return int(match[1]) if match else None


def _duration(c: _Check, path: str, value: Any, maximum_s: int, limit: str) -> int | None:
    """Whole minutes, as integer seconds (300) or a string: '5m', '4h', '1d'."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
        shown = f"{value} seconds"
        hint = f"; did you mean '{value}m'?" if 0 < value < MIN_INTERVAL_S else ""
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        seconds = int(match[1]) * _UNIT_S[match[2]]
        shown, hint = _show(value), ""
    else:
        c.bad(path, f"must be whole minutes: '5m', '1h', '1d', or seconds like 300 (got {_show(value)})")
        return None
    if seconds % 60:
        c.bad(path, f"must be whole minutes (got {shown}){hint}")
    elif seconds < MIN_INTERVAL_S:
        c.bad(path, f"must be at least 1 minute (got {shown}){hint}")
    elif seconds > maximum_s:
        c.bad(path, f"must be at most {limit} (got {shown})")
    else:
        return seconds
    return None


def _watcher(c: _Check, path: str, value: Any) -> WatcherRef | None:
    """An explicit watcher, or None for 'auto' (derived from the VM's region) and for a bad value."""
    if value == "auto":
        return None
    if not isinstance(value, str) or not _ANY_ARM.fullmatch(value):
        c.bad(path, "must be 'auto' or a network watcher resource id: /subscriptions/{guid}/resourceGroups/"
                    f"{{group}}/providers/Microsoft.Network/networkWatchers/{{name}} (got {_show(value)})")
        return None
    text = _arm_id(c, path, value, "watcher")
    if text is None:
        return None
    parts = text.split("/")
    return WatcherRef(subscription=parts[2], resource_group=parts[4], name=parts[8])


def _tags(c: _Check, path: str, value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        c.bad(path, f"must be a mapping of names to text (got {_show(value)})")
        return None
    if len(value) > MAX_TAGS:
        c.bad(path, f"must have at most {MAX_TAGS} tags (got {len(value)})")
        return None
    tags: dict[str, str] = {}
    for key, text in value.items():
        if not isinstance(key, str) or not re.fullmatch(TAG_KEY, key):
            c.bad(path, f"tag names must be 1 to 128 letters, digits, '_', '.', ':' or '-', starting with a "
                        f"letter or digit (got {_show(key)})")
            continue
        checked = c.string(_join(path, key), text, min_len=0)
        if checked is not None:
            tags[key] = checked
    return tags if len(tags) == len(value) else None


def _alert(c: _Check, path: str, value: Any) -> dict[str, Any] | None:
    """AlertSettings fields that ``value`` sets; the rest come from the defaults."""
    raw = c.mapping(path, value, ALERT_KEYS)
    if raw is None:
        return None
    before = len(c.problems)
    out: dict[str, Any] = {}
    if "failureThreshold" in raw:
        out["failure_threshold"] = c.integer(_join(path, "failureThreshold"), raw["failureThreshold"], 1, 100)
    if "successThreshold" in raw:
        out["success_threshold"] = c.integer(_join(path, "successThreshold"), raw["successThreshold"], 1, 100)
    if "repeatInterval" in raw:
        out["repeat_interval_s"] = _duration(c, _join(path, "repeatInterval"), raw["repeatInterval"],
                                             MAX_REPEAT_S, "7 days")
    if "latencyThresholdMs" in raw:
        latency = raw["latencyThresholdMs"]  # null: no latency warning, overriding a default
        out["latency_threshold_ms"] = (
            None if latency is None else c.integer(_join(path, "latencyThresholdMs"), latency, 1, MAX_LATENCY_MS))
    if "checkHealthThreshold" in raw:
        out["check_health_threshold"] = c.integer(_join(path, "checkHealthThreshold"), raw["checkHealthThreshold"],
                                                  1, 100)
    return out if len(c.problems) == before else None
