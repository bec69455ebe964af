"""End to end over HTTP: train, convert to batch inference, publish versions, submit by REST."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import httpx
import pandas as pd

from tests.e2e.conftest import wait_for_run

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = json.loads((ROOT / "samples/pipelines/automobile-price-training.json").read_text())


def train(api: httpx.Client, fraction: float) -> str:
    body = {"pipeline": TUTORIAL, "parameter_assignments": {"training_fraction": fraction}}
    run_id = api.post("/experiments/e2e-training/runs", json=body).raise_for_status().json()["Id"]
    assert wait_for_run(api, run_id)["status"] == "Finished"
    return run_id


def predictions(api: httpx.Client, run_id: str) -> pd.Series:
    csv = api.get(f"/runs/{run_id}/nodes/score/outputs/scored_dataset", params={"format": "csv"})
    return pd.read_csv(io.StringIO(csv.raise_for_status().text))["Scored Labels"]


def submit(api: httpx.Client, endpoint: str, dataset: str, **query) -> dict:
    body = {
        "ExperimentName": "e2e-scoring",
        "RunSource": "API",
        "ParameterAssignments": {},
        "DataSetDefinitionValueAssignments": {"input_data": {"SavedDataSetReference": {"Id": dataset}}},
    }
    response = api.post(f"/pipelineendpoints/{endpoint}/submit", json=body, params=query)
    assert response.status_code == 202, response.text
    run = wait_for_run(api, response.json()["Id"])
    assert run["status"] == "Finished", run
    return run


def test_publish_versions_submit_by_rest_swap_model_and_roll_back(api: httpx.Client):
    endpoint, model = f"car-prices-{uuid.uuid4().hex[:6]}", f"car-price-model-{uuid.uuid4().hex[:6]}"
    first_training = train(api, 0.7)
    draft = api.post(f"/runs/{first_training}/inference-pipelines", json={"kind": "batch"})
    assert draft.status_code == 201 and draft.json()["valid"], draft.text
    draft_id = draft.json()["id"]
    v1 = api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft_id, "description": "v1"})
    assert v1.status_code == 201 and v1.json()["version"] == 1

    cars = pd.read_csv(ROOT / "samples/datasets/automobile-price-raw.csv").drop(columns=["price"]).head(40)
    new_data = f"new-cars-{uuid.uuid4().hex[:6]}"
    api.post(f"/datasets/{new_data}", content=cars.to_csv(index=False).encode()).raise_for_status()
    run_v1 = submit(api, endpoint, new_data)
    assert run_v1["endpoint"] == endpoint and run_v1["endpoint_version"] == 1
    first = predictions(api, run_v1["run_id"])
    assert len(first) > 30 and first.between(3_000, 60_000).mean() > 0.9

    second_training = train(api, 0.5)
    registered = api.post(
        f"/runs/{second_training}/nodes/train/outputs/trained_model/register",
        json={"name": model, "description": "trained on half"},
    )
    assert registered.status_code == 201 and registered.json()["version"] == 1
    swapped = api.put(f"/pipelines/{draft_id}/nodes/MD-train/asset", json={"asset": model})
    assert swapped.status_code == 200 and swapped.json()["valid"], swapped.text
    v2 = api.post(
        f"/pipelineendpoints/{endpoint}/versions",
        json={"draft_id": draft_id, "description": "v2", "set_default": True},
    )
    assert v2.json()["version"] == 2

    default_run = submit(api, endpoint, new_data)
    assert default_run["endpoint_version"] == 2
    assert not predictions(api, default_run["run_id"]).equals(first)
    pinned_run = submit(api, endpoint, new_data, pipelineVersion=1)
    assert pinned_run["endpoint_version"] == 1
    pd.testing.assert_series_equal(predictions(api, pinned_run["run_id"]), first)

    assert api.post(f"/pipelineendpoints/{endpoint}/rollback").json()["default_version"] == 1
    view = api.get(f"/pipelineendpoints/{endpoint}").json()
    assert view["default_version"] == 1 and [v["version"] for v in view["versions"]] == [1, 2]
    assert [(h["action"], h["from_version"], h["to_version"]) for h in view["default_history"]][:2] == [
        ("rollback", 2, 1),
        ("set_default", 1, 2),
    ]
    assert view["default_history"][0]["by"] == "function-key"


def test_bad_submissions_say_what_is_wrong_and_create_no_run(api: httpx.Client, host_url: str):
    run_id = train(api, 0.7)
    draft_id = api.post(f"/runs/{run_id}/inference-pipelines", json={}).json()["id"]
    endpoint = f"cars-{uuid.uuid4().hex[:6]}"
    api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft_id}).raise_for_status()
    before = api.get("/experiments/e2e-bad/runs").json()["value"]

    bad = api.post(
        f"/pipelineendpoints/{endpoint}/submit",
        json={
            "ExperimentName": "e2e-bad",
            "ParameterAssignments": {"nope": 1},
            "DataSetDefinitionValueAssignments": {
                "input_data": {"SavedDataSetReference": {"Id": "no-such-data"}}
            },
        },
    )
    assert bad.status_code == 400
    problems = bad.json()["error"]["problems"]
    assert {"ParameterAssignments.nope"} <= {p.get("field") for p in problems}
    assert any(p["code"] == "unknown_dataset" for p in problems)
    unknown_field = api.post(
        f"/pipelineendpoints/{endpoint}/submit", json={"ExperimentName": "e2e-bad", "Bogus": 1}
    )
    assert unknown_field.status_code == 400
    assert (
        api.post(
            f"/pipelineendpoints/{endpoint}/submit",
            json={"ExperimentName": "e2e-bad"},
            params={"pipelineVersion": 5},
        ).status_code
        == 404
    )
    assert (
        api.post(f"/pipelineendpoints/nope-{endpoint}/submit", json={"ExperimentName": "e2e-bad"}).status_code
        == 404
    )
    api.put(f"/pipelineendpoints/{endpoint}/status", json={"status": "Disabled"}).raise_for_status()
    disabled = api.post(f"/pipelineendpoints/{endpoint}/submit", json={"ExperimentName": "e2e-bad"})
    assert disabled.status_code == 409 and "disabled" in disabled.json()["error"]["message"]
    assert (
        httpx.post(
            f"{host_url}/api/pipelineendpoints/{endpoint}/submit", json={"ExperimentName": "e2e-bad"}
        ).status_code
        == 401
    )
    assert api.get("/experiments/e2e-bad/runs").json()["value"] == before
