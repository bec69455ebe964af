"""MLflow's own environment for the tests that load exported models with MLflow.

MLflow's pins conflict with the app's, so it lives in ``.venv-mlflow``, made from
requirements-bench.txt (as the benchmarks' ``.venv-bench`` is) on first use, about a minute,
and reused while requirements-bench.txt is unchanged.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
REQUIREMENTS = ROOT / "requirements-bench.txt"


def mlflow_python() -> Path:
    venv = ROOT / ".venv-mlflow"
    stamp = venv / ".requirements.sha256"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not stamp.exists() or stamp.read_text() != want:
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
            timeout=900,
        )
        stamp.write_text(want)
    return venv / "bin" / "python"
