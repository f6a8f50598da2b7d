"""Decide whether a URL ARM handed us may receive the app's ARM bearer token.

Two kinds of such URLs: an operation ``Location`` (from an ARM answer or from a poll message;
either could have been tampered with) and a list page's ``nextLink``. Before a token is attached
we require, for both: https, exactly the configured ARM host and port, no userinfo or fragment, a
sane length, and a path of the expected shape in the expected subscription. A Location must be
Network Watcher's operation-result path and carry an ``api-version``; a nextLink must be the very
list it continues (same subscription, same scope, same resource type). Anything else is refused
with the reason.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qs, urlsplit

MAX_LENGTH = 4096  # ARM: clients must accept at least 4 KB; we accept no more
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[0-9a-fA-F-]{36})/providers/Microsoft\.Network/locations/(?P<region>[A-Za-z0-9]+)"
    r"/operationResults/(?P<op>[A-Za-z0-9-]{1,128})$",
    re.IGNORECASE,
)
# A subscription- or resource-group-scope list of one top-level resource type.
_NAME = r"[A-Za-z0-9_()-][A-Za-z0-9_.()-]{0,89}"
_LIST_PATH = re.compile(
    rf"^/subscriptions/(?P<sub>{_GUID})(?:/resourceGroups/(?P<rg>{_NAME}))?"
    r"/providers/(?P<type>[A-Za-z][A-Za-z0-9.]{0,99}/[A-Za-z][A-Za-z0-9]{0,99})$",
    re.IGNORECASE,
)


class UnsafeLocation(ValueError):
    """The URL must not be fetched with a token; the message says why."""


def _port(scheme_default: int, port: int | None) -> int:
    return scheme_default if port is None else port


def _check_arm_url(url_text: str, arm_endpoint: str, what: str) -> SplitResult:
    """The parts of ``url_text`` once it is known to be https on exactly the ARM host and port."""
    if not isinstance(url_text, str) or not url_text:
        raise UnsafeLocation(f"{what} is missing or empty")
    if len(url_text) > MAX_LENGTH:
        raise UnsafeLocation(f"{what} is {len(url_text)} characters long; at most {MAX_LENGTH} are accepted")
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in url_text):
        raise UnsafeLocation(f"{what} contains whitespace, control or non-ASCII characters")
    expected = urlsplit(arm_endpoint)
    try:
        url = urlsplit(url_text)
        port = url.port
    except ValueError as exc:
        raise UnsafeLocation(f"{what} is not a valid URL: {exc}") from None
    if url.scheme != "https":
        raise UnsafeLocation(f"{what} scheme is {url.scheme or 'missing'!r}; only https may carry a token")
    if url.username is not None or url.password is not None or "@" in url.netloc:
        raise UnsafeLocation(f"{what} carries userinfo ('user@host')")
    if (url.hostname or "").lower() != (expected.hostname or "").lower():
        raise UnsafeLocation(f"{what} host {url.hostname!r} is not the ARM host {expected.hostname!r}")
    if _port(443, port) != _port(443, expected.port):
        raise UnsafeLocation(f"{what} port {_port(443, port)} is not the ARM port {_port(443, expected.port)}")
    if url.fragment or url_text.endswith("#"):
        raise UnsafeLocation(f"{what} has a fragment")
    return url


def check_location(location: str, *, arm_endpoint: str, subscription: str) -> str:
    """Return ``location`` if it is safe to GET with the ARM token, else raise UnsafeLocation."""
    url = _check_arm_url(location, arm_endpoint, "Location")
    match = _PATH.match(url.path)
    if match is None:
        raise UnsafeLocation(
            "Location path is not .../subscriptions/{id}/providers/Microsoft.Network/locations/{region}"
            f"/operationResults/{{id}}: {url.path[:200]!r}")
    if match.group("sub").lower() != subscription.lower():
        raise UnsafeLocation(f"Location subscription {match.group('sub')} is not the check's {subscription}")
    query = parse_qs(url.query, keep_blank_values=True)
    if not query.get("api-version", [""])[0]:
        raise UnsafeLocation("Location has no api-version")
    return location


def parse_list_path(path: str) -> tuple[str, str | None, str]:
    """(subscription, resource group or None, ``Namespace/type``) of a list path such as
    ``/subscriptions/{id}/providers/Microsoft.Network/networkInterfaces``; ValueError otherwise."""
    match = _LIST_PATH.match(path)
    if match is None:
        raise ValueError(f"not a list path /subscriptions/{{id}}[/resourceGroups/{{rg}}]/providers/{{namespace}}"
                         f"/{{type}}: {path[:200]!r}")
    return match.group("sub"), match.group("rg"), match.group("type")


def check_next_link(next_link: str, *, arm_endpoint: str, list_path: str) -> str:
    """Return ``next_link`` if it may be fetched with the ARM token as the next page of the list at
    ``list_path`` (the path of the first page), else raise UnsafeLocation."""
    url = _check_arm_url(next_link, arm_endpoint, "nextLink")
    subscription, group, resource_type = parse_list_path(list_path)
    try:
        link_subscription, link_group, link_type = parse_list_path(url.path)
    except ValueError:
        raise UnsafeLocation(f"nextLink path is not a list of {resource_type} in subscription {subscription}: "
                             f"{url.path[:200]!r}") from None
    if link_subscription.lower() != subscription.lower():
        raise UnsafeLocation(f"nextLink subscription {link_subscription} is not the list's {subscription}")
    if (link_group or "").lower() != (group or "").lower():
        raise UnsafeLocation(f"nextLink resource group {link_group!r} is not the list's {group!r}")
    if link_type.lower() != resource_type.lower():
        raise UnsafeLocation(f"nextLink resource type {link_type} is not the list's {resource_type}")
    return next_link
