"""The targets of a list: ``defaults``, one target (``parse_target``), the whole file
(``parse_target_list`` into a :class:`TargetList`) and ``target_to_dict``, which writes a target back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from shared.schedule import MAX_INTERVAL_S
from shared.target_list.document import TargetError, TargetListError, _show, load_document
from shared.target_list.kinds import _SPECS
from shared.target_list.patterns import COMMON_KEYS, DEFAULT_KEYS, EXPECT, KIND_KEYS, NAME, TOP_KEYS, VERSION
from shared.target_list.reader import _alert, _Check, _duration, _subscription, _tags, _watcher
from shared.target_list.silences import _silences, silence_to_dict
from shared.targets import (
    DEFAULT_EXPECT,
    KINDS,
    AlertSettings,
    Connectivity,
    IpFlow,
    Kind,
    Silence,
    Target,
    WatcherRef,
)

_MISSING = object()


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
