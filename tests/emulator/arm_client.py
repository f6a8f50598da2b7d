"""A tiny raw ARM caller for emulator tests: real token from the identity endpoint, real TLS."""

from __future__ import annotations

from typing import Any

import requests
from azure.identity import ManagedIdentityCredential

from emulator.seed_cases import SUBSCRIPTION, WATCHER, WATCHER_RG
from emulator.stack import Emulator

API_VERSION = "2026-01-01"


def arm_token(emu: Emulator, scope: str = "https://management.azure.com/.default") -> str:
    return ManagedIdentityCredential(client_id=emu.identity.client_id).get_token(scope).token


def operation_url(emu: Emulator, operation: str, api_version: str | None = API_VERSION,
                  subscription: str = SUBSCRIPTION, watcher: str = WATCHER) -> str:
    url = (f"{emu.arm_server.url}/subscriptions/{subscription}/resourceGroups/{WATCHER_RG}/providers/"
           f"Microsoft.Network/networkWatchers/{watcher}/{operation}")
    return f"{url}?api-version={api_version}" if api_version else url


def post(emu: Emulator, operation: str, body: Any, token: str | None = "", **kwargs: Any) -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token or arm_token(emu)}"}
    return requests.post(operation_url(emu, operation, **kwargs), json=body, headers=headers, timeout=10)


def get(emu: Emulator, url: str, token: str | None = "") -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token or arm_token(emu)}"}
    return requests.get(url, headers=headers, timeout=10)
