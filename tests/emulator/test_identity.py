"""The managed identity endpoint, exercised by the real azure-identity credentials."""

from __future__ import annotations

import json
import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError, DefaultAzureCredential, ManagedIdentityCredential

from emulator.stack import Emulator
from emulator.tokens import normalize_audience


def _claims(token: str) -> dict:
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_managed_identity_credential_gets_a_token_for_the_arm_audience(emu: Emulator) -> None:
    credential = ManagedIdentityCredential(client_id=emu.identity.client_id)
    token = credential.get_token("https://management.azure.com/.default")
    claims = _claims(token.token)
    assert claims["aud"] == "https://management.azure.com"
    assert claims["appid"] == emu.identity.client_id
    assert token.expires_on == claims["exp"]
    assert 3500 < token.expires_on - time.time() <= 3600


def test_monitor_scope_with_the_sdks_double_slash_is_the_monitor_audience(emu: Emulator) -> None:
    token = ManagedIdentityCredential(client_id=emu.identity.client_id).get_token("https://monitor.azure.com//.default")
    assert _claims(token.token)["aud"] == "https://monitor.azure.com"


def test_default_azure_credential_uses_the_managed_identity(emu: Emulator) -> None:
    # AZURE_CLIENT_ID (set by the emulator's settings) selects the user-assigned identity, as in Azure.
    token = DefaultAzureCredential().get_token("https://management.azure.com/.default")
    assert _claims(token.token)["appid"] == emu.identity.client_id


def test_credential_caches_tokens(emu: Emulator) -> None:
    credential = ManagedIdentityCredential(client_id=emu.identity.client_id)
    before = emu.identity.tokens_issued
    for _ in range(5):
        credential.get_token("https://management.azure.com/.default")
    assert emu.identity.tokens_issued - before == 1


def test_unknown_user_assigned_identity_is_refused(emu: Emulator) -> None:
    credential = ManagedIdentityCredential(client_id="99999999-9999-9999-9999-999999999999")
    with pytest.raises((ClientAuthenticationError, CredentialUnavailableError)):
        credential.get_token("https://management.azure.com/.default")


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"api-version": "2019-08-01", "resource": "https://management.azure.com"}, {}, 401),
        ({"api-version": "2019-08-01", "resource": "https://management.azure.com"},
         {"X-IDENTITY-HEADER": "wrong"}, 401),
        ({"resource": "https://management.azure.com"}, None, 400),
        ({"api-version": "2017-09-01", "resource": "https://management.azure.com"}, None, 400),
        ({"api-version": "2019-08-01"}, None, 400),
    ],
    ids=["no-header", "wrong-header", "no-api-version", "old-api-version", "no-resource"],
)
def test_identity_endpoint_refuses_bad_requests(emu: Emulator, params: dict, headers: dict | None,
                                                status: int) -> None:
    sent = {"X-IDENTITY-HEADER": emu.identity.header_secret} if headers is None else headers
    response = requests.get(emu.settings()["IDENTITY_ENDPOINT"], params=params, headers=sent, timeout=5)
    assert response.status_code == status
    assert response.json()["statusCode"] == status
    assert response.json()["message"]


def test_identity_fault_becomes_a_credential_error(emu: Emulator) -> None:
    emu.faults.add(service="identity", kind="status", status=503, count=None)
    credential = ManagedIdentityCredential(client_id=emu.identity.client_id)
    with pytest.raises(ClientAuthenticationError):
        credential.get_token("https://management.azure.com/.default", )


@pytest.mark.parametrize(
    ("resource", "audience"),
    [("https://management.azure.com/.default", "https://management.azure.com"),
     ("https://management.azure.com/", "https://management.azure.com"),
     ("https://monitor.azure.com//.default", "https://monitor.azure.com"),
     ("https://monitor.azure.com", "https://monitor.azure.com")],
)
def test_normalize_audience(resource: str, audience: str) -> None:
    assert normalize_audience(resource) == audience
