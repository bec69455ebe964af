"""End to end over HTTP: the local host, the durable orchestrator and Azurite, all real."""

from __future__ import annotations

import io
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd

from tests.e2e.conftest import wait_for_run

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "pipelines" / "automobile-price-training.json"


def tutorial() -> dict:
    return json.loads(SAMPLE.read_text())


def experiment() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def test_tutorial_pipeline_trains_scores_and_evaluates(api: httpx.Client):
    draft = api.post("/pipelines", json=tutorial())
    assert draft.status_code == 201 and draft.json()["valid"] is True
    exp = experiment()
    submitted = api.post(
        f"/experiments/{exp}/runs", json={"draft_id": draft.json()["id"], "regenerate_outputs": True}
    )
    assert submitted.status_code == 202
    body = submitted.json()
    assert body["Status"]["StatusCode"] == "NotStarted"
    assert submitted.headers["location"] == body["status_url"] == f"/api/runs/{body['Id']}"

    run = wait_for_run(api, body["Id"])
    assert run["status"] == "Finished", run
    assert {n["status"] for n in run["nodes"].values()} == {"Finished"}
    assert not any(n["reused"] for n in run["nodes"].values())
    metrics = run["metrics"]["evaluate"]
    assert set(metrics) == {
        "Mean_Absolute_Error",
        "Root_Mean_Squared_Error",
        "Relative_Absolute_Error",
        "Relative_Squared_Error",
        "Coefficient_of_Determination",
    }
    assert metrics["Coefficient_of_Determination"] > 0.8
    assert 0 < metrics["Mean_Absolute_Error"] < metrics["Root_Mean_Squared_Error"]
    for node in run["nodes"].values():
        assert node["started_at"] <= node["ended_at"]

    csv = api.get(f"/runs/{body['Id']}/nodes/score/outputs/scored_dataset", params={"format": "csv"})
    scored = pd.read_csv(io.StringIO(csv.text))
    assert {"price", "Scored Labels"} <= set(scored.columns) and len(scored) == 58
    assert run["nodes"]["score"]["note"] == "scored in 3 mini-batches of up to 25 rows"

    listed = api.get(f"/experiments/{exp}/runs").json()["value"]
    assert [r["run_id"] for r in listed] == [body["Id"]]

    # The plots are drawn on first view; the studio asks for them all at once.
    names = sorted(run["nodes"]["evaluate"]["plots"])
    assert names == ["predicted_vs_actual", "residual_histogram"]
    paths = [f"/runs/{body['Id']}/nodes/evaluate/plots/{name}" for name in names]
    with ThreadPoolExecutor(len(paths)) as pool:
        first = list(pool.map(api.get, paths))
    assert [(r.status_code, r.headers["content-type"]) for r in first] == [(200, "image/png")] * len(paths)
    assert all(r.content.startswith(b"\x89PNG") for r in first)
    assert [api.get(path).content for path in paths] == [r.content for r in first]


def test_invalid_pipeline_is_refused_with_each_problem_and_no_run(api: httpx.Client):
    doc = tutorial()
    doc["nodes"].append({"id": "select", "component": "Split Data"})  # duplicate id
    doc["nodes"][5]["parameters"] = {}  # train: no label column
    doc["edges"].append({"source": "score.scored_dataset", "target": "train.untrained_model"})
    exp = experiment()
    response = api.post(f"/experiments/{exp}/runs", json={"pipeline": doc})
    assert response.status_code == 400
    problems = {
        (p["code"], p.get("node"), p.get("port") or p.get("parameter"))
        for p in response.json()["error"]["problems"]
    }
    assert ("duplicate_node_id", "select", None) in problems
    assert ("missing_parameter", "train", "label_column") in problems
    assert ("port_type_mismatch", "train", "untrained_model") in problems
    assert api.get(f"/experiments/{exp}/runs").json()["value"] == []


def test_failing_component_fails_its_run_and_the_host_keeps_serving(api: httpx.Client):
    doc = tutorial()
    doc["nodes"][5]["parameters"] = {"Label column": "no-such-column"}
    submitted = api.post(f"/experiments/{experiment()}/runs", json={"pipeline": doc}).json()
    run = wait_for_run(api, submitted["Id"])
    assert run["status"] == "Failed" and run["failed_node"] == "train"
    assert "no-such-column" in run["nodes"]["train"]["error"]
    assert run["nodes"]["split"]["status"] == "Finished"
    assert run["nodes"]["evaluate"]["status"] == "Skipped"  # it depends on the failed node
    assert api.get("/health").status_code == 200
    assert api.get("/components").status_code == 200


def test_management_api_needs_the_function_key(host_url: str):
    assert httpx.get(f"{host_url}/api/components").status_code == 401
    assert httpx.get(f"{host_url}/api/components", headers={"x-functions-key": "wrong"}).status_code == 401
    assert httpx.get(f"{host_url}/api/health").status_code == 200


def test_dataset_upload_and_bad_input(api: httpx.Client):
    name = f"cars-{uuid.uuid4().hex[:6]}"
    created = api.post(f"/datasets/{name}", content=b"a,b\n1,2\n3,4\n", params={"description": "tiny"})
    assert created.status_code == 201 and created.json()["version"] == 1
    assert api.get(f"/datasets/{name}").json()["versions"][0]["rows"] == 2
    bad = api.post(f"/datasets/{name}", content=b"")
    assert bad.status_code == 400 and bad.json()["error"]["problems"][0]["code"] == "empty_body"
    assert api.get(f"/datasets/{name}/versions/2").status_code == 404
    not_json = api.post("/pipelines", content=b"{nope")
    assert not_json.status_code == 400 and not_json.json()["error"]["problems"][0]["field"] == "body"


def test_convert_to_csv_output_downloads_as_csv_by_default(api: httpx.Client):
    doc = {
        "nodes": [
            {"id": "data", "component": "Enter Data Manually", "parameters": {"Data": "a,b\n1,x\n2,y\n"}},
            {"id": "csv", "component": "Convert to CSV"},
        ],
        "edges": [{"source": "data.dataset", "target": "csv.dataset"}],
    }
    run_id = api.post(f"/experiments/{experiment()}/runs", json={"pipeline": doc}).json()["Id"]
    assert wait_for_run(api, run_id)["status"] == "Finished"
    converted = api.get(f"/runs/{run_id}/nodes/csv/outputs/results_dataset")
    assert (
        converted.headers["content-type"].startswith("text/csv") and converted.text.splitlines()[0] == "a,b"
    )
    plain = api.get(f"/runs/{run_id}/nodes/data/outputs/dataset")
    assert plain.headers["content-type"].startswith("application/json")
