"""Run infra/check.py with the IaC tools (pycep-parser, checkov).

The tools live in their own venv, ``.venv-iac`` (requirements-iac.txt), because
checkov pins versions the app does not want. When that venv exists the checks
run with its interpreter; otherwise with the current one. If neither has the
tools, the tests skip locally and fail in CI (CI=true), so the gate cannot
silently disappear from CI.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "infra" / "check.py"
IAC_VENV_PYTHON = ROOT / ".venv-iac" / "bin" / "python"
EXIT_TOOLS_MISSING = 3


def iac_python() -> str:
    return str(IAC_VENV_PYTHON) if IAC_VENV_PYTHON.exists() else sys.executable


@dataclass
class CheckRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict:
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        assert lines, f"no JSON summary in output:\n{self.stdout}\n{self.stderr}"
        return json.loads(lines[-1])


def run_check(*args: str, timeout: float = 300) -> CheckRun:
    proc = subprocess.run([iac_python(), str(CHECK), "--json", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, check=False)
    run = CheckRun(proc.returncode, proc.stdout, proc.stderr)
    if run.returncode == EXIT_TOOLS_MISSING:
        message = (f"IaC tools missing for {iac_python()}: {run.stderr.strip()} "
                   "(python -m venv .venv-iac && .venv-iac/bin/pip install -r requirements-iac.txt)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return run
