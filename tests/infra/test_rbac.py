"""Role assignments: all in infra/modules/rbac.bicep, each named by guid() and introduced by a
comment naming its role; never a management role; the custom role has no wildcard and no write."""

from __future__ import annotations

import re

from tests.infra.bicep import INFRA, MODULES, Evaluator, bicep_files, body, only, parse, resources

RBAC = MODULES / "rbac.bicep"
SHIMS = {"role-assignment-subscription.bicep", "role-assignment-resource-group.bicep"}
FORBIDDEN = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "4d97b98b-1d4f-4787-a291-c67834d212e7": "Network Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
}
ROLES = {  # the role id variables of rbac.bicep → the role each names
    "storageBlobDataOwner": ("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner"),
    "storageBlobDataContributor": ("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor"),
    "storageQueueDataContributor": ("974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Storage Queue Data Contributor"),
    "storageTableDataContributor": ("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Storage Table Data Contributor"),
    "monitoringMetricsPublisher": ("3913510d-42f4-4e42-8a64-420c390055eb", "Monitoring Metrics Publisher"),
}


def _comment_before(text: str, declaration: str) -> str:
    """The comment lines right above ``declaration``."""
    lines = text[:text.index(declaration)].rstrip("\n").splitlines()
    comment = []
    while lines and lines[-1].startswith("//"):
        comment.append(lines.pop())
    return "\n".join(reversed(comment))


def management_roles_in(text: str) -> list[str]:
    return [role for guid, role in FORBIDDEN.items() if guid in text.lower()]


def test_no_management_role_anywhere_in_infra() -> None:
    for path in INFRA.rglob("*"):
        if path.is_file():
            assert management_roles_in(path.read_text()) == [], path.relative_to(INFRA)
    assert management_roles_in("roleDefinitionId: '4D97B98B-1D4F-4787-A291-C67834D212E7'") == ["Network Contributor"]


def test_role_assignments_live_in_rbac_bicep_only() -> None:
    for path in bicep_files():
        assignments = resources(path, "Microsoft.Authorization/roleAssignments")
        if path.name in SHIMS:
            assert len(assignments) == 1
            name = body(next(iter(assignments.values())))["name"]
            assert name == "assignmentName", f"{path.name}: the name comes from rbac.bicep"
        elif path != RBAC:
            assert not assignments, f"{path.name} assigns roles: they belong in rbac.bicep"
        users = {m["detail"]["path"] for m in parse(path).get("modules", {}).values()}
        if path != RBAC:
            assert not users & SHIMS, f"{path.name} uses a role assignment module: only rbac.bicep may"


def test_each_assignment_has_a_guid_name_and_a_comment_naming_its_role() -> None:
    text = RBAC.read_text()
    variables = Evaluator(RBAC)
    for var, (guid, _) in ROLES.items():
        assert variables.variable(var) == guid, var
    assignments = resources(RBAC, "Microsoft.Authorization/roleAssignments")
    assert len(assignments) >= 6
    for symbol, resource in assignments.items():
        config = body(resource)
        assert config["name"]["function"]["type"] == "guid", symbol
        role_var = config["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        assert role_var in ROLES, f"{symbol}: role {role_var} is not a known data role"
        assert role_var in config["name"]["function"]["parameters"].values(), f"{symbol}: the guid omits the role"
        comment = _comment_before(text, f"resource {symbol} ")
        assert ROLES[role_var][1] in comment, f"{symbol}: the comment above it must name {ROLES[role_var][1]}"
    modules = parse(RBAC).get("modules", {})
    assert {m["detail"]["path"] for m in modules.values()} == SHIMS
    for symbol, module in modules.items():
        params = body(module)["params"]
        assert params["assignmentName"]["function"]["type"] == "guid", symbol
        assert params["roleDefinitionName"] == "watcherRoleDefinitionName", symbol
        assert "Custom role" in _comment_before(text, f"module {symbol} "), symbol


def test_the_app_identity_gets_exactly_these_roles() -> None:
    granted = set()
    for resource in resources(RBAC, "Microsoft.Authorization/roleAssignments").values():
        properties = body(resource)["properties"]
        role = ROLES[properties["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]][1]
        granted.add((role, body(resource)["scope"], properties["principalId"]))
    assert granted == {
        ("Storage Blob Data Owner", "storage", "principalId"),
        ("Storage Queue Data Contributor", "storage", "principalId"),
        ("Storage Table Data Contributor", "storage", "principalId"),
        ("Monitoring Metrics Publisher", "dataCollectionRule", "principalId"),
        ("Monitoring Metrics Publisher", "appInsights", "principalId"),
        ("Storage Blob Data Contributor", "targetsContainer", "deployerPrincipalId"),
    }


def test_the_custom_role_is_read_only_apart_from_the_three_operations() -> None:
    role = only(MODULES / "watcher-role.bicep", "Microsoft.Authorization/roleDefinitions")
    permissions = body(role)["properties"]["permissions"]
    assert len(permissions) == 1
    actions = Evaluator(MODULES / "watcher-role.bicep").variable("actions")
    assert permissions[0]["actions"] == "actions"
    assert permissions[0]["dataActions"] == [] and permissions[0]["notActions"] == []
    assert len(actions) == len(set(actions))
    for action in actions:
        assert "*" not in action, action
        assert re.fullmatch(r"Microsoft\.(Network|Compute)/[A-Za-z/]+/(read|action)", action), action
        if action.endswith("/action"):
            assert action.startswith("Microsoft.Network/networkWatchers/"), action
    assert body(role)["properties"]["type"] == "customRole"

