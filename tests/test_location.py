"""The Location allow-list: the only gate between a URL from the outside and the app's ARM token."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.location import UnsafeLocation, check_location, check_next_link, parse_list_path

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


# ---- a list page's nextLink --------------------------------------------------------------------

NICS = f"/subscriptions/{SUB}/providers/Microsoft.Network/networkInterfaces"
NEXT = f"https://management.azure.com{NICS}?api-version=2024-05-01&$skiptoken=eyJvZmZzZXQiOiAyfQ"


@pytest.mark.parametrize(("link", "list_path"), [
    (NEXT, NICS),
    (NEXT.replace("/providers/Microsoft.Network/networkInterfaces", "/providers/microsoft.network/NETWORKINTERFACES"),
     NICS),
    (NEXT.replace("management.azure.com", "Management.Azure.com:443"), NICS),
    (NEXT.split("?")[0], NICS),  # no api-version: not a safety matter
    (NEXT.replace(NICS, NICS.replace("/providers/", "/resourceGroups/Contoso_RG-1.(x)/providers/")),
     NICS.replace("/providers/", "/resourceGroups/contoso_rg-1.(X)/providers/")),
])
def test_next_link_of_the_same_list_is_accepted(link: str, list_path: str) -> None:
    assert check_next_link(link, arm_endpoint=ARM, list_path=list_path) == link


@pytest.mark.parametrize(("link", "reason"), [
    ("", "nextLink is missing"),
    (NEXT.replace("https://", "http://"), "nextLink scheme is 'http'"),
    (NEXT.replace("management.azure.com", "management.azure.com.evil.tld"), "nextLink host"),
    (NEXT.replace("management.azure.com", "management.azure.com:8443"), "nextLink port 8443"),
    (NEXT.replace("management.azure.com", "token@management.azure.com"), "userinfo"),
    (NEXT + "#f", "fragment"),
    (NEXT.replace(SUB, "11111111-1111-1111-1111-111111111111"), "subscription 11111111"),
    (NEXT.replace("networkInterfaces", "virtualNetworks"), "resource type Microsoft.Network/virtualNetworks"),
    (NEXT.replace("Microsoft.Network", "Microsoft.Compute"), "resource type Microsoft.Compute/networkInterfaces"),
    (NEXT.replace("/providers/", "/resourceGroups/rg/providers/"), "resource group 'rg'"),
    (NEXT.replace("/networkInterfaces", "/networkInterfaces/nic1"), "path is not a list"),
    (NEXT.replace("/providers/", "/providers/../providers/"), "path is not a list"),
    (NEXT.replace("/providers/", "/resourceGroups/%2e%2e/providers/"), "path is not a list"),
    (NEXT.replace(SUB, "not-a-subscription"), "path is not a list"),
    (NEXT + "&x=" + "a" * 5000, "characters long"),
    (NEXT.replace("$skiptoken", "$skip token"), "whitespace"),
])
def test_next_link_refused_with_a_reason(link: str, reason: str) -> None:
    with pytest.raises(UnsafeLocation, match=re.escape(reason)):
        check_next_link(link, arm_endpoint=ARM, list_path=NICS)


def test_a_resource_group_list_stays_in_its_resource_group() -> None:
    group = NICS.replace("/providers/", "/resourceGroups/rg1/providers/")
    with pytest.raises(UnsafeLocation, match="resource group None is not the list's 'rg1'"):
        check_next_link(NEXT, arm_endpoint=ARM, list_path=group)


@given(st.text(max_size=300))
def test_arbitrary_next_links_are_refused_without_crashing(text: str) -> None:
    with pytest.raises(UnsafeLocation):
        check_next_link(text, arm_endpoint=ARM, list_path=NICS)


@pytest.mark.parametrize("path", ["", "/", NICS + "/", f"/subscriptions/{SUB}/providers/x", NICS + "/nic1"])
def test_list_paths_have_one_shape(path: str) -> None:
    with pytest.raises(ValueError, match="not a list path"):
        parse_list_path(path)
