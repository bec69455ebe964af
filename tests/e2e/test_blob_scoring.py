"""Upload a file to batch-input/{endpoint}/ and get predictions in batch-output/, over the local host."""

from __future__ import annotations

import io
import json
import time
import uuid
from pathlib import Path

import httpx
import pandas as pd
from azure.storage.blob import BlobServiceClient

from tests.e2e.conftest import wait_for_run

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = json.loads((ROOT / "samples/pipelines/automobile-price-training.json").read_text())


def wait_for_blob(blobs: BlobServiceClient, container: str, name: str, timeout: float = 90) -> bytes:
    client = blobs.get_blob_client(container, name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.exists():
            return client.download_blob().readall()
        time.sleep(0.25)
    raise TimeoutError(f"{container}/{name}")


def test_uploaded_file_is_scored_in_mini_batches_and_bad_files_are_reported(api: httpx.Client, azurite: str):
    run_id = api.post("/experiments/e2e-blob/runs", json={"pipeline": TUTORIAL}).json()["Id"]
    assert wait_for_run(api, run_id)["status"] == "Finished"
    draft_id = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "batch"}).json()["id"]
    endpoint = f"blob-{uuid.uuid4().hex[:6]}"
    api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft_id}).raise_for_status()
    api.put(
        f"/pipelineendpoints/{endpoint}/batch-settings",
        json={"mini_batch_rows": 40, "output": "ids", "id_column": "car_id"},
    ).raise_for_status()

    cars = pd.read_csv(ROOT / "samples/datasets/automobile-price-raw.csv").drop(columns=["price"])
    cars.insert(0, "car_id", range(1000, 1000 + len(cars)))
    blobs = BlobServiceClient.from_connection_string(azurite)
    blobs.get_blob_client("batch-input", f"{endpoint}/cars.csv").upload_blob(
        cars.to_csv(index=False).encode()
    )
    blobs.get_blob_client("batch-input", f"{endpoint}/notes.txt").upload_blob(b"not a table")

    scored = pd.read_csv(
        io.BytesIO(wait_for_blob(blobs, "batch-output", f"{endpoint}/cars.csv.predictions.csv"))
    )
    assert list(scored.columns) == ["car_id", "Scored Labels"]
    assert scored["car_id"].is_monotonic_increasing and len(scored) > 180
    report = json.loads(wait_for_blob(blobs, "batch-output", f"{endpoint}/notes.txt.error.json"))
    assert "csv or .parquet" in report["error"]

    runs = [r for r in api.get("/experiments/blob-scoring/runs").json()["value"] if r["endpoint"] == endpoint]
    assert sorted(r["status"] for r in runs) == ["Failed", "Finished"]
    finished = api.get(f"/runs/{next(r['run_id'] for r in runs if r['status'] == 'Finished')}").json()
    assert finished["nodes"]["score"]["metrics"]["mini_batches"] == 6
