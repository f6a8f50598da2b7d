"""``python -m emulator`` as another process: it starts, prints the settings, and they work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from azure.identity import ManagedIdentityCredential

ROOT = Path(__file__).resolve().parents[2]


def test_python_m_emulator_prints_working_settings() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--no-azurite"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("}"):
                break
        settings = json.loads("".join(lines))
        assert settings["ARM_ENDPOINT"].startswith("https://127.0.0.1:")
        saved = dict(os.environ)
        os.environ.update(settings)
        try:
            token = ManagedIdentityCredential(client_id=settings["AZURE_CLIENT_ID"]).get_token(
                "https://management.azure.com/.default").token
        finally:
            os.environ.clear()
            os.environ.update(saved)
        response = requests.get(f"{settings['ARM_ENDPOINT']}/subscriptions/00000000-0000-0000-0000-000000000000/"
                                "resourceGroups/ContosoRG/providers/Microsoft.Compute/virtualMachines"
                                "?api-version=2015-05-01-preview", headers={"Authorization": f"Bearer {token}"},
                                verify=settings["REQUESTS_CA_BUNDLE"], timeout=5)
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
