"""The Bicep files, parsed by pycep-parser, and a small evaluator for the few expressions the
tests need to follow (file loads, variables, for-loops over loaded JSON, property access,
interpolation, ``replace``).

No Bicep compiler can be installed here; pycep-parser is a grammar of Bicep, so a file it
cannot parse fails the suite. Its JSON does not tell a string literal from a reference: a plain
string is a reference when it names a variable, parameter or loop item in scope, else a literal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

ROOT = Path(__file__).resolve().parent.parent.parent
INFRA = ROOT / "infra"
MODULES = INFRA / "modules"
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


def bicep_files(infra: Path = INFRA) -> list[Path]:
    return sorted(infra.rglob("*.bicep"))


@cache
def _parser() -> BicepParser:
    return BicepParser()


def parse(path: Path) -> dict[str, Any]:
    """pycep's JSON of one file: parameters, variables, resources, modules, outputs."""
    return dict(_parser().parse(file_path=path))


def resources(path: Path, type_: str) -> dict[str, dict[str, Any]]:
    """Symbolic name → resource of ``type_`` (exact, case-insensitive) declared in ``path``."""
    return {name: r for name, r in parse(path).get("resources", {}).items() if r["type"].lower() == type_.lower()}


def body(declaration: Mapping[str, Any]) -> dict[str, Any]:
    """A resource's or module's properties, inside any ``if (...)`` condition or ``[for ...]`` loop."""
    config = dict(declaration["config"])
    while ("condition" in config or "loop_type" in config) and "config" in config:
        config = dict(config["config"])
    return config


def only(path: Path, type_: str) -> dict[str, Any]:
    found = resources(path, type_)
    assert len(found) == 1, f"{path.name}: expected one {type_}, found {sorted(found)}"
    return next(iter(found.values()))


def _expression(node: Mapping[str, Any], kind: str) -> bool:
    """Whether ``node`` is pycep's form of an expression (``{"operator": {"type": ...}}``), not an
    object literal that has a property of that name (a log alert criterion has an ``operator``)."""
    return set(node) == {kind} and isinstance(node[kind], dict) and "type" in node[kind]


class Evaluator:
    """Evaluates the expressions of one file: its variables, with loaded files relative to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = parse(path)
        self._variables: dict[str, Any] = {}

    def variable(self, name: str) -> Any:
        if name not in self._variables:
            self._variables[name] = self.value(self.tree["variables"][name]["value"], {})
        return self._variables[name]

    def _reference(self, text: str, scope: Mapping[str, Any]) -> Any:
        head, *rest = text.split(".")
        if head in scope:
            value = scope[head]
        elif head in self.tree.get("variables", {}):
            value = self.variable(head)
        else:
            raise KeyError(head)
        for part in rest:
            value = value[part]
        return value

    def value(self, node: Any, scope: Mapping[str, Any]) -> Any:
        if isinstance(node, str):
            try:
                return self._reference(node, scope)
            except KeyError:
                return _INTERPOLATION.sub(lambda m: str(self._reference(m.group(1), scope)), node)
        if isinstance(node, list):
            return [self.value(item, scope) for item in node]
        if not isinstance(node, dict):
            return node
        if "loop_type" in node:
            detail = node["loop_type"]["detail"]
            items = self.value(detail["array_name"], scope)
            return [self.value(node["config"], {**scope, detail["item_name"]: item}) for item in items]
        if _expression(node, "function"):
            return self._function(node["function"], scope)
        if _expression(node, "operator") and node["operator"]["type"] == "property_accessor":
            operands = node["operator"]["operands"]
            base = self.value(operands["operand_1"], scope)
            second = operands["operand_2"]
            if isinstance(second, dict) and second.get("operator", {}).get("type") == "conditional":
                # pycep reads `a.b ? x : y` as `a.(b ? x : y)`
                branches = second["operator"]["operands"]
                chosen = branches["true_value"] if base[str(branches["condition"])] else branches["false_value"]
                return self.value(chosen, scope)
            if isinstance(base, str):  # a resource or parameter: not evaluated, kept as text
                return f"{base}.{operands['operand_2']}"
            return base[str(operands["operand_2"])]
        if _expression(node, "operator"):
            raise NotImplementedError(f"{self.path.name}: operator {node['operator']['type']}")
        return {self.value(key.strip("'"), scope) if "${" in key else key.strip("'"): self.value(v, scope)
                for key, v in node.items()}

    def _function(self, function: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
        kind, params = function["type"], function["parameters"]
        if kind == "load_json_content":
            import json
            return json.loads((self.path.parent / params["file_path"]).read_text())
        if kind == "load_text_content":
            return (self.path.parent / params["file_path"]).read_text()
        if kind == "replace":
            return str(self.value(params["original_string"], scope)).replace(params["old_string"],
                                                                              params["new_string"])
        raise NotImplementedError(f"{self.path.name}: function {kind}")


def loaded_files(path: Path) -> set[Path]:
    """Every file a Bicep file loads (loadJsonContent, loadTextContent), resolved."""
    text = path.read_text()
    return {(path.parent / m.group(2)).resolve()
            for m in re.finditer(r"load(Json|Text)Content\(\s*'([^']+)'", text)}


def app_settings(path: Path = MODULES / "function.bicep") -> dict[str, Any]:
    """Name → value node of every app setting of the function app (siteConfig.appSettings)."""
    site = only(path, "Microsoft.Web/sites")
    settings = body(site)["properties"]["siteConfig"]["appSettings"]
    names = [s["name"] for s in settings]
    assert len(names) == len(set(names)), f"an app setting is set twice: {names}"
    assert not resources(path, "Microsoft.Web/sites/config"), "app settings belong in siteConfig.appSettings only"
    return {s["name"]: s["value"] for s in settings}
