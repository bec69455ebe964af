"""The local host as a real subprocess, serving the function app over loopback HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SIGNING_KEY, _free_port

FUNCTION_KEY = "e2e-function-key-0123456789"


@pytest.fixture(scope="session")
def host_clock(tmp_path_factory) -> Path:
    """The file the host's schedules read the time from (the real time while it is empty)."""
    return tmp_path_factory.mktemp("clock") / "now.txt"


@pytest.fixture(scope="session")
def host_url(azurite: str, tmp_path_factory, host_clock: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DESIGNER_STORAGE_CONNECTION_STRING": azurite,
        "AzureWebJobsStorage": azurite,
        "DESIGNER_STORAGE": azurite,
        # Small mini-batches, so scoring nodes of these small pipelines fan out for real.
        "DESIGNER_MINI_BATCH_ROWS": "25",
        # Slow nodes for the timeout and cancel tests are Execute Python Script nodes.
        "DESIGNER_ENABLE_PYTHON_SCRIPT": "true",
        "DESIGNER_ARTIFACT_SIGNING_KEY": SIGNING_KEY,
        "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
        "DESIGNER_CLOCK_FILE": str(host_clock),
    }
    log = tmp_path_factory.mktemp("devhost") / "devhost.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devhost", "--app", "function_app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # a loaded 2-core machine starts it slowly
    while True:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"local host did not start:\n{log.read_text()}")
        time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def api(host_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{host_url}/api", headers={"x-functions-key": FUNCTION_KEY}, timeout=60
    ) as client:
        yield client


def wait_for_run(api: httpx.Client, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/runs/{run_id}").raise_for_status().json()
        if run["status"] in ("Finished", "Failed", "Canceled"):
            return run
        time.sleep(0.2)
    raise TimeoutError(run_id)
