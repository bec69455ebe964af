"""Syntax gate: every Bicep file in infra/ parses (pycep), and a broken one is rejected."""
from __future__ import annotations

from tests.infra.bicep_text import INFRA
from tests.infra.iac_tools import run_check

BROKEN = """param location string = 'westeurope'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stbroken'
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  properties: {
    minimumTlsVersion: 'TLS1_2'
  }
"""

VALID = """param location string = 'westeurope'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stvalid'
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
}
"""


def test_every_bicep_file_in_infra_parses():
    run = run_check("--parse-only")
    summary = run.summary
    expected = sorted(str(p) for p in INFRA.rglob("*.bicep"))
    assert run.returncode == 0, run.stderr
    assert summary["parse_errors"] == []
    assert sorted(summary["bicep_files"]) == expected
    assert len(expected) >= 7  # main + 6 modules


def test_parse_gate_rejects_a_broken_file_with_its_position(tmp_path):
    broken = tmp_path / "broken.bicep"
    broken.write_text(BROKEN)
    run = run_check("--parse-only", str(broken))
    assert run.returncode == 1
    [error] = run.summary["parse_errors"]
    assert error["file"] == str(broken)
    assert error["line"] > 0 and error["column"] > 0
    assert f"{broken}:{error['line']}:{error['column']}:" in run.stderr


def test_parse_gate_accepts_a_valid_file(tmp_path):
    valid = tmp_path / "valid.bicep"
    valid.write_text(VALID)
    run = run_check("--parse-only", str(valid))
    assert run.returncode == 0, run.stderr
    assert run.summary["parse_errors"] == []
