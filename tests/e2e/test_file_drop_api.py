"""File-drop scoring through the API (what the browser uses), over the local host."""

from __future__ import annotations

import io
import json
import time
import uuid
from pathlib import Path

import httpx
import pandas as pd

from tests.e2e.conftest import wait_for_run

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = json.loads((ROOT / "samples/pipelines/automobile-price-training.json").read_text())


def wait_for_file(api: httpx.Client, endpoint: str, file: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = api.get(f"/pipelineendpoints/{endpoint}/files/{file}").json()
        if found["status"] in ("Finished", "Failed"):
            return found
        time.sleep(0.25)
    raise TimeoutError(file)


def test_a_file_put_through_the_api_is_scored_and_its_predictions_downloaded(api: httpx.Client):
    run_id = api.post("/experiments/e2e-drop/runs", json={"pipeline": TUTORIAL}).json()["Id"]
    assert wait_for_run(api, run_id)["status"] == "Finished"
    draft_id = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "batch"}).json()["id"]
    endpoint = f"drop-{uuid.uuid4().hex[:6]}"
    api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft_id}).raise_for_status()

    cars = pd.read_csv(ROOT / "samples/datasets/automobile-price-raw.csv").drop(columns=["price"])
    put = api.put(
        f"/pipelineendpoints/{endpoint}/files/my cars.csv", content=cars.to_csv(index=False).encode()
    )
    assert put.status_code == 202, put.text
    assert put.json()["status"] in ("Waiting", "NotStarted", "Running", "Finished")

    done = wait_for_file(api, endpoint, "my cars.csv")
    assert done["status"] == "Finished" and done["error_report"] is None, done
    download = api.get(done["predictions_url"].removeprefix("/api"))
    assert download.headers["content-type"].startswith("text/csv")
    scored = pd.read_csv(io.BytesIO(download.content))
    assert "Scored Labels" in scored.columns and len(scored) > 180
    assert api.get(f"/pipelineendpoints/{endpoint}/files").json()["value"] == ["my cars.csv"]
    run_output = api.get(f"/runs/{done['run_id']}/nodes/score/outputs/predictions", params={"rows": 3})
    assert run_output.status_code == 200 and len(pd.read_csv(io.StringIO(run_output.text))) == 3

    api.put(f"/pipelineendpoints/{endpoint}/files/wrong.csv", content=b"x,y\n1,2\n").raise_for_status()
    failed = wait_for_file(api, endpoint, "wrong.csv")
    assert failed["status"] == "Failed" and failed["error_report"]["run_id"] == failed["run_id"]
    assert "predictions_url" not in failed
    assert api.get(f"/pipelineendpoints/{endpoint}/files/wrong.csv/predictions").status_code == 404
    history = api.get("/runs", params={"endpoint": endpoint}).json()["value"]
    assert [r["run_id"] for r in history] == [failed["run_id"], done["run_id"]]


def test_bad_drops_are_refused_and_store_nothing(api: httpx.Client):
    assert api.put("/pipelineendpoints/no-such-endpoint/files/a.csv", content=b"a\n1\n").status_code == 404
    run_id = api.post("/experiments/e2e-drop/runs", json={"pipeline": TUTORIAL}).json()["Id"]
    wait_for_run(api, run_id)
    draft_id = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "batch"}).json()["id"]
    endpoint = f"drop-{uuid.uuid4().hex[:6]}"
    api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft_id}).raise_for_status()
    for file, body in (("notes.txt", b"a\n1\n"), (".hidden.csv", b"a\n1\n"), ("empty.csv", b"")):
        refused = api.put(f"/pipelineendpoints/{endpoint}/files/{file}", content=body)
        assert refused.status_code == 400, (file, refused.text)
    assert api.get(f"/pipelineendpoints/{endpoint}/files").json()["value"] == []
    assert api.get(f"/pipelineendpoints/{endpoint}/files/never.csv").status_code == 404
