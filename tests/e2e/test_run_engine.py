"""The run engine over HTTP on the local host: timeouts, retries, cancel, skips, reuse at submit."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
from azure.storage.blob import BlobServiceClient

from tests.e2e.conftest import wait_for_run

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "pipelines"
SLEEP_SCRIPT = """
import time
import pandas as pd

def azureml_main(dataframe1=None, dataframe2=None):
    time.sleep({seconds})
    return pd.DataFrame({{"slept": [{seconds}]}}),
"""


def experiment() -> str:
    return f"engine-{uuid.uuid4().hex[:8]}"


def sleeper(node_id: str, seconds: float, **run_settings) -> dict:
    node = {
        "id": node_id,
        "component": "Execute Python Script",
        "parameters": {"Python Script": SLEEP_SCRIPT.format(seconds=seconds)},
    }
    if run_settings:
        node["run_settings"] = run_settings
    return node


def wait_for_node(api: httpx.Client, run_id: str, node_id: str, check, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node = api.get(f"/runs/{run_id}/nodes/{node_id}").raise_for_status().json()
        if check(node):
            return node
        time.sleep(0.2)
    raise TimeoutError(f"{run_id}/{node_id}")


def test_a_node_past_its_timeout_fails_saying_so(api: httpx.Client):
    doc = {"name": "timeout", "nodes": [sleeper("slow", 6, timeout_seconds=2), sleeper("sibling", 0)]}
    submitted = api.post(f"/experiments/{experiment()}/runs", json={"pipeline": doc})
    assert submitted.status_code == 202, submitted.text
    run_id = submitted.json()["Id"]
    run = wait_for_run(api, run_id, timeout=60)
    assert run["status"] == "Failed" and run["failed_node"] == "slow"
    assert run["nodes"]["sibling"]["status"] == "Finished"  # the independent node ran to its end
    slow = run["nodes"]["slow"]
    assert slow["status"] == "Failed" and slow["error_code"] == "Timeout"
    assert "timed out after 2 s" in slow["error"]
    assert slow["outputs"] == {}


def test_a_node_succeeds_on_its_second_attempt(api: httpx.Client, azurite: str):
    """Import Data of a file that arrives after the first attempt failed: the retry reads it."""
    path = f"exports/late-{uuid.uuid4().hex[:8]}.csv"
    doc = {
        "name": "retry",
        "nodes": [
            {
                "id": "load",
                "component": "Import Data",
                "parameters": {"Data source": "Blob path", "Path": path},
                "run_settings": {"max_retries": 2, "retry_backoff_seconds": 3},
            }
        ],
    }
    run_id = api.post(f"/experiments/{experiment()}/runs", json={"pipeline": doc}).json()["Id"]
    first = wait_for_node(
        api, run_id, "load", lambda n: any("attempt 1 of 3 failed" in line for line in n["logs"])
    )
    assert first["status"] == "Running" and first["attempts"] == 1
    container, name = path.split("/", 1)
    BlobServiceClient.from_connection_string(azurite).get_blob_client(container, name).upload_blob(
        b"a,b\n1,2\n3,4\n", overwrite=True
    )
    run = wait_for_run(api, run_id, timeout=60)
    assert run["status"] == "Finished", run
    assert run["nodes"]["load"]["attempts"] == 2


def test_cancel_ends_a_running_run_and_the_clone_can_run_again(api: httpx.Client):
    doc = {
        "name": "cancel me",
        "nodes": [sleeper("slow", 15), sleeper("after", 0)],
        "edges": [{"source": "slow.result_dataset", "target": "after.dataset1"}],
    }
    run_id = api.post(f"/experiments/{experiment()}/runs", json={"pipeline": doc}).json()["Id"]
    wait_for_node(api, run_id, "slow", lambda n: n["status"] == "Running")
    canceled = api.post(f"/runs/{run_id}/cancel")
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "Canceled" and canceled.json()["Status"]["StatusCode"] == "Canceled"
    run = api.get(f"/runs/{run_id}").json()
    assert run["status"] == "Canceled"
    assert {n: v["status"] for n, v in run["nodes"].items()} == {"slow": "Canceled", "after": "Canceled"}
    assert run["nodes"]["slow"]["outputs"] == {}  # nothing half-written became visible

    again = api.post(f"/runs/{run_id}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "Conflict" and "Canceled" in again.json()["error"]["message"]

    clone = api.post(f"/runs/{run_id}/clone")
    assert clone.status_code == 201 and clone.json()["valid"] is True
    rerun = api.post(f"/experiments/{experiment()}/runs", json={"draft_id": clone.json()["id"]})
    assert rerun.status_code == 202
    assert api.post(f"/runs/{rerun.json()['Id']}/cancel").status_code == 200
    time.sleep(1)  # the orchestration is gone: nothing reopens the canceled run
    assert api.get(f"/runs/{rerun.json()['Id']}").json()["status"] == "Canceled"


def test_a_failure_skips_its_descendants_while_the_sibling_branch_finishes(api: httpx.Client):
    doc = json.loads((SAMPLES / "german-credit-classification.json").read_text())
    train_boosted = next(n for n in doc["nodes"] if n["id"] == "train_boosted")
    train_boosted["parameters"] = {"Label column": "no-such-column"}
    run = wait_for_run(
        api, api.post(f"/experiments/{experiment()}/runs", json={"pipeline": doc}).json()["Id"], timeout=180
    )
    assert run["status"] == "Failed" and run["failed_node"] == "train_boosted"
    states = {n: v["status"] for n, v in run["nodes"].items()}
    assert states["train_boosted"] == "Failed"
    assert states["score_boosted"] == states["evaluate"] == "Skipped"
    assert run["nodes"]["evaluate"]["note"] == "skipped: upstream node 'train_boosted' failed"
    assert states["train_logistic"] == states["score_logistic"] == states["cross_validate"] == "Finished"


def test_a_fully_reused_run_is_finished_in_the_submit_answer(api: httpx.Client):
    doc = json.loads((SAMPLES / "automobile-price-training.json").read_text())
    exp = experiment()
    first = wait_for_run(api, api.post(f"/experiments/{exp}/runs", json={"pipeline": doc}).json()["Id"])
    assert first["status"] == "Finished"
    submitted = api.post(f"/experiments/{exp}/runs", json={"pipeline": doc})
    assert submitted.status_code == 202
    body = submitted.json()
    assert body["Status"]["StatusCode"] == body["status"] == "Finished"
    run = api.get(f"/runs/{body['Id']}").json()
    for field in ("Id", "run_id", "status", "Status", "experiment", "status_url"):
        assert run[field] == body[field], field
    assert all(n["reused"] for n in run["nodes"].values())


def test_run_settings_are_validated_and_described(api: httpx.Client):
    doc = json.loads((SAMPLES / "automobile-price-training.json").read_text())
    doc["nodes"][5]["run_settings"] = {"timeout_seconds": -1, "mini_batch_rows": 10, "colour": "red"}
    response = api.post("/validate", json=doc)
    problems = {(p["code"], p["field"]) for p in response.json()["problems"]}
    assert ("invalid_run_setting", "run_settings.timeout_seconds") in problems
    assert ("unknown_run_setting", "run_settings.colour") in problems
    catalogue = {c["id"]: c for c in api.get("/components").json()["value"]}
    assert "mini_batch_rows" in catalogue["score_model"]["run_settings"]["properties"]
    assert set(catalogue["train_model"]["run_settings"]["properties"]) == {
        "timeout_seconds",
        "max_retries",
        "retry_backoff_seconds",
    }
