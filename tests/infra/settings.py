"""The app settings the code reads, found in its source (AST), so that a new setting cannot be
forgotten in the Bicep.

A read is ``setting(NAME, ...)`` (shared/runtime.py), ``<env>.get(NAME)``, ``<env>[NAME]``,
``os.getenv(NAME)``, or a ``%NAME%`` binding expression in function_app.py. NAME may be a
literal, a module constant (``CONNECTION = "NwcheckStorage"``), or a parameter of the enclosing
function, whose callers then pass the name (``_table("ALERTS_TABLE", ...)``). A name built at run
time (an f-string) is a *template*, resolved only by a rule in TEMPLATES below: a new kind of
dynamic name fails the test until it is taught here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
_BINDING = re.compile(r"^%([A-Za-z0-9_]+)%$")
_ENV_NAMES = {"env", "environ"}


def app_sources(root: Path = ROOT) -> list[Path]:
    """What the Functions host runs: function_app.py and shared/ (not shared/cli: the operator's
    command line runs on a workstation with its own environment, never in the app)."""
    return [root / "function_app.py",
            *(p for p in sorted((root / "shared").rglob("*.py")) if "cli" not in p.relative_to(root / "shared").parts)]


@dataclass(frozen=True)
class Param:
    function: str
    index: int


@dataclass
class Found:
    names: set[str] = field(default_factory=set)
    templates: set[str] = field(default_factory=set)  # "{}_QUEUE", "{}__credential"
    queue_kinds: set[str] = field(default_factory=set)  # literal arguments of queue_name(...)
    services: set[str] = field(default_factory=set)  # queue | blob | table, of service_endpoint(...)
    connections: set[str] = field(default_factory=set)  # connection setting names (bindings, SDK)


def _is_env(node: ast.expr) -> bool:
    """``env``, ``environ``, ``self.env``, ``os.environ``."""
    return (isinstance(node, ast.Name) and node.id in _ENV_NAMES) or (
        isinstance(node, ast.Attribute) and node.attr in _ENV_NAMES)


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


class _Scanner(ast.NodeVisitor):
    def __init__(self, constants: dict[str, str]) -> None:
        self.constants = constants
        self.function: ast.FunctionDef | None = None
        self.reads: list[str | Param] = []  # literal names, templates ("{}" parts) and parameters
        self.calls: list[tuple[str, list[ast.expr], ast.FunctionDef | None]] = []
        self.found = Found()

    def key(self, node: ast.expr) -> str | Param | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.constants[node.id]
        if isinstance(node, ast.Name) and self.function is not None:
            params = [a.arg for a in self.function.args.args]
            if node.id in params:
                return Param(self.function.name, params.index(node.id))
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.function = self.function, node
        self.generic_visit(node)
        self.function = outer

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if _is_env(node.value) and isinstance(node.ctx, ast.Load):
            self._read(node.slice)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg == "connection":
            connection = self.key(node.value)
            if isinstance(connection, str):
                self.found.connections.add(connection)
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            match = _BINDING.match(node.value.value)  # queue_name="%REQUESTS_QUEUE%", schedule=...
            if match:
                self.found.names.add(match.group(1))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _called(node)
        if node.args and (name in ("setting", "getenv") or (
                name == "get" and isinstance(node.func, ast.Attribute) and _is_env(node.func.value))):
            self._read(node.args[0])
        elif name == "queue_name" and node.args and isinstance(node.args[0], ast.Constant):
            self.found.queue_kinds.add(str(node.args[0].value))
        elif name == "service_endpoint" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            self.found.services.add(str(node.args[1].value))
        elif name == "queue_client":
            self.found.services.add("queue")
        if name in ("service_endpoint", "queue_client") and node.args:
            connection = self.key(node.args[0])
            if isinstance(connection, str):
                self.found.connections.add(connection)
        self.calls.append((name, list(node.args), self.function))
        self.generic_visit(node)

    def _read(self, node: ast.expr) -> None:
        key = self.key(node)
        if key is None:
            raise AssertionError(f"a setting read whose name the test cannot follow: {ast.unparse(node)}")
        self.reads.append(key)


def scan(paths: Iterable[Path]) -> Found:
    trees = [ast.parse(p.read_text()) for p in paths]
    constants = {t.id: n.value.value for tree in trees for n in tree.body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)
                 and isinstance(n.value.value, str)}
    scanner = _Scanner(constants)
    for tree in trees:
        scanner.visit(tree)
    found = scanner.found
    pending = list(scanner.reads)
    seen: set[Param] = set()
    while pending:
        key = pending.pop()
        if isinstance(key, str):
            (found.templates if "{}" in key else found.names).add(key)
            continue
        if key in seen:
            continue
        seen.add(key)
        # A parameter of a function that reads it as a setting name: what its callers pass.
        for name, args, caller in scanner.calls:
            if name == key.function and len(args) > key.index:
                scanner.function = caller
                passed = scanner.key(args[key.index])
                if passed is not None:
                    pending.append(passed)
    return found


# A connection setting (Functions style) is read in one of these forms (shared/storage.py): in
# Azure identity-based, per service; the others are alternatives for local use or an account in
# the public cloud, never set by the Bicep.
CONNECTION_IN_AZURE = ("{connection}__{service}ServiceUri", "{connection}__credential", "{connection}__clientId")
CONNECTION_ALTERNATIVES = ("{connection}", "{connection}__serviceUri", "{connection}__accountName")

# The templates (names built at run time) the test knows how to resolve. Another one fails the
# test: teach it here when the code gains one.
TEMPLATES = {
    "{}_QUEUE",  # shared/runtime.py queue_name(kind): one per literal kind passed to queue_name
    "{}__{}ServiceUri", "{}__serviceUri", "{}__accountName", "{}__credential", "{}__clientId",  # connections
}


@dataclass(frozen=True)
class Reads:
    required: frozenset[str]  # what Azure must set for the code
    alternatives: frozenset[str]  # forms of a connection setting the code also accepts


def settings_read(paths: Iterable[Path]) -> Reads:
    found = scan(paths)
    unknown = found.templates - TEMPLATES
    if unknown:
        raise AssertionError(f"setting names built at run time that tests/infra/settings.py cannot resolve: "
                             f"{sorted(unknown)}; teach TEMPLATES")
    required = set(found.names)
    alternatives: set[str] = set()
    if "{}_QUEUE" in found.templates:
        required |= {f"{kind.upper()}_QUEUE" for kind in found.queue_kinds}
    for connection in found.connections:
        for service in found.services:
            required.add(CONNECTION_IN_AZURE[0].format(connection=connection, service=service))
        required |= {form.format(connection=connection) for form in CONNECTION_IN_AZURE[1:]}
        alternatives |= {form.format(connection=connection) for form in CONNECTION_ALTERNATIVES}
    return Reads(frozenset(required - alternatives), frozenset(alternatives))
