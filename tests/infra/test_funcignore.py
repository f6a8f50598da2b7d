"""What ships: .funcignore (gitignore syntax, read by azd and Core Tools) applied to the files git
tracks. Everything the app opens at run time ships; the local stack and the tests do not."""

from __future__ import annotations

import ast
import subprocess

import pathspec

from shared import rows, runtime
from tests.infra.settings import ROOT, app_sources


def shipped(funcignore: str, files: list[str]) -> set[str]:
    spec = pathspec.GitIgnoreSpec.from_lines(funcignore.splitlines())
    return {f for f in files if not spec.match_file(f)}


def tracked() -> list[str]:
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S607
    return [line for line in done.stdout.splitlines() if (ROOT / line).exists()]


def runtime_files() -> set[str]:
    """The files the app opens at run time: host.json (runtime.HOST_JSON) and the table files
    (rows.TABLES), its code and its requirements, and the published schemas."""
    files = {runtime.HOST_JSON.relative_to(ROOT).as_posix(), "requirements.txt"}
    files |= {p.relative_to(ROOT).as_posix() for p in rows.TABLES.glob("*.json")}
    files |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "shared").rglob("*") if p.is_file()
              and "__pycache__" not in p.parts and p.suffix in (".py", ".json")}
    return files | {"function_app.py"}


def test_every_file_the_app_opens_ships() -> None:
    files = tracked()
    assert "infra/tables/checks.json" in files and "function_app.py" in files
    missing = {f for f in runtime_files() if f in files} - shipped((ROOT / ".funcignore").read_text(), files)
    assert missing == set(), f"the app opens these at run time, .funcignore leaves them out: {sorted(missing)}"


def test_the_local_stack_tests_and_the_rest_of_infra_stay_out() -> None:
    files = tracked()
    ships = shipped((ROOT / ".funcignore").read_text(), files)
    leaked = {f for f in ships if f.split("/")[0] in ("emulator", "tests", "benchmarks", "node_modules", ".ci")
              or (f.startswith("infra/") and not f.startswith("infra/tables/"))
              or f in ("Makefile", "requirements-dev.txt", "README.md", "azure.yaml", "package.json",
                       "package-lock.json", "local.settings.example.json", "pyproject.toml", "targets.sample.yaml")}
    assert leaked == set(), sorted(leaked)
    assert {"tests/conftest.py", "emulator/arm.py"} <= set(files) - ships
    assert shipped((ROOT / ".funcignore").read_text(), ["infra/main.bicep", "infra/modules/rbac.bicep",
                                                        "infra/queries/check-health.kql"]) == set()


def test_the_old_funcignore_would_have_broken_the_app() -> None:
    # infra/ excluded whole: shared/rows.py would find no table file in Azure.
    old = (ROOT / ".funcignore").read_text().replace("infra/*\n!infra/tables/\n", "infra/\n")
    assert "infra/tables/checks.json" not in shipped(old, tracked())


def test_the_app_opens_no_other_file_of_its_own() -> None:
    # A new file read next to the code (Path(__file__)...) must join runtime_files() and ship.
    known = {"HOST_JSON", "TABLES"}
    for path in app_sources():
        tree = ast.parse(path.read_text())
        uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "__file__"]
        allowed = [n for a in ast.walk(tree) if isinstance(a, ast.Assign)
                   and any(isinstance(t, ast.Name) and t.id in known for t in a.targets)
                   for n in ast.walk(a.value) if isinstance(n, ast.Name) and n.id == "__file__"]
        assert len(uses) == len(allowed), f"{path.relative_to(ROOT)} opens a file next to its code"
