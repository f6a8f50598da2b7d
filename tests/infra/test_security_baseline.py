"""The properties the design depends on, asserted directly (checkov covers some of them, not all:
it has no Bicep check for shared-key access or anonymous blob access)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.infra.bicep import INFRA, MODULES, Evaluator, body, only, parse, resources


def test_storage_takes_identities_only() -> None:
    storage = body(only(MODULES / "storage.bicep", "Microsoft.Storage/storageAccounts"))["properties"]
    assert storage["allowSharedKeyAccess"] is False
    assert storage["allowBlobPublicAccess"] is False
    assert storage["minimumTlsVersion"] == "TLS1_2"
    assert storage["supportsHttpsTrafficOnly"] is True
    assert storage["defaultToOAuthAuthentication"] is True
    for container in resources(MODULES / "storage.bicep", "Microsoft.Storage/storageAccounts/blobServices/containers")\
            .values():
        assert body(container)["properties"]["publicAccess"] == "None"


def test_storage_creates_every_queue_with_its_poison_queue_and_every_container_and_table() -> None:
    main = Evaluator(INFRA / "main.bicep")
    queues = set(main.variable("queues").values())
    assert queues == {"nwcheck-requests", "nwcheck-urgent", "nwcheck-polls", "nwcheck-results", "nwcheck-alerts"}
    storage = Evaluator(MODULES / "storage.bicep")
    poison = storage.value(storage.tree["variables"]["poisonQueueNames"]["value"], {"queueNames": sorted(queues)})
    assert poison == sorted(f"{q}-poison" for q in queues)
    assert {"targets", "checks", "state", "deployment"} == set(main.tree["variables"]["containers"]["value"])
    assert set(main.variable("tables").values()) == {"nwcheckalerts", "nwcheckinvestigations"}
    module = body(parse(INFRA / "main.bicep")["modules"]["storage"])["params"]
    assert len(module["queueNames"]) == 5 and len(module["containerNames"]) == 4 and len(module["tableNames"]) == 2


def test_application_insights_takes_entra_id_tokens_only() -> None:
    component = body(only(MODULES / "monitoring.bicep", "Microsoft.Insights/components"))["properties"]
    assert component["DisableLocalAuth"] is True
    assert Evaluator(MODULES / "monitoring.bicep").value(component["WorkspaceResourceId"], {}) == "workspace.id"


def test_the_function_app_is_flex_consumption_python_311_with_its_identity() -> None:
    path = MODULES / "function.bicep"
    plan = body(only(path, "Microsoft.Web/serverfarms"))
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    site = body(only(path, "Microsoft.Web/sites"))
    assert site["kind"] == "functionapp,linux"
    assert site["identity"]["type"] == "UserAssigned"
    properties = site["properties"]
    assert properties["httpsOnly"] is True
    assert properties["siteConfig"]["minTlsVersion"] == "1.2" and properties["siteConfig"]["ftpsState"] == "Disabled"
    config = properties["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert config["deployment"]["storage"]["type"] == "blobContainer"
    assert config["deployment"]["storage"]["authentication"] == {
        "type": "UserAssignedIdentity", "userAssignedIdentityResourceId": "identityId"}


def test_azd_finds_the_service_and_the_parameters() -> None:
    yaml = (INFRA.parent / "azure.yaml").read_text()
    for line in ("services:", "  api:", "    project: .", "    language: python", "    host: function"):
        assert f"\n{line}\n" in yaml, line
    site = body(only(MODULES / "function.bicep", "Microsoft.Web/sites"))
    assert "'azd-service-name': 'api'" in (MODULES / "function.bicep").read_text() and "union" in str(site["tags"])
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    declared = parse(INFRA / "main.bicep")["parameters"]
    assert set(parameters) <= set(declared), set(parameters) - set(declared)
    required = {name for name, p in declared.items() if p.get("default") is None}
    assert required <= set(parameters), required - set(parameters)
    assert parse(INFRA / "main.bicep")["globals"]["scope"]["value"] == "subscription"


def test_the_readme_reads_only_values_azd_keeps() -> None:
    # `azd env get-value NAME` in "Deploy to Azure" works only for outputs of main.bicep (and azd's own).
    readme = (INFRA.parent / "README.md").read_text()
    used = set(re.findall(r"azd env get-value ([A-Z_]+)", readme))
    outputs = set(parse(INFRA / "main.bicep")["outputs"])
    assert used and used <= outputs, used - outputs


def test_old_check_claims_are_deleted_and_nothing_else() -> None:
    """shared/claims.py writes a blob per started check and never deletes one: the lifecycle rule
    is what keeps the container from growing by millions of blobs a week."""
    storage = Evaluator(MODULES / "storage.bicep")
    main = Evaluator(INFRA / "main.bicep")
    containers = main.tree["variables"]["containers"]["value"]
    checks = containers["checks"]
    assert checks == "nwcheck-checks"  # CHECKS_CONTAINER, where runtime._claims writes
    module = body(parse(INFRA / "main.bicep")["modules"]["storage"])["params"]
    assert main.value(module["claimsContainerName"], {"containers": containers}) == checks
    policy = body(only(MODULES / "storage.bicep", "Microsoft.Storage/storageAccounts/managementPolicies"))
    rules = policy["properties"]["policy"]["rules"]
    assert len(rules) == 1 and rules[0]["enabled"] is True and rules[0]["type"] == "Lifecycle"
    definition = rules[0]["definition"]
    assert storage.value(definition["filters"]["prefixMatch"], {"claimsContainerName": checks}) == [f"{checks}/"]
    assert definition["filters"]["blobTypes"] == ["blockBlob"]
    assert definition["actions"] == {"baseBlob": {"delete": {"daysAfterCreationGreaterThan": "claimRetentionDays"}}}
    retention = storage.tree["parameters"]["claimRetentionDays"]
    # a queue keeps a message 7 days, its poison queue 7 more: a claim must outlive both
    assert retention["default"] >= 15 and "minValue(15)" in re.sub(r"\s", "", (MODULES / "storage.bicep").read_text())


def _alert_rules() -> dict[str, dict[str, Any]]:
    """Rule name → the evaluated properties of its scheduledQueryRules resource."""
    module = Evaluator(MODULES / "alerts.bicep")
    resource = body(only(MODULES / "alerts.bicep", "Microsoft.Insights/scheduledQueryRules"))
    return {rule["name"]: module.value(resource["properties"], {"rule": rule, "noResultsWindow": "PT45M"})
            for rule in module.variable("rules")}


def test_event_rules_fire_per_target_and_leave_resolving_to_nwcheck() -> None:
    rules = _alert_rules()
    for name in ("security", "reachability", "check-health"):
        [criterion] = rules[name]["criteria"]["allOf"]
        assert (criterion["operator"], criterion["threshold"], criterion["timeAggregation"]) == ("GreaterThan", 0,
                                                                                                 "Count")
        assert [d["name"] for d in criterion["dimensions"]] == ["TargetName"]
        assert rules[name]["autoMitigate"] is False and rules[name]["windowSize"] == "PT1H"


def test_a_quiet_nwcheck_is_an_alert_of_its_own() -> None:
    """No result at all is not good news: the no-results rule fires on zero rows in its window, for
    the whole app (no dimension), and resolves itself when results flow again."""
    rule = _alert_rules()["no-results"]
    [criterion] = rule["criteria"]["allOf"]
    assert (criterion["operator"], criterion["threshold"], criterion["timeAggregation"]) == ("LessThan", 1, "Count")
    assert criterion["dimensions"] == [] and rule["autoMitigate"] is True
    assert rule["windowSize"] == "PT45M" and rule["evaluationFrequency"] == "PT5M"
    assert criterion["query"].splitlines()[-2] == "NetworkWatcherCheck_CL"
    main = parse(INFRA / "main.bicep")
    assert body(main["modules"]["alerts"])["params"]["noResultsWindow"] == "noResultsAlertWindow"
    assert main["parameters"]["noResultsAlertWindow"]["default"] == "PT30M"
