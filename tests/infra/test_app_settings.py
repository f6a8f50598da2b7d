"""Every app setting the code reads is set by the Bicep, and the Bicep sets nothing else but what
the Functions host and the Azure SDKs read. The code side is found by scanning the source
(tests/infra/settings.py); the Bicep side is the function app's siteConfig.appSettings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.bicep import app_settings
from tests.infra.settings import app_sources, settings_read

# Read by the code in development only; Azure must not have them.
LOCAL_ONLY = {
    "TARGETS_PATH",  # a local target list file; in Azure the list is the blob TARGETS_CONTAINER/TARGETS_BLOB
    "REQUESTS_CA_BUNDLE",  # the emulator's CA (read by requests), never in Azure
    "SSL_CERT_FILE",  # the same, for azure-core
    "IDENTITY_ENDPOINT",  # the managed identity endpoint: the platform sets it
    "IDENTITY_HEADER",  # the same
}

# Set by the Bicep, read by the Functions host or an SDK rather than by the app's code.
PLATFORM = {
    # the host's own storage, identity-based
    "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri", "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId",
    # the host's telemetry, with the identity (local authentication is disabled)
    "APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    # DefaultAzureCredential (ARM, Logs Ingestion) picks the user-assigned identity by it
    "AZURE_CLIENT_ID",
}

# Flex Consumption takes these from functionAppConfig; as app settings they are deprecated.
FLEX_DEPRECATED = {"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
                   "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "SCM_DO_BUILD_DURING_DEPLOYMENT"}


def differences(paths: list[Path], bicep: set[str]) -> dict[str, list[str]]:
    expected = (set(settings_read(paths).required) - LOCAL_ONLY) | PLATFORM
    return {k: v for k, v in {
        "read by the code, missing in infra/modules/function.bicep": sorted(expected - bicep),
        "set by the Bicep, read by nothing": sorted(bicep - expected),
    }.items() if v}


def test_the_bicep_sets_exactly_what_the_code_and_the_host_read() -> None:
    assert differences(app_sources(), set(app_settings())) == {}


def test_nothing_local_or_deprecated_is_set() -> None:
    assert not (LOCAL_ONLY | FLEX_DEPRECATED) & set(app_settings())


def test_the_scan_finds_what_the_pipeline_obviously_reads() -> None:
    required = settings_read(app_sources()).required
    assert {"TIMER_SCHEDULE", "REQUESTS_QUEUE", "POLLS_QUEUE", "RESULTS_QUEUE", "LOGS_INGESTION_ENDPOINT",
            "LOGS_DCR_IMMUTABLE_ID", "ARM_ENDPOINT", "TARGETS_CONTAINER", "NwcheckStorage__queueServiceUri",
            "NwcheckStorage__credential", "NwcheckStorage__clientId"} <= required
    assert "NwcheckStorage" not in required  # the connection-string form is for Azurite only


def test_a_new_setting_is_flagged_both_ways(tmp_path: Path) -> None:
    extra = tmp_path / "extra.py"
    extra.write_text(
        "import os\n"
        "from shared.runtime import setting\n"
        "LIMIT = 'BRAND_NEW_LIMIT'\n"
        "def a() -> str:\n    return setting('BRAND_NEW_SETTING', '')\n"
        "def b(name: str) -> str:\n    return os.environ.get(name, '')\n"
        "def c() -> str:\n    return b(LIMIT)\n")
    found = differences([*app_sources(), extra], set(app_settings()))
    assert found == {"read by the code, missing in infra/modules/function.bicep": [
        "BRAND_NEW_LIMIT", "BRAND_NEW_SETTING"]}
    gone = set(app_settings()) - {"CHECKS_CONTAINER"} | {"NO_LONGER_READ"}
    assert differences(app_sources(), gone) == {
        "read by the code, missing in infra/modules/function.bicep": ["CHECKS_CONTAINER"],
        "set by the Bicep, read by nothing": ["NO_LONGER_READ"]}


def test_a_name_built_at_run_time_must_be_taught(tmp_path: Path) -> None:
    extra = tmp_path / "extra.py"
    extra.write_text("import os\ndef a(kind: str) -> str:\n    return os.environ.get(f'{kind}_LIMIT', '')\n")
    with pytest.raises(AssertionError, match="cannot resolve"):
        settings_read([*app_sources(), extra])


def test_storage_connections_use_the_identity() -> None:
    settings = app_settings()
    for connection in ("AzureWebJobsStorage", "NwcheckStorage"):
        assert connection not in settings  # no connection string (shared keys are disabled anyway)
        assert settings[f"{connection}__credential"] == "managedidentity"
        assert settings[f"{connection}__clientId"] == "identityClientId"
        for service in ("blob", "queue", "table"):
            assert settings[f"{connection}__{service}ServiceUri"] == f"storage{service.title()}Endpoint"
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"
