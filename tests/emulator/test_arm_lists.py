"""ARM's subscription-wide NIC and VNet lists: Azure's JSON shape, nextLink paging, throttling and
api-version checks; ``ArmClient.list_all`` following only safe nextLinks; and Azure's own pager
(azure-mgmt-network) reading every page, which proves the emulator pages as ARM does."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from azure.identity import ManagedIdentityCredential
from azure.mgmt.network import NetworkManagementClient

from emulator.httpserver import Reply, Request, RunningServer
from emulator.seed_cases import SUBSCRIPTION
from emulator.stack import Emulator
from shared.arm import ArmClient, PermanentArmError, TransientArmError
from tests.emulator.arm_client import API_VERSION, arm_token, get

NICS = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Network/networkInterfaces"
VNETS = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Network/virtualNetworks"
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ContosoRG/providers"
OTHER = "11111111-1111-1111-1111-111111111111"
SEED_NICS = ["appNic0", "fwNic", "auNic", "dbNic0", "appNic1", "appNic2", "appNic3", "webNic0"]


@pytest.fixture
def pages_of_two(emu: Emulator) -> Iterator[Emulator]:
    emu.arm.page_size = 2
    yield emu
    emu.arm.page_size = 50


def _url(emu: Emulator, path: str, api_version: str | None = API_VERSION) -> str:
    return f"{emu.arm_server.url}{path}" + (f"?api-version={api_version}" if api_version else "")


def _pages(emu: Emulator, path: str) -> list[dict[str, Any]]:
    token = arm_token(emu)
    pages = [get(emu, _url(emu, path), token=token).json()]
    while "nextLink" in pages[-1]:
        pages.append(get(emu, pages[-1]["nextLink"], token=token).json())
    return pages


# ---- the emulator's lists ----------------------------------------------------------------------

def test_nics_in_azures_shape(emu: Emulator) -> None:
    response = get(emu, _url(emu, NICS))
    assert response.status_code == 200
    assert int(response.headers["x-ms-ratelimit-remaining-subscription-reads"]) >= 0
    body = response.json()
    assert set(body) == {"value"}  # one page: no nextLink at all
    assert [n["name"] for n in body["value"]] == SEED_NICS
    au = body["value"][2]
    assert au["id"] == f"{RG}/Microsoft.Network/networkInterfaces/auNic"
    assert (au["type"], au["location"]) == ("Microsoft.Network/networkInterfaces", "westcentralus")
    properties = au["properties"]
    assert properties["virtualMachine"] == {"id": f"{RG}/Microsoft.Compute/virtualMachines/Auditor0"}
    assert properties["networkSecurityGroup"] == {"id": f"{RG}/Microsoft.Network/networkSecurityGroups/auNsg"}
    assert (properties["enableIPForwarding"], properties["primary"]) == (True, True)
    [config] = properties["ipConfigurations"]
    assert config["id"] == f"{au['id']}/ipConfigurations/ipconfig1" and config["name"] == "ipconfig1"
    assert config["properties"] == {
        "provisioningState": "Succeeded", "privateIPAddress": "10.1.3.4", "privateIPAllocationMethod": "Static",
        "subnet": {"id": f"{RG}/Microsoft.Network/virtualNetworks/ContosoVNet/subnets/AuditSubnet"},
        "primary": True, "privateIPAddressVersion": "IPv4"}
    db = body["value"][3]["properties"]
    assert "networkSecurityGroup" not in db  # dbNsg is on the subnet, not on the NIC
    assert db["enableIPForwarding"] is False


def test_vnets_in_azures_shape(emu: Emulator) -> None:
    body = get(emu, _url(emu, VNETS)).json()
    contoso, east = body["value"]
    assert contoso["id"] == f"{RG}/Microsoft.Network/virtualNetworks/ContosoVNet"
    assert contoso["type"] == "Microsoft.Network/virtualNetworks" and east["location"] == "eastus"
    assert contoso["properties"]["addressSpace"] == {"addressPrefixes": ["10.1.0.0/16"]}
    subnets = {s["name"]: s for s in contoso["properties"]["subnets"]}
    assert list(subnets) == ["AppSubnet", "FirewallSubnet", "AuditSubnet", "DatabaseSubnet", "GatewaySubnet"]
    app = subnets["AppSubnet"]
    assert app["id"] == f"{contoso['id']}/subnets/AppSubnet"
    assert app["properties"]["addressPrefix"] == "10.1.1.0/24"
    assert app["properties"]["networkSecurityGroup"] == {"id": f"{RG}/Microsoft.Network/networkSecurityGroups/appNsg"}
    assert app["properties"]["routeTable"] == {"id": f"{RG}/Microsoft.Network/routeTables/appRouteTable"}
    assert [c["id"].split("/")[8] for c in app["properties"]["ipConfigurations"]] == [
        "appNic0", "appNic1", "appNic2", "appNic3"]
    assert "routeTable" not in subnets["DatabaseSubnet"]["properties"]
    assert subnets["GatewaySubnet"]["properties"]["ipConfigurations"] == [
        {"id": f"{RG}/Microsoft.Network/virtualNetworkGateways/ContosoVpnGateway/ipConfigurations/default"}]
    assert [c["id"].split("/")[8] for c in subnets["AuditSubnet"]["properties"]["ipConfigurations"]] == ["auNic"]
    assert [s["name"] for s in east["properties"]["subnets"]] == ["WebSubnet"]


def test_pages_of_two_with_nextlinks_on_the_same_host(pages_of_two: Emulator) -> None:
    emu = pages_of_two
    pages = _pages(emu, NICS)
    assert [len(p["value"]) for p in pages] == [2, 2, 2, 2]
    assert [n["name"] for p in pages for n in p["value"]] == SEED_NICS
    for page in pages[:-1]:
        link = urlsplit(page["nextLink"])
        assert (link.scheme, link.netloc, link.path) == ("https", urlsplit(emu.arm_server.url).netloc, NICS)
        query = parse_qs(link.query)
        assert query["api-version"] == [API_VERSION] and len(query["$skiptoken"]) == 1
    assert "nextLink" not in pages[-1]
    assert [len(p["value"]) for p in _pages(emu, VNETS)] == [2]  # exactly one full page: no nextLink


def test_every_page_is_an_authenticated_throttled_read(pages_of_two: Emulator) -> None:
    emu = pages_of_two
    emu.arm.throttle.configure(read_burst=3, read_refill=0.01)
    token = arm_token(emu)
    first = get(emu, _url(emu, NICS), token=token)
    assert get(emu, first.json()["nextLink"], token=None).status_code == 401
    second = get(emu, first.json()["nextLink"], token=token)
    third = get(emu, second.json()["nextLink"], token=token)
    fourth = get(emu, third.json()["nextLink"], token=token)
    assert [r.status_code for r in (first, second, third, fourth)] == [200, 200, 200, 429]
    assert [r.headers["x-ms-ratelimit-remaining-subscription-reads"] for r in (first, second, third)] == [
        "2", "1", "0"]
    assert fourth.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert int(fourth.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(("path", "api_version", "status", "code"), [
    (NICS, None, 400, "MissingApiVersionParameter"),
    (VNETS, "latest", 400, "InvalidApiVersionParameter"),
    (NICS.replace(SUBSCRIPTION, OTHER), API_VERSION, 404, "SubscriptionNotFound"),
    (f"{NICS}?api-version={API_VERSION}&$skiptoken=bm90LWpzb24", None, 400, "InvalidSkipToken"),
    (f"{NICS}?api-version={API_VERSION}&$skiptoken=" +
     base64.urlsafe_b64encode(json.dumps({"offset": -2}).encode()).decode(), None, 400, "InvalidSkipToken"),
    (NICS.replace("networkInterfaces", "loadBalancers"), API_VERSION, 404, "InvalidResourceType"),
])
def test_list_errors_are_arm_errors(emu: Emulator, path: str, api_version: str | None, status: int,
                                    code: str) -> None:
    response = get(emu, _url(emu, path, api_version))
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_lists_are_read_only(emu: Emulator) -> None:
    response = requests.put(_url(emu, NICS), json={}, timeout=10,
                            headers={"Authorization": f"Bearer {arm_token(emu)}"})
    assert (response.status_code, response.json()["error"]["code"]) == (405, "MethodNotAllowed")


def test_a_skiptoken_past_the_end_is_an_empty_last_page(emu: Emulator) -> None:
    token = base64.urlsafe_b64encode(json.dumps({"offset": 99}).encode()).decode().rstrip("=")
    assert get(emu, f"{_url(emu, NICS)}&$skiptoken={token}").json() == {"value": []}


def test_the_foreign_next_link_fault(emu: Emulator) -> None:
    emu.faults.add(service="arm", kind="foreign_next_link", operation="virtualNetworks",
                   next_link="https://evil.example/x")
    assert get(emu, _url(emu, NICS)).json().get("nextLink") is None  # another operation: untouched
    assert get(emu, _url(emu, VNETS)).json()["nextLink"] == "https://evil.example/x"
    assert "nextLink" not in get(emu, _url(emu, VNETS)).json()  # count 1: used up


# ---- ArmClient.list_all ------------------------------------------------------------------------

class Listener:
    """A local server that answers like a list page: whatever it receives is a leak."""

    name = "listener"

    def handle(self, request: Request) -> Reply:
        return Reply.json(200, {"value": [{"id": "leaked"}]})


@pytest.fixture
def client(emu: Emulator) -> ArmClient:
    return ArmClient(emu.arm_server.url, ManagedIdentityCredential(client_id=emu.identity.client_id),
                     api_version="2024-05-01", timeout=(2, 5))


@pytest.fixture(scope="module")
def tls_listener(emulator: Emulator) -> Iterator[RunningServer]:
    server = RunningServer(Listener(), emulator.tls.server_context())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http_listener() -> Iterator[RunningServer]:
    server = RunningServer(Listener())
    yield server
    server.stop()


def test_list_all_follows_every_page(pages_of_two: Emulator, client: ArmClient) -> None:
    emu = pages_of_two
    emu.arm_server.clear_requests()
    nics = client.list_all(NICS, "2024-05-01")
    assert [n["name"] for n in nics] == SEED_NICS
    requested = [r.target for r in emu.arm_server.requests]
    assert len(requested) == 4 and requested[0] == f"{NICS}?api-version=2024-05-01"
    assert all("$skiptoken=" in r for r in requested[1:])
    assert all(r.authorization for r in emu.arm_server.requests)


def _relative(emu: Emulator, path: str) -> str:
    return f"{emu.arm_server.url}{path}"


@pytest.mark.parametrize(("make_link", "reason"), [
    pytest.param(lambda emu, tls, http: f"{tls.url}{NICS}?api-version=2024-05-01&$skiptoken=x",
                 "nextLink host|nextLink port", id="another-https-listener"),
    pytest.param(lambda emu, tls, http: f"{http.url}{NICS}?api-version=2024-05-01&$skiptoken=x",
                 "scheme is 'http'", id="an-http-listener"),
    pytest.param(lambda emu, tls, http: _relative(emu, NICS).replace("https://", "http://") + "?api-version=2024-05-01",
                 "scheme is 'http'", id="http-on-the-arm-port"),
    pytest.param(lambda emu, tls, http: f"https://localhost:{emu.arm_server.port}{NICS}?api-version=2024-05-01",
                 "host 'localhost' is not the ARM host '127.0.0.1'", id="another-name-for-the-host"),
    pytest.param(lambda emu, tls, http: _relative(emu, NICS.replace(SUBSCRIPTION, OTHER)) + "?api-version=2024-05-01",
                 f"subscription {OTHER} is not the list's {SUBSCRIPTION}", id="another-subscription"),
    pytest.param(lambda emu, tls, http: _relative(emu, VNETS) + "?api-version=2024-05-01",
                 "resource type Microsoft.Network/virtualNetworks is not the list's "
                 "Microsoft.Network/networkInterfaces", id="another-resource-type"),
    pytest.param(lambda emu, tls, http: _relative(emu, NICS.replace("/providers/", "/resourceGroups/ContosoRG/"
                                                                                   "providers/")),
                 "resource group 'ContosoRG' is not the list's None", id="another-scope"),
    pytest.param(lambda emu, tls, http: _relative(emu, f"{RG}/Microsoft.Compute/virtualMachines/MultiTierApp0"
                                                       "?api-version=2024-07-01"),
                 "nextLink path is not a list", id="a-resource-not-a-list"),
    pytest.param(lambda emu, tls, http: _relative(emu, f"/subscriptions/{SUBSCRIPTION}/providers/../providers/"
                                                       "Microsoft.Network/networkInterfaces"),
                 "nextLink path is not a list", id="dot-segments"),
    pytest.param(lambda emu, tls, http: _relative(emu, NICS).replace("https://", "https://me@") + "?api-version=1",
                 "userinfo", id="userinfo"),
    pytest.param(lambda emu, tls, http: _relative(emu, NICS) + "?api-version=2024-05-01#x", "fragment",
                 id="fragment"),
    pytest.param(lambda emu, tls, http: "/relative" + NICS, "scheme is 'missing'", id="relative"),
])
def test_an_unsafe_next_link_gets_no_request_and_no_token(
        emu: Emulator, client: ArmClient, tls_listener: RunningServer, http_listener: RunningServer,
        make_link: Any, reason: str) -> None:
    link = make_link(emu, tls_listener, http_listener)
    emu.faults.add(service="arm", kind="foreign_next_link", operation="networkInterfaces", next_link=link)
    for server in (emu.arm_server, tls_listener, http_listener):
        server.clear_requests()
    with pytest.raises(PermanentArmError) as info:
        client.list_all(NICS, "2024-05-01")
    assert info.value.code == "UnsafeNextLink"
    assert re.search(reason, info.value.message), info.value.message
    assert tls_listener.requests == [] and http_listener.requests == []
    assert [r.target for r in emu.arm_server.requests] == [f"{NICS}?api-version=2024-05-01"]  # the first page only


def test_a_next_link_loop_stops(emu: Emulator, client: ArmClient) -> None:
    start = base64.urlsafe_b64encode(json.dumps({"offset": 0}).encode()).decode()
    loop = _relative(emu, NICS) + f"?api-version=2024-05-01&$skiptoken={start}"
    emu.faults.add(service="arm", kind="foreign_next_link", operation="networkInterfaces", next_link=loop,
                   count=None)
    emu.arm_server.clear_requests()
    with pytest.raises(PermanentArmError, match="NextLinkLoop"):
        client.list_all(NICS, "2024-05-01")
    assert len(emu.arm_server.requests) == 2


def test_pages_are_capped(pages_of_two: Emulator, client: ArmClient) -> None:
    pages_of_two.arm_server.clear_requests()
    with pytest.raises(PermanentArmError, match=r"TooManyPages: .* after 3 pages"):
        client.list_all(NICS, "2024-05-01", max_pages=3)
    assert len(pages_of_two.arm_server.requests) == 3
    assert len(client.list_all(NICS, "2024-05-01", max_pages=4)) == 8


@pytest.mark.parametrize(("fault", "error", "code"), [
    ({"kind": "status", "status": 503, "code": "ServiceUnavailable"}, TransientArmError, "ServiceUnavailable"),
    ({"kind": "status", "status": 429, "code": "SubscriptionRequestsThrottled", "retry_after": 9},
     TransientArmError, "SubscriptionRequestsThrottled"),
    ({"kind": "reset"}, TransientArmError, "ConnectionError"),
    ({"kind": "status", "status": 403, "code": "AuthorizationFailed"}, PermanentArmError, "AuthorizationFailed"),
    ({"kind": "malformed_json"}, PermanentArmError, "InvalidArmResponse"),
])
def test_list_failures(emu: Emulator, client: ArmClient, fault: dict[str, Any], error: type[Exception],
                       code: str) -> None:
    emu.faults.add(service="arm", operation="networkInterfaces", **fault)
    with pytest.raises(error) as info:
        client.list_all(NICS, "2024-05-01")
    assert info.value.code == code  # type: ignore[attr-defined]
    if "retry_after" in fault:
        assert info.value.retry_after_s == 9  # type: ignore[attr-defined]


class Canned:
    name = "canned"

    def __init__(self, body: bytes) -> None:
        self.body = body

    def handle(self, request: Request) -> Reply:
        return Reply(200, self.body, {"Content-Type": "application/json"})


@pytest.mark.parametrize(("body", "message"), [
    (b"[]", "body is not an object"),
    (b'{"nextLink": null}', "'value' is not a list of objects"),
    (b'{"value": ["a NIC"]}', "'value' is not a list of objects"),
    (b'{"value": [], "nextLink": 5}', "'nextLink' is not a string"),
])
def test_a_malformed_page_is_permanent(emu: Emulator, body: bytes, message: str) -> None:
    server = RunningServer(Canned(body), emu.tls.server_context())
    try:
        client = ArmClient(server.url, ManagedIdentityCredential(client_id=emu.identity.client_id),
                           api_version="2024-05-01")
        with pytest.raises(PermanentArmError, match=f"InvalidArmResponse: .*{re.escape(message)}"):
            client.list_all(NICS, "2024-05-01")
    finally:
        server.stop()


@pytest.mark.parametrize("path", ["/subscriptions/x/providers/Microsoft.Network/networkInterfaces", "/", NICS + "/x",
                                  "https://elsewhere" + NICS])
def test_list_all_takes_only_a_list_path(emu: Emulator, client: ArmClient, path: str) -> None:
    emu.arm_server.clear_requests()
    with pytest.raises(PermanentArmError, match="InvalidListPath"):
        client.list_all(path, "2024-05-01")
    assert emu.arm_server.requests == []


# ---- Azure's own pager -------------------------------------------------------------------------

@pytest.fixture
def sdk(emu: Emulator) -> NetworkManagementClient:
    return NetworkManagementClient(ManagedIdentityCredential(client_id=emu.identity.client_id), SUBSCRIPTION,
                                   base_url=emu.arm_server.url,
                                   credential_scopes=["https://management.azure.com/.default"])


def test_azure_mgmt_network_pages_through_every_nic(pages_of_two: Emulator, sdk: NetworkManagementClient) -> None:
    emu = pages_of_two
    emu.arm_server.clear_requests()
    nics = list(sdk.network_interfaces.list_all())
    assert [n.name for n in nics] == SEED_NICS
    assert len(emu.arm_server.requests) == 4  # four pages, each followed by the SDK's own pager
    au = nics[2]
    assert au.virtual_machine.id.endswith("/virtualMachines/Auditor0")
    assert au.network_security_group.id.endswith("/networkSecurityGroups/auNsg")
    assert au.enable_ip_forwarding is True and au.primary is True
    config = au.ip_configurations[0]
    assert (config.name, config.private_ip_address, config.private_ip_allocation_method, config.primary) == (
        "ipconfig1", "10.1.3.4", "Static", True)
    assert config.subnet.id.endswith("/virtualNetworks/ContosoVNet/subnets/AuditSubnet")


def test_azure_mgmt_network_reads_the_vnets(pages_of_two: Emulator, sdk: NetworkManagementClient) -> None:
    pages_of_two.arm.page_size = 1
    vnets = list(sdk.virtual_networks.list_all())
    assert [v.name for v in vnets] == ["ContosoVNet", "EastVNet"]
    assert vnets[0].address_space.address_prefixes == ["10.1.0.0/16"]
    app = vnets[0].subnets[0]
    assert (app.name, app.address_prefix) == ("AppSubnet", "10.1.1.0/24")
    assert app.network_security_group.id.endswith("/appNsg") and app.route_table.id.endswith("/appRouteTable")
    assert len(app.ip_configurations) == 4
