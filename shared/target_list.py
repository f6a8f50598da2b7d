"""Read the target list (config as code, JSON or YAML) into :class:`~shared.targets.Target` values.

The list is checked strictly, and every problem is reported with the target, the field and the
reason. A problem with one target skips only that target, so one typo cannot stop every other
check; a problem with the file itself (syntax, ``version``, ``defaults``, an unknown top-level key)
raises :class:`TargetListError`, because then no target can be trusted to mean what it says.

The published JSON Schema (``shared/schemas/target-list.schema.json``) describes the same format;
the tests hold the two in agreement. A few rules are beyond a schema and only checked here: names
unique ignoring case, port ranges in order, a host name's length, a URL port that contradicts
``port``, and a watcher or NIC in another subscription than its VM; for silences, an unknown time
zone, an impossible date and an end not after its start.

Silences (maintenance windows) sit on a target (``silences``) or at the top of the file, for
every target. A bad global silence is reported in ``errors`` and left out, but stops nothing
else: one typo in a window must not stop every check.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import cache
from typing import Any, cast

import yaml

from shared.schedule import MAX_INTERVAL_S, MIN_INTERVAL_S
from shared.targets import (
    DEFAULT_EXPECT,
    IP_FLOW_STATUSES,
    KINDS,
    NEXT_HOP_TYPES,
    WEEKDAYS,
    AlertSettings,
    Connectivity,
    IpFlow,
    Kind,
    NextHop,
    Recurring,
    Silence,
    Target,
    WatcherRef,
    Window,
)

VERSION = 1
MAX_BYTES = 4 * 1024 * 1024  # a list of thousands of targets fits; a runaway file does not
MAX_REPEAT_S = 7 * 86_400
MAX_LATENCY_MS = 60_000
CONNECTIVITY_EXPECT = ("Reachable", "Unreachable")  # Degraded and Unknown are findings, not intentions
CONNECTIVITY_PROTOCOLS = ("Tcp", "Http", "Https", "Icmp")
DIRECTIONS = ("Inbound", "Outbound")
FLOW_PROTOCOLS = ("TCP", "UDP")  # ipFlowVerify's spelling, unlike connectivityCheck's
EXPECT: dict[str, tuple[str, ...]] = {
    "connectivity": CONNECTIVITY_EXPECT, "ipFlow": IP_FLOW_STATUSES, "nextHop": NEXT_HOP_TYPES}

# Regular expressions shared with the JSON Schema (which anchors them and spells the ARM literals
# case-insensitively); tests/test_target_list.py checks that both say the same.
NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}"  # safe as a queue message field and a table key
GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
RESOURCE_GROUP = r"[A-Za-z0-9._()-]{0,89}[A-Za-z0-9_()-]"
VM_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?"
RESOURCE_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?"  # NICs and watchers
PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0)"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LAST_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # a letter first: 1.2.3.999 is no host name
HOST = rf"(?:{_LABEL}\.)*{_LAST_LABEL}"
_URL_CHARS = r"[A-Za-z0-9._~!$&'()*+,;=:@%/-]"
URL = rf"https?://(?:{HOST}|{IPV4})(?::{PORT})?(?:/{_URL_CHARS}*)?(?:\?(?:{_URL_CHARS}|\?)*)?"
ADDRESS = rf"{IPV4}|{HOST}|{URL}"
INTERVAL = r"(?:[1-9][0-9]{0,2}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)m|(?:[1-9]|1[0-9]|2[0-4])h|1d"
REPEAT = r"(?:[1-9][0-9]{0,3}|100[0-7][0-9]|10080)m|(?:[1-9][0-9]?|1[0-5][0-9]|16[0-8])h|[1-7]d"
TAG_KEY = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
# Silences: an ISO-8601 local date and time, a UTC offset, a wall-clock time, an IANA zone name.
DATE_TIME = (r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]"
             r"(?::[0-5][0-9](?:\.[0-9]{1,6})?)?")
UTC_OFFSET = r"Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]"
CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
TIME_ZONE = r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*"
MAX_SILENCES = 50
MAX_ADDRESS = 2048
MAX_HOST = 253
MAX_TEXT = 256
MAX_TAGS = 50
ARM_TYPES = {
    "vm": ("Microsoft.Compute", "virtualMachines", VM_NAME, "virtual machine"),
    "nic": ("Microsoft.Network", "networkInterfaces", RESOURCE_NAME, "network interface"),
    "watcher": ("Microsoft.Network", "networkWatchers", RESOURCE_NAME, "network watcher"),
}


def _arm_id_pattern(kind: str) -> str:
    provider, rtype, name, _ = ARM_TYPES[kind]
    return (rf"/subscriptions/({GUID})/resourceGroups/({RESOURCE_GROUP})/providers/{re.escape(provider)}"
            rf"/{rtype}/({name})")


# ARM ids ignore case; ASCII only, or [a-z] would also match the Kelvin sign and the long s.
_ARM = {kind: re.compile(_arm_id_pattern(kind), re.IGNORECASE | re.ASCII) for kind in ARM_TYPES}
_ANY_ARM = re.compile(r"/subscriptions/([^/]*)/resourceGroups/([^/]*)/providers/([^/]*)/([^/]*)/([^/]*)",
                      re.IGNORECASE | re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DURATION = re.compile(r"(0|[1-9][0-9]{0,6})([mhd])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86_400}
_FLOW_PORT = re.compile(rf"({PORT})(?:-({PORT}))?")
_MISSING = object()
TOP_KEYS = ("$schema", "version", "defaults", "silences", "targets")
COMMON_KEYS = ("name", "kind", "expect", "interval", "watcher", "owner", "tags", "alert", "silences")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "connectivity": ("source", "sourcePort", "destination", "protocol"),
    "ipFlow": ("vm", "nic", "direction", "protocol", "local", "remote"),
    "nextHop": ("vm", "nic", "sourceIp", "destinationIp"),
}
DEFAULT_KEYS = ("interval", "watcher", "alert", "expect", "owner", "tags")
ALERT_KEYS = ("failureThreshold", "successThreshold", "repeatInterval", "latencyThresholdMs", "checkHealthThreshold")
WINDOW_KEYS = ("start", "end", "timeZone", "reason")
RECURRING_KEYS = ("days", "from", "to", "timeZone", "reason")
# Keys a user may carry over from another kind: point at the right one.
_KEY_HINTS = {"vm": "source", "source": "vm", "nicId": "nic", "port": "destination.port"}


@dataclass(frozen=True)
class TargetError:
    """One problem: ``target`` is the target's name (None if it has none yet), ``index`` its place
    in ``targets`` (None for an inline target or the file itself), ``field`` a dotted path."""

    target: str | None
    field: str
    reason: str
    index: int | None = None

    def __str__(self) -> str:
        where = (f"targets[{self.target}]" if self.target is not None
                 else f"targets[#{self.index}]" if self.index is not None else "")
        dot = "." if where and self.field and not self.field.startswith("[") else ""
        path = f"{where}{dot}{self.field}"
        return f"{path}: {self.reason}" if path else self.reason


class TargetListError(ValueError):
    """The file, its defaults or an inline target cannot be used; ``errors`` says each reason."""

    def __init__(self, errors: Iterable[TargetError], source: str | None = None) -> None:
        self.errors = tuple(errors)
        self.source = source
        lead = f"{source}: " if source else ""
        super().__init__("\n".join(f"{lead}{error}" for error in self.errors))


@dataclass(frozen=True)
class TargetList:
    targets: tuple[Target, ...]
    errors: tuple[TargetError, ...] = ()
    silences: tuple[Silence, ...] = ()  # global: for every target
    _by_name: dict[str, Target] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {t.name.lower(): t for t in self.targets})

    def by_name(self, name: str) -> Target | None:
        """The target called ``name``, ignoring case (as uniqueness does)."""
        return self._by_name.get(name.lower())


# --------------------------------------------------------------------------- reading the text


class _Loader(yaml.SafeLoader):
    """safe_load that refuses duplicate keys (YAML would silently keep the last one).

    Aliases and merge keys stay allowed (yaml.safe_dump writes them for repeated objects): they share
    objects rather than copy them, and nothing here walks a structure deeper than the format's own
    nesting, so neither an alias bomb nor a self-referencing alias can make reading explode or loop.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<': the base class merges it
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable: the base class reports it
                continue
            if duplicate:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key {_show(key)}", key_node.start_mark)
        return super().construct_mapping(node, deep)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJsonKey(key)
        result[key] = value
    return result


class _DuplicateJsonKey(Exception):
    pass


def load_document(text: str | bytes, source: str = "<targets>") -> Any:
    """The plain data of a JSON or YAML text; TargetListError if it cannot be read safely."""

    def fail(reason: str) -> TargetListError:
        return TargetListError([TargetError(None, "", reason)], source)

    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise fail(f"is {size} bytes long; at most {MAX_BYTES} are accepted")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise fail(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateJsonKey as exc:
        raise fail(f"not valid JSON: duplicate key {_show(exc.args[0])}") from None
    except (ValueError, RecursionError) as exc:
        json_error = exc
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        if text.lstrip().startswith(("{", "[")) and isinstance(json_error, json.JSONDecodeError):
            raise fail(f"not valid JSON: {json_error}") from None
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise fail(f"not valid YAML: {exc.problem or exc.context}{where}") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise fail(f"not valid YAML: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# --------------------------------------------------------------------------- checking values


def _show(value: Any) -> str:
    """A short, safe rendering of a bad value for an error message (never recursive)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() < 64 else "a very large integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


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


# --------------------------------------------------------------------------- silences


@cache
def _known_zones() -> frozenset[str]:
    # The installed IANA database's names; never a path such as "localtime" or "posixrules".
    return frozenset(zoneinfo.available_timezones())


def _time_zone(c: _Check, path: str, value: Any) -> str | None:
    text = c.matching(path, value, TIME_ZONE, "must be an IANA time zone name such as Europe/Berlin or UTC",
                      max_len=64)
    if text is not None and text not in _known_zones():
        c.bad(path, f"is not a known time zone; use an IANA name such as Europe/Berlin or UTC (got {_show(text)})")
        return None
    return text


def _quote_hint(value: Any) -> str:
    # Unquoted in YAML, 2026-12-05T20:00:00+01:00 is read as a date and 22:00 as the number 1320.
    return "; quote it in YAML" if isinstance(value, dt.date | int) and not isinstance(value, bool) else ""


def _instant(c: _Check, path: str, value: Any, zone: str | None) -> dt.datetime | None:
    """A one-off silence's start or end: an offset in the text, or wall-clock time in ``zone``."""
    text = c.string(path, value, max_len=40) if isinstance(value, str) else None
    match = re.fullmatch(rf"({DATE_TIME})({UTC_OFFSET})?", text or "")
    if match is None:
        if text is not None or not isinstance(value, str):
            c.bad(path, "must be a date and time such as '2026-12-05T20:00:00+01:00' "
                        f"(got {_show(value)}){_quote_hint(value)}")
        return None
    if zone is not None and match[2]:
        c.bad(path, f"must not have a UTC offset when the silence names a timeZone (got {_show(text)})")
        return None
    if zone is None and not match[2]:
        c.bad(path, f"needs a UTC offset such as +01:00 or Z, or a timeZone on the silence (got {_show(text)})")
        return None
    try:
        when = dt.datetime.fromisoformat(cast(str, text))
        # fold=0: an ambiguous or skipped wall-clock time (a DST change) reads as the earlier offset.
        return (when.replace(tzinfo=zoneinfo.ZoneInfo(zone)) if zone else when).astimezone(dt.UTC)
    except (ValueError, OverflowError):  # 2026-02-30; or year 9999 pushed past the calendar by its offset
        c.bad(path, f"is not a valid date and time (got {_show(text)})")
        return None


def _clock(c: _Check, path: str, value: Any) -> dt.time | None:
    if isinstance(value, str) and re.fullmatch(CLOCK, value):
        return dt.time(int(value[:2]), int(value[3:]))
    c.bad(path, f"must be a time of day such as '22:00' (got {_show(value)}){_quote_hint(value)}")
    return None


def _days(c: _Check, path: str, value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        c.bad(path, f"must be a list of days from {', '.join(WEEKDAYS)} (got {_show(value)})")
        return None
    if not value:
        c.bad(path, "must name at least one day; leave it out for every day")
        return None
    before = len(c.problems)
    for i, day in enumerate(value):
        if c.choice(f"{path}[{i}]", day, WEEKDAYS) is not None and value.index(day) != i:
            c.bad(f"{path}[{i}]", f"lists {day} twice")
    return tuple(d for d in WEEKDAYS if d in value) if len(c.problems) == before else None


def _silence(c: _Check, path: str, value: Any) -> Silence | None:
    """One silence: one-off (start, end) or recurring (days, from, to), told apart by their keys."""
    if not isinstance(value, dict):
        c.bad(path, f"must be a mapping (got {_show(value)})")
        return None
    one_off, recurring = ("start" in value or "end" in value), any(k in value for k in ("days", "from", "to"))
    if one_off and recurring:
        c.bad(path, "is either one-off (start, end) or recurring (days, from, to), not both")
        return None
    before = len(c.problems)
    keys, required = (RECURRING_KEYS, ("from", "to")) if recurring else (WINDOW_KEYS, ("start", "end"))
    raw = c.mapping(path, value, keys, required=required)
    assert raw is not None
    zone = _time_zone(c, _join(path, "timeZone"), raw["timeZone"]) if "timeZone" in raw else None
    reason = c.string(_join(path, "reason"), raw["reason"]) if "reason" in raw else None
    if "timeZone" in raw and zone is None:
        return None  # the times cannot be read without their zone
    if recurring:
        days = _days(c, _join(path, "days"), raw["days"]) if "days" in raw else WEEKDAYS
        start = _clock(c, _join(path, "from"), raw["from"]) if "from" in raw else None
        end = _clock(c, _join(path, "to"), raw["to"]) if "to" in raw else None
        if len(c.problems) > before or days is None or start is None or end is None:
            return None
        return Recurring(days=days, start=start, end=end, time_zone=zone or "UTC", reason=reason)
    begin = _instant(c, _join(path, "start"), raw["start"], zone) if "start" in raw else None
    finish = _instant(c, _join(path, "end"), raw["end"], zone) if "end" in raw else None
    if begin is not None and finish is not None and finish <= begin:
        c.bad(_join(path, "end"), "must be after start")
    if len(c.problems) > before or begin is None or finish is None:
        return None
    return Window(start=begin, end=finish, reason=reason)


def _silences(c: _Check, path: str, value: Any) -> tuple[Silence, ...]:
    """The valid silences of ``value``; each bad one is a problem in ``c``."""
    if not isinstance(value, list):
        c.bad(path, f"must be a list of silences (got {_show(value)})")
        return ()
    if len(value) > MAX_SILENCES:
        c.bad(path, f"must have at most {MAX_SILENCES} silences (got {len(value)})")
        return ()
    found = (_silence(c, f"{path}[{i}]", item) for i, item in enumerate(value))
    return tuple(s for s in found if s is not None)


def silence_to_dict(silence: Silence) -> dict[str, Any]:
    """A silence in the file's own format; ``_silence`` reads it back equal."""
    data: dict[str, Any]
    if isinstance(silence, Window):
        data = {"start": silence.start.isoformat().replace("+00:00", "Z"),
                "end": silence.end.isoformat().replace("+00:00", "Z")}
    else:
        data = {"days": list(silence.days), "from": silence.start.strftime("%H:%M"),
                "to": silence.end.strftime("%H:%M"), "timeZone": silence.time_zone}
    if silence.reason is not None:
        data["reason"] = silence.reason
    return data


# --------------------------------------------------------------------------- defaults


@dataclass(frozen=True)
class _Defaults:
    interval_s: int = 300
    watcher: WatcherRef | None = None
    alert: Mapping[str, Any] = field(default_factory=dict)
    expect: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_EXPECT))
    owner: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def _read_defaults(c: _Check, value: Any) -> _Defaults:
    raw = c.mapping("defaults", value, DEFAULT_KEYS)
    if not raw:
        return _Defaults()
    before = len(c.problems)
    interval = _duration(c, "defaults.interval", raw["interval"], MAX_INTERVAL_S, "a day") \
        if "interval" in raw else 300
    watcher = _watcher(c, "defaults.watcher", raw["watcher"]) if "watcher" in raw else None
    alert = _alert(c, "defaults.alert", raw["alert"]) if "alert" in raw else {}
    expect = dict(DEFAULT_EXPECT)
    if "expect" in raw:
        per_kind = c.mapping("defaults.expect", raw["expect"], KINDS) or {}
        for kind, wanted in per_kind.items():
            expect[kind] = c.choice(f"defaults.expect.{kind}", wanted, EXPECT[kind]) or ""
    owner = c.string("defaults.owner", raw["owner"]) if "owner" in raw else None
    tags = _tags(c, "defaults.tags", raw["tags"]) if "tags" in raw else {}
    if len(c.problems) > before:
        return _Defaults()
    return _Defaults(cast(int, interval), watcher, alert or {}, expect, owner, tags or {})


def _parse_defaults(value: Any, source: str | None = None) -> _Defaults:
    c = _Check()
    defaults = _read_defaults(c, value)
    if c.problems:
        raise TargetListError([TargetError(None, path, reason) for path, reason in c.problems], source)
    return defaults


# --------------------------------------------------------------------------- one target


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and re.fullmatch(NAME, value) else None


def _read_target(c: _Check, value: Any, defaults: _Defaults) -> Target | None:
    before = len(c.problems)
    if not isinstance(value, dict):
        c.bad("", f"must be a mapping (got {_show(value)})")
        return None
    kind_value = value.get("kind", _MISSING)
    kind = cast("Kind | None", kind_value if kind_value in KINDS else None)
    specific = KIND_KEYS[kind] if kind else ()
    other = {k for keys in KIND_KEYS.values() for k in keys} if kind is None else set()
    raw = c.mapping("", value, COMMON_KEYS + specific, required=("name", "kind"), known=other)
    assert raw is not None
    name = c.matching("name", raw["name"], NAME, "must be 1 to 80 letters, digits, '-', '_' or '.', starting with "
                      "a letter or digit", max_len=80) if "name" in raw else None
    if "kind" in raw and kind is None:
        c.choice("kind", raw["kind"], KINDS)
    interval = _duration(c, "interval", raw["interval"], MAX_INTERVAL_S, "a day") \
        if "interval" in raw else defaults.interval_s
    watcher = _watcher(c, "watcher", raw["watcher"]) if "watcher" in raw else defaults.watcher
    owner = c.string("owner", raw["owner"]) if "owner" in raw else defaults.owner
    tags = dict(defaults.tags)
    if "tags" in raw:
        tags.update(_tags(c, "tags", raw["tags"]) or {})
    alert = dict(defaults.alert)
    if "alert" in raw:
        alert.update(_alert(c, "alert", raw["alert"]) or {})
    silences = _silences(c, "silences", raw["silences"]) if "silences" in raw else ()
    if kind is None:
        return None
    expect: str | None = defaults.expect.get(kind)
    if "expect" in raw:
        expect = c.choice("expect", raw["expect"], EXPECT[kind], f" for kind {kind}")
    elif expect is None:
        c.bad("expect", f"is required for kind {kind} (one of {', '.join(EXPECT[kind])}), here or in "
                        f"defaults.expect.{kind}")
    vm, spec = _SPECS[kind](c, raw)
    if vm is not None and isinstance(watcher, WatcherRef) and watcher.subscription.lower() != _subscription(vm):
        c.bad("watcher", f"is in subscription {watcher.subscription}, but the VM is in {vm.split('/')[2]}; "
                         "a watcher can only check VMs of its own subscription")
    if len(c.problems) > before or name is None or vm is None or spec is None or expect is None:
        return None
    return Target(name=name, kind=kind, source_vm=vm, spec=spec, expect=expect, interval_s=cast(int, interval),
                  watcher=watcher, owner=owner, tags=tuple(sorted(tags.items())),
                  alert=AlertSettings(**alert), silences=silences)


_Spec = tuple[str | None, Connectivity | IpFlow | NextHop | None]  # (VM id, the kind's part)


def _connectivity(c: _Check, raw: dict[str, Any]) -> _Spec:
    for key in ("source", "destination"):
        if key not in raw:
            c.bad(key, "is required")
    vm = _arm_id(c, "source", raw["source"], "vm") if "source" in raw else None
    source_port = c.integer("sourcePort", raw["sourcePort"], 0, 65535) if "sourcePort" in raw else None
    protocol = c.choice("protocol", raw["protocol"], CONNECTIVITY_PROTOCOLS) if "protocol" in raw else None
    if "destination" not in raw:
        return vm, None
    before = len(c.problems)
    dest = c.mapping("destination", raw["destination"], ("resourceId", "address", "port"))
    if dest is None:
        return vm, None
    if ("resourceId" in dest) == ("address" in dest):
        c.bad("destination", "needs exactly one of resourceId (a VM) or address (an IP, host name or URL)")
    resource_id = _arm_id(c, "destination.resourceId", dest["resourceId"], "vm") if "resourceId" in dest else None
    address = _address(c, "destination.address", dest["address"]) if "address" in dest else None
    port: int | None = 0
    if "port" in dest:
        port = c.integer("destination.port", dest["port"], 0, 65535)
        url_port = _url_port(address) if address else None
        if port is not None and url_port is not None and url_port != port:
            c.bad("destination.port", f"is {port}, but the URL says port {url_port}")
    elif not _is_url(dest.get("address")) and raw.get("protocol") != "Icmp":
        # A URL names its port, and ICMP has none; any other destination needs one.
        c.bad("destination.port", "is required (unless the address is a URL or the protocol is Icmp)")
    if len(c.problems) > before:
        return vm, None
    return vm, Connectivity(destination_resource_id=resource_id, destination_address=address, port=port or 0,
                            protocol=protocol, source_port=source_port)


def _flow_port(c: _Check, path: str, value: Any, *, star: bool, allow_range: bool) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        port = c.integer(path, value, 0, 65535)
        return None if port is None else str(port)
    shape = "a port 0..65535" + (", a range like '1024-65535'" if allow_range else "") + (" or '*'" if star else "")
    if not isinstance(value, str):
        c.bad(path, f"must be {shape} (got {_show(value)})")
        return None
    text = c.string(path, value, max_len=16)
    if text is None:
        return None
    if text == "*":
        if star:
            return text
        c.bad(path, "'*' is only allowed for the source side of the flow (local when Outbound, remote when "
                    "Inbound)")
        return None
    match = _FLOW_PORT.fullmatch(text)
    if match is None or (match[2] is not None and not allow_range):
        c.bad(path, f"must be {shape} (got {_show(text)})")
        return None
    if match[2] is not None and int(match[1]) > int(match[2]):
        c.bad(path, f"range start must not exceed its end (got {_show(text)})")
        return None
    return text


def _endpoint(c: _Check, raw: dict[str, Any], key: str, star: bool,
              allow_range: bool) -> tuple[str | None, str | None]:
    side = c.mapping(key, raw[key], ("ip", "port"), required=("ip", "port")) if key in raw else None
    if side is None:
        return None, None
    ip = _ipv4(c, f"{key}.ip", side["ip"]) if "ip" in side else None
    port = _flow_port(c, f"{key}.port", side["port"], star=star, allow_range=allow_range) if "port" in side else None
    return ip, port


def _vm_and_nic(c: _Check, raw: dict[str, Any], required: Iterable[str]) -> tuple[str | None, str | None]:
    for key in required:
        if key not in raw:
            c.bad(key, "is required")
    vm = _arm_id(c, "vm", raw["vm"], "vm") if "vm" in raw else None
    nic = _arm_id(c, "nic", raw["nic"], "nic") if "nic" in raw else None
    if vm and nic and _subscription(vm) != _subscription(nic):
        c.bad("nic", f"is in subscription {nic.split('/')[2]}, but the VM is in {vm.split('/')[2]}")
    return vm, nic


def _ip_flow(c: _Check, raw: dict[str, Any]) -> _Spec:
    before = len(c.problems)
    vm, nic = _vm_and_nic(c, raw, ("vm", "direction", "protocol", "local", "remote"))
    direction = c.choice("direction", raw["direction"], DIRECTIONS) if "direction" in raw else None
    protocol = c.choice("protocol", raw["protocol"], FLOW_PROTOCOLS) if "protocol" in raw else None
    # '*' is allowed only for the flow's source port, which depends on the direction.
    local_ip, local_port = _endpoint(c, raw, "local", star=direction == "Outbound", allow_range=False)
    remote_ip, remote_port = _endpoint(c, raw, "remote", star=direction == "Inbound", allow_range=True)
    if len(c.problems) > before or None in (direction, protocol, local_ip, local_port, remote_ip, remote_port):
        return vm, None
    return vm, IpFlow(direction=cast(str, direction), protocol=cast(str, protocol), local_ip=cast(str, local_ip),
                      local_port=cast(str, local_port), remote_ip=cast(str, remote_ip),
                      remote_port=cast(str, remote_port), nic_resource_id=nic)


def _next_hop(c: _Check, raw: dict[str, Any]) -> _Spec:
    before = len(c.problems)
    vm, nic = _vm_and_nic(c, raw, ("vm", "sourceIp", "destinationIp"))
    source_ip = _ipv4(c, "sourceIp", raw["sourceIp"]) if "sourceIp" in raw else None
    destination_ip = _ipv4(c, "destinationIp", raw["destinationIp"]) if "destinationIp" in raw else None
    if len(c.problems) > before or source_ip is None or destination_ip is None:
        return vm, None
    return vm, NextHop(source_ip=source_ip, destination_ip=destination_ip, nic_resource_id=nic)


_SPECS = {"connectivity": _connectivity, "ipFlow": _ip_flow, "nextHop": _next_hop}


def _target_errors(c: _Check, name: str | None, index: int | None) -> list[TargetError]:
    return [TargetError(name, path, reason, index) for path, reason in c.problems]


def parse_target(data: Any, defaults: Mapping[str, Any] | None = None) -> Target:
    """One target, e.g. inline in a queue message; ``defaults`` as in a file's ``defaults``.

    Raises TargetListError with every problem found.
    """
    parsed = _parse_defaults(defaults) if defaults is not None else _Defaults()
    c = _Check()
    target = _read_target(c, data, parsed)
    if target is None or c.problems:
        name = _name(data.get("name")) if isinstance(data, dict) else None
        raise TargetListError(_target_errors(c, name, None))
    return target


# --------------------------------------------------------------------------- the file


def parse_target_list(text: str | bytes, *, source: str = "<targets>") -> TargetList:
    """Every valid target of the file, and one error per problem with the others (skipped)."""
    document = load_document(text, source)
    c = _Check()
    if document is None:
        c.bad("", "is empty; expected a mapping with 'version' and 'targets'")
    top = c.mapping("", document, TOP_KEYS, required=("version", "targets")) if document is not None else None
    defaults = _Defaults()
    entries: list[Any] = []
    if top is not None:
        version = top.get("version", VERSION)
        if isinstance(version, bool) or not isinstance(version, int | float) or version != VERSION:
            c.bad("version", f"must be {VERSION} (got {_show(version)})")
        if "$schema" in top:
            c.string("$schema", top["$schema"], max_len=2048)  # for editors; never fetched
        if "defaults" in top:
            defaults = _read_defaults(c, top["defaults"])
        if "targets" in top:
            if isinstance(top["targets"], list):
                entries = top["targets"]
            else:
                c.bad("targets", f"must be a list (got {_show(top['targets'])})")
    if c.problems:
        raise TargetListError([TargetError(None, path, reason) for path, reason in c.problems], source)

    # Read after the checks above: a file that cannot be trusted raises before its silences matter.
    quiet = _Check()
    silences = _silences(quiet, "silences", top["silences"]) if top is not None and "silences" in top else ()
    targets: list[Target] = []
    errors: list[TargetError] = [TargetError(None, path, reason) for path, reason in quiet.problems]
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        one = _Check()
        target = _read_target(one, entry, defaults)
        name = _name(entry.get("name")) if isinstance(entry, dict) else None
        if name is not None:
            seen = first_index.setdefault(name.lower(), index)
            if seen != index:
                one.bad("name", f"duplicates the name of targets[#{seen}] (names are unique, ignoring case); "
                                "only the first is kept")
                target = None
        errors.extend(_target_errors(one, name, index))
        if target is not None and not one.problems:
            targets.append(target)
    return TargetList(tuple(targets), tuple(errors), silences)


def target_to_dict(target: Target) -> dict[str, Any]:
    """A target in the file's own format, complete (no defaults needed): ``parse_target`` reads it back
    to an equal Target. Used to carry a resolved target inside the app's internal messages."""
    data: dict[str, Any] = {"name": target.name, "kind": target.kind, "expect": target.expect,
                            "interval": target.interval_s}
    if target.watcher is not None:
        data["watcher"] = target.watcher.resource_id
    if target.owner is not None:
        data["owner"] = target.owner
    if target.tags:
        data["tags"] = dict(target.tags)
    alert = target.alert
    data["alert"] = {"failureThreshold": alert.failure_threshold, "successThreshold": alert.success_threshold,
                     "repeatInterval": alert.repeat_interval_s, "latencyThresholdMs": alert.latency_threshold_ms,
                     "checkHealthThreshold": alert.check_health_threshold}
    if target.silences:
        data["silences"] = [silence_to_dict(s) for s in target.silences]
    spec = target.spec
    if isinstance(spec, Connectivity):
        data["source"] = target.source_vm
        destination: dict[str, Any] = {"port": spec.port}
        if spec.destination_resource_id is not None:
            destination["resourceId"] = spec.destination_resource_id
        if spec.destination_address is not None:
            destination["address"] = spec.destination_address
        data["destination"] = destination
        if spec.protocol is not None:
            data["protocol"] = spec.protocol
        if spec.source_port is not None:
            data["sourcePort"] = spec.source_port
    elif isinstance(spec, IpFlow):
        data.update(vm=target.source_vm, direction=spec.direction, protocol=spec.protocol,
                    local={"ip": spec.local_ip, "port": spec.local_port},
                    remote={"ip": spec.remote_ip, "port": spec.remote_port})
        if spec.nic_resource_id is not None:
            data["nic"] = spec.nic_resource_id
    else:
        data.update(vm=target.source_vm, sourceIp=spec.source_ip, destinationIp=spec.destination_ip)
        if spec.nic_resource_id is not None:
            data["nic"] = spec.nic_resource_id
    return data
