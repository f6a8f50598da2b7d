"""The Location allow-list: the only gate between a URL from the outside and the app's ARM token."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.location import UnsafeLocation, check_location

ARM = "https://management.azure.com"
SUB = "00000000-0000-0000-0000-000000000000"
GOOD = (f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.Network/locations/westcentralus/"
        "operationResults/f09b55fe-1d3a-4df7-817f-bceb8d2a94c8?api-version=2017-03-01")


@pytest.mark.parametrize("location", [
    GOOD,
    GOOD.replace("management.azure.com", "MANAGEMENT.azure.com"),
    GOOD.replace("management.azure.com", "management.azure.com:443"),
    GOOD.replace("/providers/Microsoft.Network/", "/providers/microsoft.network/"),
    GOOD.replace("api-version=2017-03-01", "api-version=2026-01-01&foo=bar"),
])
def test_accepts_the_canonical_form(location: str) -> None:
    assert check_location(location, arm_endpoint=ARM, subscription=SUB) == location


@pytest.mark.parametrize(("location", "reason"), [
    ("", "missing"),
    (GOOD.replace("https://", "http://"), "scheme"),
    (GOOD.replace("https://", "ftp://"), "scheme"),
    (GOOD.replace("management.azure.com", "management.azure.com.evil.tld"), "host"),
    (GOOD.replace("management.azure.com", "evil.tld"), "host"),
    (GOOD.replace("management.azure.com", "127.0.0.1"), "host"),
    (GOOD.replace("management.azure.com", "x@management.azure.com"), "userinfo"),
    (GOOD.replace("management.azure.com", "management.azure.com@evil.tld"), "userinfo"),
    (GOOD.replace("management.azure.com", "management.azure.com:8443"), "port"),
    (GOOD.replace("management.azure.com", "management.azure.com:99999"), "valid URL"),
    (GOOD + "#frag", "fragment"),
    (GOOD.replace(SUB, "11111111-1111-1111-1111-111111111111"), "subscription"),
    (GOOD.replace("/providers/Microsoft.Network/locations/", "/providers/Microsoft.Compute/locations/"), "path"),
    (GOOD.replace("operationResults", "operations"), "path"),
    (GOOD.replace("/subscriptions/", "/subscriptions/../"), "path"),
    (GOOD.replace("westcentralus/", "westcentralus/../../"), "path"),
    (f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/"
     "networkWatchers/nw/connectivityCheck?api-version=2026-01-01", "path"),
    (GOOD.split("?")[0], "api-version"),
    (GOOD.replace("api-version=2017-03-01", "api-version="), "api-version"),
    (GOOD + "&x=" + "a" * 5000, "characters long"),
    (GOOD.replace("westcentralus", "west central us"), "whitespace"),
    (GOOD.replace("westcentralus", "west\ncentralus"), "whitespace"),
    (GOOD.replace("westcentralus", "wéstcentralus"), "non-ASCII"),
    ("https:/management.azure.com/subscriptions/x", "host"),  # the spec example's malformed Location
    ("//management.azure.com" + GOOD[len("https://management.azure.com"):], "scheme"),
])
def test_refuses_with_a_reason(location: str, reason: str) -> None:
    with pytest.raises(UnsafeLocation, match=reason):
        check_location(location, arm_endpoint=ARM, subscription=SUB)


def test_local_arm_endpoint_pins_the_port() -> None:
    local = GOOD.replace("https://management.azure.com", "https://127.0.0.1:8443")
    assert check_location(local, arm_endpoint="https://127.0.0.1:8443", subscription=SUB)
    with pytest.raises(UnsafeLocation, match="port"):
        check_location(local.replace(":8443", ":8444"), arm_endpoint="https://127.0.0.1:8443", subscription=SUB)


@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_without_crashing(text: str) -> None:
    with pytest.raises(UnsafeLocation):
        check_location(text, arm_endpoint=ARM, subscription=SUB)
