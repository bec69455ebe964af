"""`python -m devhost` end to end: a real process, Azurite, worker processes, signals."""

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from devhost.blobs import RECEIPTS_CONTAINER
from tests.devhost.helpers import APP_MODULE, wait_until

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV_KEY, FILE_KEY = "key-from-environment", "key-from-local-settings"


@pytest.fixture
def devhost_process(azurite, tmp_path):
    """devhost started from an app folder whose local.settings.json holds the
    storage connection; the environment overrides its function key."""
    (tmp_path / "local.settings.json").write_text(
        json.dumps(
            {
                "IsEncrypted": False,
                "Values": {"AzureWebJobsStorage": azurite, "DEVHOST_FUNCTION_KEY": FILE_KEY},
            }
        )
    )
    env = {**os.environ, "PYTHONPATH": REPO_ROOT, "DEVHOST_FUNCTION_KEY": ENV_KEY}
    env.pop("AzureWebJobsStorage", None)
    stderr = open(tmp_path / "stderr.log", "w+")  # noqa: SIM115 - the child writes it; closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devhost",
            "--app",
            APP_MODULE,
            "--port",
            "0",
            "--workers",
            "2",
            "--poll-interval",
            "0.2",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("devhost listening on http://127.0.0.1:"), read(stderr)
        yield process, line.split()[-1], stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stderr.close()


def read(stderr) -> str:
    stderr.seek(0)
    return stderr.read()


def final_status(http: httpx.Client, status_url: str) -> dict:
    """Poll a durable status URL until the instance exists and has ended."""

    def ended():
        response = http.get(status_url)
        return response.json() if response.status_code == 200 else None

    return wait_until(ended)


def container(storage: BlobServiceClient, name: str) -> ContainerClient:
    client = storage.get_container_client(name)
    if not client.exists():
        client.create_container()
    return client


def test_serves_runs_orchestrations_fires_blob_triggers_and_stops_cleanly(devhost_process, azurite):
    process, base_url, stderr = devhost_process
    http = httpx.Client(base_url=base_url, timeout=10, headers={"x-functions-key": ENV_KEY})
    storage = BlobServiceClient.from_connection_string(azurite)

    # ready, and the environment's key wins over local.settings.json
    assert http.get("/admin/host/status").json() == {"state": "Running"}
    assert http.get("/api/hello/x", headers={"x-functions-key": FILE_KEY}).status_code == 401
    assert http.get("/api/hello/x", headers={"x-functions-key": ENV_KEY}).status_code == 200

    # an orchestration whose activities run in the worker processes
    started = http.post("/api/orchestrators/fan_out", json={"items": ["a", "b"], "seconds": 0.3})
    assert started.status_code == 202, read(stderr)
    done = final_status(http, started.json()["statusQueryGetUri"])
    assert done["runtimeStatus"] == "Completed", done
    assert [result["item"] for result in done["output"]] == ["a", "b"]
    worker_pids = {result["pid"] for result in done["output"]}
    assert process.pid not in worker_pids

    # a blob trigger fires once per new blob (connection string from local.settings.json)
    inputs, outputs = container(storage, "batch-input"), container(storage, "batch-output")

    def outputs_of(name):
        return [b.name for b in outputs.list_blobs(name_starts_with=f"{name}/")]

    inputs.upload_blob("e2e/a.csv", b"first", overwrite=True)
    wait_until(lambda: outputs_of("e2e/a.csv"))
    inputs.upload_blob("e2e/b.csv", b"second", overwrite=True)
    wait_until(lambda: outputs_of("e2e/b.csv"))
    # the scan that found b.csv listed a.csv first: a repeated call would show by now
    assert len(outputs_of("e2e/a.csv")) == 1 and len(outputs_of("e2e/b.csv")) == 1
    receipts = storage.get_container_client(RECEIPTS_CONTAINER)
    assert any(r.name.endswith("/batch-input/e2e/a.csv") for r in receipts.list_blobs())

    # a blob trigger that starts an orchestration through its durable client binding
    container(storage, "start-input").upload_blob(
        "job-1.json", json.dumps({"items": ["p", "q"], "seconds": 0}), overwrite=True
    )
    by_blob = final_status(http, "/runtime/webhooks/durabletask/instances/job-1")
    assert [result["item"] for result in by_blob["output"]] == ["p", "q"]
    storage.close()
    http.close()

    # SIGTERM: graceful shutdown, worker processes gone, exit status 0
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0, read(stderr)
    assert "devhost stopped" in read(stderr)
    for pid in worker_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
