"""MLflow's own environment for the tests that load exported models with MLflow.

MLflow's pins conflict with the app's, so it lives in ``.venv-mlflow`` (made from
requirements-bench.txt, as the benchmarks' ``.venv-bench``), created on first use and reused
while requirements-bench.txt is unchanged. An existing ``.venv-bench`` with MLflow is used as is.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
REQUIREMENTS = ROOT / "requirements-bench.txt"


def mlflow_python() -> Path:
    bench = ROOT / ".venv-bench" / "bin" / "python"
    if bench.exists() and (ROOT / ".venv-bench" / "bin" / "mlflow").exists():
        return bench
    venv = ROOT / ".venv-mlflow"
    stamp = venv / ".requirements.sha256"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not stamp.exists() or stamp.read_text() != want:
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)], check=True, timeout=900)
        stamp.write_text(want)
    return venv / "bin" / "python"
