"""Azure's own client (azure-mgmt-network) against the emulator: it speaks ARM, not our idea of it.

The client authenticates with ManagedIdentityCredential against the emulator's identity endpoint,
trusts the emulator through REQUESTS_CA_BUNDLE (never by turning verification off), starts each
seed operation and lets its own LRO poller follow Location and Retry-After to the result.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import (
    ConnectivityDestination,
    ConnectivityParameters,
    ConnectivitySource,
    NextHopParameters,
    VerificationIPFlowParameters,
)

from emulator.seed_cases import DATABASE0, MULTI_TIER_APP0, SUBSCRIPTION, WATCHER, WATCHER_RG
from emulator.stack import Emulator


@pytest.fixture
def client(emu: Emulator) -> NetworkManagementClient:
    emu.arm.lro.operation_seconds = 1.5  # at least one 202 from the Location before the 200
    return NetworkManagementClient(ManagedIdentityCredential(client_id=emu.identity.client_id), SUBSCRIPTION,
                                   base_url=emu.arm_server.url,
                                   credential_scopes=["https://management.azure.com/.default"])


def _connectivity(client: NetworkManagementClient, **destination) -> object:
    poller = client.network_watchers.begin_check_connectivity(
        WATCHER_RG, WATCHER,
        ConnectivityParameters(source=ConnectivitySource(resource_id=MULTI_TIER_APP0, port=0),
                               destination=ConnectivityDestination(**destination)),
        polling_interval=0.2)
    return poller.result(timeout=30)


def test_connectivity_blocked_by_an_nsg_rule_on_the_second_appliance(emu: Emulator, client) -> None:
    result = _connectivity(client, resource_id=DATABASE0, port=80)
    assert result.connection_status == "Unreachable"
    assert (result.probes_sent, result.probes_failed) == (100, 100)
    assert [(h.type, h.address) for h in result.hops] == [
        ("Source", "10.1.1.4"), ("VirtualAppliance", "10.1.2.4"), ("VirtualAppliance", "10.1.3.4"),
        ("VnetLocal", "10.1.4.4")]
    assert [h.resource_id.rsplit("/networkInterfaces/", 1)[1] for h in result.hops] == [
        "appNic0/ipConfigurations/ipconfig1", "fwNic/ipConfigurations/ipconfig1",
        "auNic/ipConfigurations/ipconfig1", "dbNic0/ipConfigurations/ipconfig1"]
    [issue] = result.hops[2].issues
    assert (issue.origin, issue.severity, issue.type) == ("Outbound", "Error", "NetworkSecurityRule")
    assert issue.context == [{"key": "RuleName", "value": "UserRule_Port80"}]
    assert all(not h.issues for i, h in enumerate(result.hops) if i != 2)
    assert [h.next_hop_ids for h in result.hops][:-1] == [[h.id] for h in result.hops[1:]]
    # the poller really polled: the operation ran 1.5 s with Retry-After 1
    assert emu.arm.operations and max(op.polls for op in emu.arm.operations.values()) >= 2


def test_connectivity_blocked_by_a_user_defined_route(client) -> None:
    result = _connectivity(client, address="13.107.21.200", port=80)
    assert result.connection_status == "Unreachable"
    assert [(h.type, h.address, h.resource_id) for h in result.hops][1] == ("Destination", "13.107.21.200", "Unknown")
    [issue] = result.hops[0].issues
    assert (issue.origin, issue.type, issue.context) == ("Outbound", "UserDefinedRoute",
                                                         [{"key": "RouteType", "value": "User"}])


@pytest.mark.parametrize(("address", "internet_ip"), [("https://bing.com", "204.79.197.200"),
                                                      ("https://build2017nwdiag360.blob.core.windows.net/",
                                                       "13.71.200.248")])
def test_connectivity_reachable_through_the_internet(client, address: str, internet_ip: str) -> None:
    result = _connectivity(client, address=address, port=0)
    assert result.connection_status == "Reachable"
    assert [(h.type, h.address, h.resource_id) for h in result.hops] == [
        ("Source", "10.1.1.4", result.hops[0].resource_id), ("Internet", internet_ip, "Internet")]
    assert (result.avg_latency_in_ms, result.min_latency_in_ms, result.max_latency_in_ms) == (1, 0, 7)
    assert (result.probes_sent, result.probes_failed) == (100, 0)


@pytest.mark.parametrize(
    ("direction", "local", "remote", "access", "rule"),
    [("Outbound", ("10.1.1.4", "60000"), ("13.107.21.200", "443"), "Allow",
      "defaultSecurityRules/AllowInternetOutBound"),
     ("Inbound", ("10.1.1.4", "3389"), ("203.0.113.10", "50000"), "Deny",
      "defaultSecurityRules/DefaultInboundDenyAll")],
)
def test_ip_flow_verify(client, direction: str, local: tuple, remote: tuple, access: str, rule: str) -> None:
    poller = client.network_watchers.begin_verify_ip_flow(
        WATCHER_RG, WATCHER,
        VerificationIPFlowParameters(target_resource_id=MULTI_TIER_APP0, direction=direction, protocol="TCP",
                                     local_ip_address=local[0], local_port=local[1],
                                     remote_ip_address=remote[0], remote_port=remote[1]),
        polling_interval=0.2)
    result = poller.result(timeout=30)
    assert (result.access, result.rule_name) == (access, rule)


def test_next_hop(client) -> None:
    poller = client.network_watchers.begin_get_next_hop(
        WATCHER_RG, WATCHER,
        NextHopParameters(target_resource_id=MULTI_TIER_APP0, source_ip_address="10.1.1.4",
                          destination_ip_address="10.1.4.4"), polling_interval=0.2)
    result = poller.result(timeout=30)
    assert (result.next_hop_type, result.next_hop_ip_address) == ("VirtualAppliance", "10.1.2.4")
    assert result.route_table_id.lower().endswith("/providers/microsoft.network/routetables/approutetable")


def test_sdk_sees_arm_errors(client) -> None:
    with pytest.raises(HttpResponseError) as info:
        client.network_watchers.begin_check_connectivity(
            WATCHER_RG, "NetworkWatcher_nowhere",
            ConnectivityParameters(source=ConnectivitySource(resource_id=MULTI_TIER_APP0),
                                   destination=ConnectivityDestination(address="10.1.4.4", port=80)),
        ).result(timeout=30)
    assert info.value.status_code == 404
    assert info.value.error.code == "ResourceNotFound"
