"""Decide whether an operation ``Location`` may receive the app's ARM bearer token.

A Location comes from an ARM answer or from a poll message; either could have been tampered with.
Before a token is attached we require: https, exactly the configured ARM host and port, no
userinfo or fragment, Network Watcher's operation-result path shape, the subscription of the check,
an ``api-version``, and a sane length. Anything else is refused with the reason.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

MAX_LENGTH = 4096  # ARM: clients must accept at least 4 KB; we accept no more
_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[0-9a-fA-F-]{36})/providers/Microsoft\.Network/locations/(?P<region>[A-Za-z0-9]+)"
    r"/operationResults/(?P<op>[A-Za-z0-9-]{1,128})$",
    re.IGNORECASE,
)


class UnsafeLocation(ValueError):
    """The Location must not be fetched with a token; the message says why."""


def _port(scheme_default: int, port: int | None) -> int:
    return scheme_default if port is None else port


def check_location(location: str, *, arm_endpoint: str, subscription: str) -> str:
    """Return ``location`` if it is safe to GET with the ARM token, else raise UnsafeLocation."""
    if not isinstance(location, str) or not location:
        raise UnsafeLocation("Location is missing or empty")
    if len(location) > MAX_LENGTH:
        raise UnsafeLocation(f"Location is {len(location)} characters long; at most {MAX_LENGTH} are accepted")
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in location):
        raise UnsafeLocation("Location contains whitespace, control or non-ASCII characters")
    expected = urlsplit(arm_endpoint)
    try:
        url = urlsplit(location)
        port = url.port
    except ValueError as exc:
        raise UnsafeLocation(f"Location is not a valid URL: {exc}") from None
    if url.scheme != "https":
        raise UnsafeLocation(f"Location scheme is {url.scheme or 'missing'!r}; only https may carry a token")
    if url.username is not None or url.password is not None or "@" in url.netloc:
        raise UnsafeLocation("Location carries userinfo ('user@host')")
    if (url.hostname or "").lower() != (expected.hostname or "").lower():
        raise UnsafeLocation(f"Location host {url.hostname!r} is not the ARM host {expected.hostname!r}")
    if _port(443, port) != _port(443, expected.port):
        raise UnsafeLocation(f"Location port {_port(443, port)} is not the ARM port {_port(443, expected.port)}")
    if url.fragment or location.endswith("#"):
        raise UnsafeLocation("Location has a fragment")
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
