"""Every Bicep file parses (pycep-parser's grammar of Bicep: no compiler can be installed here),
and everything a file refers to exists: modules and the files it loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.bicep import INFRA, bicep_files, loaded_files, parse


def test_infra_has_the_entry_point_and_its_modules() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in bicep_files()}
    assert {"main.bicep", "modules/rbac.bicep", "modules/function.bicep", "modules/storage.bicep",
            "modules/monitoring.bicep", "modules/alerts.bicep", "modules/workbook.bicep"} <= names


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(INFRA).as_posix())
def test_every_bicep_file_parses(path: Path) -> None:
    tree = parse(path)
    assert tree.get("resources") or tree.get("modules"), f"{path.name} declares nothing"


def test_a_syntax_error_fails_to_parse(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bicep"
    text = (INFRA / "modules" / "identity.bicep").read_text()
    broken.write_text(text.replace("location: location\n  tags: tags\n}", "location: location\n  tags: tags\n", 1))
    with pytest.raises(Exception):  # noqa: B017 - lark raises one of several parse errors
        parse(broken)


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(INFRA).as_posix())
def test_modules_and_loaded_files_exist(path: Path) -> None:
    for module in parse(path).get("modules", {}).values():
        assert module["type"] == "local", f"{path.name}: only local modules (no registry is reachable here)"
        assert (path.parent / module["detail"]["path"]).is_file(), module["detail"]["path"]
    for loaded in loaded_files(path):
        assert loaded.is_file(), f"{path.name} loads {loaded}, which does not exist"


def test_every_module_is_used() -> None:
    used = {(p.parent / m["detail"]["path"]).resolve() for p in bicep_files()
            for m in parse(p).get("modules", {}).values()}
    for path in bicep_files():
        if path.name != "main.bicep":
            assert path.resolve() in used, f"{path.name} is not used by any file"


def test_api_versions_are_dated() -> None:
    for path in bicep_files():
        for name, resource in parse(path).get("resources", {}).items():
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", resource["api_version"]), (path.name, name)
