"""Azure network security group (NSG) semantics: rule parsing, default rules, evaluation.

Pure functions over small frozen dataclasses. The model module builds these from the
scenario file; the operations module asks "which rule decides this flow at this NIC?".

Semantics implemented (and what they simplify):
- Rules of the flow's direction are tried in ascending priority; the first match decides.
  Azure's six default rules (priority 65000-65500) always follow the user rules.
- Inbound traffic meets the subnet NSG first, then the NIC NSG; outbound traffic meets the
  NIC NSG first, then the subnet NSG. Both levels must allow. A level without an NSG allows.
- Service tags: ``VirtualNetwork`` is the evaluating NIC's VNet address space (the caller
  passes it in; on-premises and UDR prefixes, which Azure also folds into the tag, are not
  modelled). ``Internet`` is any address outside every VNet address space in the scenario,
  outside RFC 1918 and not 168.63.129.16. ``AzureLoadBalancer`` is 168.63.129.16/32.
- A flow's port (or protocol) may be a range or ``*`` (IP flow verify allows that); a rule
  matches only when it covers the whole requested range. Azure does not document how it
  treats partial overlaps, so containment is this emulator's choice.
- ICMP has no ports: port ranges are ignored for ICMP flows.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

PortRange = tuple[int, int]

ALL_PORTS: PortRange = (0, 65535)
INBOUND = "Inbound"
OUTBOUND = "Outbound"
ALLOW = "Allow"
DENY = "Deny"

DIRECTIONS = {"inbound": INBOUND, "outbound": OUTBOUND}
ACCESSES = {"allow": ALLOW, "deny": DENY}
PROTOCOLS = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "*": "*"}

TAG_VIRTUAL_NETWORK = "VirtualNetwork"
TAG_INTERNET = "Internet"
TAG_AZURE_LOAD_BALANCER = "AzureLoadBalancer"
SERVICE_TAGS = {tag.lower(): tag for tag in (TAG_VIRTUAL_NETWORK, TAG_INTERNET, TAG_AZURE_LOAD_BALANCER)}

AZURE_PLATFORM_IP = IPv4Network("168.63.129.16/32")
RFC1918 = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
)


@dataclass(frozen=True)
class SecurityRule:
    """One NSG rule, normalised. Prefixes are ``*``, a canonical service tag, or a CIDR string."""

    name: str
    priority: int
    direction: str
    access: str
    protocol: str
    source_prefixes: tuple[str, ...]
    destination_prefixes: tuple[str, ...]
    source_ports: tuple[PortRange, ...]
    destination_ports: tuple[PortRange, ...]
    default: bool = False

    @property
    def arm_name(self) -> str:
        """The name IP flow verify returns: Azure prefixes the collection the rule lives in."""
        collection = "defaultSecurityRules" if self.default else "securityRules"
        return f"{collection}/{self.name}"

    @property
    def flow_log_name(self) -> str:
        """The data-plane name connectivity check issues use (as in NSG flow logs)."""
        return f"{'DefaultRule' if self.default else 'UserRule'}_{self.name}"


@dataclass(frozen=True)
class Flow:
    """A flow as one NIC sees it. Ports are inclusive ranges so that ``*`` can be expressed."""

    direction: str
    protocol: str
    source_ip: IPv4Address
    source_ports: PortRange
    destination_ip: IPv4Address
    destination_ports: PortRange


@dataclass(frozen=True)
class TagContext:
    """What the service tags mean for the NIC being evaluated."""

    virtual_network: tuple[IPv4Network, ...]
    all_vnet_spaces: tuple[IPv4Network, ...]

    def tag_contains(self, tag: str, ip: IPv4Address) -> bool:
        if tag == TAG_VIRTUAL_NETWORK:
            return any(ip in net for net in self.virtual_network)
        if tag == TAG_AZURE_LOAD_BALANCER:
            return ip in AZURE_PLATFORM_IP
        if tag == TAG_INTERNET:
            return not (
                any(ip in net for net in self.all_vnet_spaces)
                or any(ip in net for net in RFC1918)
                or ip in AZURE_PLATFORM_IP
            )
        raise ValueError(f"unknown service tag {tag!r}")


@dataclass(frozen=True)
class NsgDecision:
    """The rule that decided a flow at one NSG."""

    nsg_name: str
    rule: SecurityRule

    @property
    def access(self) -> str:
        return self.rule.access


@dataclass(frozen=True)
class Verdict:
    """The outcome across the NSG levels of one NIC, in evaluation order."""

    access: str
    decisions: tuple[NsgDecision, ...]

    @property
    def deciding(self) -> NsgDecision | None:
        """The deny that stopped the flow, else the last allow; None when no NSG applied."""
        if not self.decisions:
            return None
        return self.decisions[-1]


# --------------------------------------------------------------------------- parsing


def parse_direction(value: Any) -> str:
    if isinstance(value, str) and value.lower() in DIRECTIONS:
        return DIRECTIONS[value.lower()]
    raise ValueError(f"must be one of Inbound, Outbound (got {value!r})")


def parse_access(value: Any) -> str:
    if isinstance(value, str) and value.lower() in ACCESSES:
        return ACCESSES[value.lower()]
    raise ValueError(f"must be one of Allow, Deny (got {value!r})")


def parse_protocol(value: Any) -> str:
    if isinstance(value, str) and value.lower() in PROTOCOLS:
        return PROTOCOLS[value.lower()]
    raise ValueError(f"must be one of Tcp, Udp, Icmp, * (got {value!r})")


def parse_address_prefix(value: Any) -> str:
    """``*``, a service tag, an IPv4 CIDR (host bits must be zero) or a single IPv4 address."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be '*', a service tag, a CIDR or an IP address (got {value!r})")
    text = value.strip()
    if text == "*":
        return "*"
    if text.lower() in SERVICE_TAGS:
        return SERVICE_TAGS[text.lower()]
    try:
        return str(IPv4Network(text, strict=True))
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not '*', a known service tag "
            f"({', '.join(sorted(SERVICE_TAGS.values()))}), an IPv4 CIDR or an IPv4 address ({exc})"
        ) from None


def parse_port_range(value: Any) -> PortRange:
    """``*``, a single port (int or string) or an inclusive range ``"80-120"``."""
    if isinstance(value, bool):
        raise ValueError(f"must be '*', a port or a range like '80-120' (got {value!r})")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str) and value.strip() == "*":
        return ALL_PORTS
    elif isinstance(value, str):
        parts = value.strip().split("-")
        if len(parts) not in (1, 2) or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"must be '*', a port or a range like '80-120' (got {value!r})")
        low, high = int(parts[0]), int(parts[-1])
    else:
        raise ValueError(f"must be '*', a port or a range like '80-120' (got {value!r})")
    if not (0 <= low <= 65535 and 0 <= high <= 65535):
        raise ValueError(f"ports must be within 0..65535 (got {value!r})")
    if low > high:
        raise ValueError(f"range start must not exceed its end (got {value!r})")
    return (low, high)


# --------------------------------------------------------------------------- default rules

# (canonical name, priority, direction, access, source, destination) - Azure's current names.
_DEFAULT_RULES: tuple[tuple[str, int, str, str, str, str], ...] = (
    ("AllowVnetInBound", 65000, INBOUND, ALLOW, TAG_VIRTUAL_NETWORK, TAG_VIRTUAL_NETWORK),
    ("AllowAzureLoadBalancerInBound", 65001, INBOUND, ALLOW, TAG_AZURE_LOAD_BALANCER, "*"),
    ("DenyAllInBound", 65500, INBOUND, DENY, "*", "*"),
    ("AllowVnetOutBound", 65000, OUTBOUND, ALLOW, TAG_VIRTUAL_NETWORK, TAG_VIRTUAL_NETWORK),
    ("AllowInternetOutBound", 65001, OUTBOUND, ALLOW, "*", TAG_INTERNET),
    ("DenyAllOutBound", 65500, OUTBOUND, DENY, "*", "*"),
)
DEFAULT_RULE_NAMES = tuple(rule[0] for rule in _DEFAULT_RULES)


def default_rules(renames: Mapping[str, str] | None = None) -> tuple[SecurityRule, ...]:
    """Azure's default rules; ``renames`` maps a canonical name to the name to report."""
    renames = renames or {}
    return tuple(
        SecurityRule(
            name=renames.get(name, name),
            priority=priority,
            direction=direction,
            access=access,
            protocol="*",
            source_prefixes=(source,),
            destination_prefixes=(destination,),
            source_ports=(ALL_PORTS,),
            destination_ports=(ALL_PORTS,),
            default=True,
        )
        for name, priority, direction, access, source, destination in _DEFAULT_RULES
    )


# --------------------------------------------------------------------------- matching


def _prefix_contains(prefix: str, ip: IPv4Address, ctx: TagContext) -> bool:
    if prefix == "*":
        return True
    if prefix in SERVICE_TAGS.values():
        return ctx.tag_contains(prefix, ip)
    return ip in ipaddress.IPv4Network(prefix)


def _merge(ranges: Iterable[PortRange]) -> list[PortRange]:
    """Union of inclusive ranges, so that '80-90' plus '91-100' covers 85-95."""
    merged: list[PortRange] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _ports_cover(rule_ports: Sequence[PortRange], wanted: PortRange) -> bool:
    return any(low <= wanted[0] and wanted[1] <= high for low, high in _merge(rule_ports))


def rule_matches(rule: SecurityRule, flow: Flow, ctx: TagContext) -> bool:
    if rule.direction != flow.direction:
        return False
    # A '*' flow (IP flow verify) is only covered by a '*' rule: containment, see module doc.
    if rule.protocol != "*" and rule.protocol != flow.protocol:
        return False
    if not any(_prefix_contains(p, flow.source_ip, ctx) for p in rule.source_prefixes):
        return False
    if not any(_prefix_contains(p, flow.destination_ip, ctx) for p in rule.destination_prefixes):
        return False
    if flow.protocol == "Icmp":
        return True
    return _ports_cover(rule.source_ports, flow.source_ports) and _ports_cover(
        rule.destination_ports, flow.destination_ports
    )


def evaluate_nsg(
    user_rules: Sequence[SecurityRule],
    defaults: Sequence[SecurityRule],
    flow: Flow,
    ctx: TagContext,
) -> SecurityRule:
    """The first matching rule by priority; the default DenyAll rules guarantee a match."""
    ordered = sorted((r for r in user_rules if r.direction == flow.direction), key=lambda r: r.priority) + sorted(
        (r for r in defaults if r.direction == flow.direction), key=lambda r: r.priority
    )
    for rule in ordered:
        if rule_matches(rule, flow, ctx):
            return rule
    raise LookupError("no rule matched; the default rules are missing")  # pragma: no cover


@dataclass(frozen=True)
class NsgLevel:
    """An NSG as one level of evaluation: its name and user rules."""

    name: str
    rules: tuple[SecurityRule, ...]


def evaluate_levels(
    flow: Flow,
    subnet_nsg: NsgLevel | None,
    nic_nsg: NsgLevel | None,
    defaults: Sequence[SecurityRule],
    ctx: TagContext,
) -> Verdict:
    """Evaluate the subnet and NIC NSGs in Azure's order for the flow's direction."""
    levels = [subnet_nsg, nic_nsg] if flow.direction == INBOUND else [nic_nsg, subnet_nsg]
    decisions: list[NsgDecision] = []
    for level in levels:
        if level is None:
            continue  # no NSG at this level: the level allows everything
        rule = evaluate_nsg(level.rules, defaults, flow, ctx)
        decisions.append(NsgDecision(level.name, rule))
        if rule.access == DENY:
            return Verdict(DENY, tuple(decisions))
    return Verdict(ALLOW, tuple(decisions))
