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

Where each part lives (each module imports only those listed before it):

- ``patterns``: the format version, limits, accepted values, the regular expressions shared with
  the JSON Schema, and the keys each mapping allows.
- ``document``: ``TargetError``, ``TargetListError`` and ``load_document`` (JSON or YAML text to
  plain data, duplicate keys refused).
- ``reader``: ``_Check``, which collects problems, and the readers of shared fields (ARM ids,
  addresses, durations, watchers, tags, alert settings).
- ``silences``: one-off and recurring silences, and ``silence_to_dict``.
- ``kinds``: the connectivity, ipFlow and nextHop parts of a target.
- ``entries``: ``defaults``, ``parse_target``, ``parse_target_list``, ``TargetList`` and
  ``target_to_dict``.
"""

from __future__ import annotations

from shared.target_list.document import TargetError, TargetListError, load_document
from shared.target_list.entries import TargetList, parse_target, parse_target_list, target_to_dict
from shared.target_list.patterns import (
    ADDRESS,
    ARM_TYPES,
    COMMON_KEYS,
    DEFAULT_KEYS,
    EXPECT,
    GUID,
    INTERVAL,
    IPV4,
    KIND_KEYS,
    MAX_BYTES,
    NAME,
    REPEAT,
    RESOURCE_GROUP,
    TAG_KEY,
    VERSION,
)
from shared.target_list.silences import silence_to_dict

__all__ = [
    "ADDRESS",
    "ARM_TYPES",
    "COMMON_KEYS",
    "DEFAULT_KEYS",
    "EXPECT",
    "GUID",
    "INTERVAL",
    "IPV4",
    "KIND_KEYS",
    "MAX_BYTES",
    "NAME",
    "REPEAT",
    "RESOURCE_GROUP",
    "TAG_KEY",
    "VERSION",
    "TargetError",
    "TargetList",
    "TargetListError",
    "load_document",
    "parse_target",
    "parse_target_list",
    "silence_to_dict",
    "target_to_dict",
]
