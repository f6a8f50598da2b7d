"""The project's layout and its promises about what ships and what does not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from emulator.stack import Emulator

ROOT = Path(__file__).resolve().parent.parent


def test_design_card_layout_exists() -> None:
    for name in ("host.json", "function_app.py", "shared/__init__.py", "tests", "infra", "requirements.txt",
                 "README.md", "requirements-dev.txt", "pyproject.toml", "local.settings.example.json",
                 ".funcignore", ".gitignore", "Makefile", "package.json", "package-lock.json", ".ci/run"):
        assert (ROOT / name).exists(), name


def test_runtime_requirements_hold_no_test_or_emulator_tools() -> None:
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("pytest", "hypothesis", "azure-mgmt-network", "cryptography", "ruff", "mypy"):
        assert tool not in runtime
    pinned = [line for line in runtime.splitlines() if line and not line.startswith("#")]
    assert all("==" in line for line in pinned), pinned


def test_funcignore_keeps_dev_parts_out_of_the_deployment() -> None:
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".funcignore").read_text().splitlines()}
    for part in ("tests", "emulator", "infra/*", ".venv", "node_modules", "local.settings.json"):
        assert part in ignored, part
    # infra/tables ships: the app reads the table files at run time (tests/infra/test_funcignore.py)
    assert "!infra/tables" in ignored
    for shipped in ("function_app.py", "host.json", "shared", "requirements.txt"):
        assert shipped not in ignored


def test_local_settings_is_ignored_and_only_its_example_is_kept() -> None:
    assert "local.settings.json" in (ROOT / ".gitignore").read_text().splitlines()
    assert json.loads((ROOT / "local.settings.example.json").read_text())["Values"]["FUNCTIONS_WORKER_RUNTIME"] \
        == "python"


def test_azurite_is_pinned_exactly() -> None:
    version = json.loads((ROOT / "package.json").read_text())["devDependencies"]["azurite"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/azurite"]["version"] == version


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make demo" in (ROOT / "README.md").read_text()


def test_host_json_queue_settings_are_explicit() -> None:
    queues = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]
    assert queues["messageEncoding"] == "base64"
    assert {"batchSize", "maxDequeueCount", "visibilityTimeout"} <= set(queues)


def test_emulator_tls_is_trusted_only_through_its_ca(emu: Emulator) -> None:
    # Trusted with the CA bundle the settings name; refused by a client that does not know that CA.
    assert requests.get(emu.arm_server.url, verify=str(emu.tls.ca_cert), timeout=5).status_code == 401
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emu.arm_server.url, verify=requests.certs.where(), timeout=5)


def test_every_third_party_import_of_the_app_is_a_runtime_requirement() -> None:
    # The deployed app has only requirements.txt: an import satisfied by a dev package would
    # work in tests and fail in Azure.
    import ast
    import sys
    from importlib.metadata import packages_distributions

    runtime = {re.split(r"[=<>\[ ]", line)[0].lower().replace("_", "-")
               for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0].isalnum()}
    owners = packages_distributions()
    sources = [ROOT / "function_app.py", *(ROOT / "shared").rglob("*.py")]
    missing = set()
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "shared":
                    continue
                dists = {d.lower().replace("_", "-") for d in owners.get(top, [])}
                if name.startswith("azure."):  # a namespace package: find the distribution by subpackage
                    sub = ".".join(name.split(".")[:3])
                    dists = {d for d in dists if d.replace("-", ".") in sub or sub.startswith(d.replace("-", "."))}
                if not dists & runtime:
                    missing.add(f"{path.relative_to(ROOT)}: {name}")
    assert not missing, sorted(missing)
