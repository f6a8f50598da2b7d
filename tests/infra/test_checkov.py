"""checkov (framework bicep) on infra/: no failed check, no parsing error, and every skip is inline
with a written reason. checkov runs once per module (a few seconds), from this virtualenv,
without downloading anything (--skip-download: no network is reachable, none is tried)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import INFRA, bicep_files

CHECKOV = Path(sys.executable).parent / "checkov"
SKIP = re.compile(r"//\s*checkov:skip=(?P<id>CKV2?_[A-Z]+_\d+)(?::(?P<reason>.*))?")


def run_checkov(directory: Path) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - a fixed command line
        [str(CHECKOV), "--directory", str(directory), "--framework", "bicep", "--output", "json",
         "--skip-download"],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 1), f"checkov crashed ({done.returncode}): {done.stderr[-2000:]}"
    report = json.loads(done.stdout)
    assert isinstance(report, dict) and report.get("check_type") == "bicep", done.stdout[:500]
    return report


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return run_checkov(INFRA)


def _describe(check: dict[str, Any]) -> str:
    return f"{check['check_id']} {check['check_name']} at {check['file_path']}:{check['file_line_range']}"


def test_checkov_scans_the_whole_infra(report: dict[str, Any]) -> None:
    assert report["summary"]["parsing_errors"] == 0, report["results"]["parsing_errors"]
    scanned = {c["file_abs_path"] for kind in ("passed_checks", "failed_checks", "skipped_checks")
               for c in report["results"][kind]}
    for path in ("modules/storage.bicep", "modules/function.bicep"):
        assert str(INFRA / path) in scanned, f"checkov did not check {path}"


def test_no_failed_check(report: dict[str, Any]) -> None:
    failed = [_describe(c) for c in report["results"]["failed_checks"]]
    assert failed == [], "fix them, or skip inline with a reason (//checkov:skip=ID:why):\n" + "\n".join(failed)


def test_every_skip_is_inline_with_a_reason_and_still_needed(report: dict[str, Any]) -> None:
    skipped = {(c["file_abs_path"], c["check_id"]): c["check_result"].get("suppress_comment", "")
               for c in report["results"]["skipped_checks"]}
    written = set()
    for path in bicep_files():
        for match in SKIP.finditer(path.read_text()):
            reason = (match.group("reason") or "").strip()
            assert len(reason) >= 30, f"{path.name}: skip of {match.group('id')} needs a reason: {match.group()!r}"
            written.add((str(path), match.group("id")))
    assert written == set(skipped), {"skips that checkov did not use (stale)": written - set(skipped),
                                     "skips checkov applied that are not inline": set(skipped) - written}
    assert all(len(reason) >= 30 for reason in skipped.values()), skipped


def test_checkov_does_report_a_bad_storage_account(tmp_path: Path) -> None:
    # The wiring test: the same command on a storage account with old TLS and plain http fails.
    (tmp_path / "bad.bicep").write_text("""
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stbad'
  location: 'westeurope'
  kind: 'StorageV2'
  sku: {
    name: 'Standard_GRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_0'
    supportsHttpsTrafficOnly: false
  }
}
""")
    failed = {c["check_id"] for c in run_checkov(tmp_path)["results"]["failed_checks"]}
    assert {"CKV_AZURE_44", "CKV_AZURE_3"} <= failed, failed
