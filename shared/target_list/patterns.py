"""The target list's building blocks: format version and limits, the values each field accepts,
the regular expressions shared with the JSON Schema, and the keys each mapping allows."""

from __future__ import annotations

import re

from shared.targets import IP_FLOW_STATUSES, NEXT_HOP_TYPES

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
