"""Over HTTP: pipelines as YAML and Python, version diffs, model downloads and lineage."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import httpx
import onnxruntime as ort
import pytest
import yaml

from core.pipelines.document import Pipeline
from core.pipelines.yaml_io import to_yaml
from tests.e2e.conftest import FUNCTION_KEY, wait_for_run

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = json.loads((ROOT / "samples/pipelines/automobile-price-training.json").read_text())
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture(scope="module")
def trained(host_url: str) -> str:
    with httpx.Client(
        base_url=f"{host_url}/api", headers={"x-functions-key": FUNCTION_KEY}, timeout=60
    ) as api:
        run_id = (
            api.post("/experiments/e2e-export/runs", json={"pipeline": TUTORIAL})
            .raise_for_status()
            .json()["Id"]
        )
        assert wait_for_run(api, run_id)["status"] == "Finished"
        return run_id


def test_a_draft_posted_as_yaml_comes_back_as_the_same_yaml(api: httpx.Client):
    text = to_yaml(Pipeline.model_validate(TUTORIAL).model_dump(mode="json"))
    created = api.post("/pipelines", content=text.encode(), headers=YAML)
    assert created.status_code == 201 and created.json()["valid"], created.text
    exported = api.get(f"/pipelines/{created.json()['id']}", params={"format": "yaml"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/yaml")
    assert exported.text == text
    script = api.get(f"/pipelines/{created.json()['id']}", params={"format": "python"})
    assert script.status_code == 200 and "def pipeline(run: LocalRun)" in script.text
    compile(script.text, "pipeline.py", "exec")
    assert script.headers["content-disposition"].endswith('.py"')
    updated = api.put(
        f"/pipelines/{created.json()['id']}", content=text.replace(": 0.7", ": 0.6").encode(), headers=YAML
    )
    assert updated.status_code == 200, updated.text
    split = next(n for n in updated.json()["pipeline"]["nodes"] if n["id"] == "split")
    assert split["parameters"]["Fraction of rows in the first output dataset"] == 0.6


def test_bad_yaml_and_bad_formats_are_refused_and_store_nothing(api: httpx.Client):
    before = len(api.get("/pipelines").json()["value"])
    bad = api.post("/pipelines", content=b"name: [unclosed\n", headers=YAML)
    assert bad.status_code == 400 and bad.json()["error"]["problems"][0]["code"] == "invalid_yaml"
    unsafe = api.post("/pipelines", content=b"!!python/object/apply:os.system ['true']\n", headers=YAML)
    assert unsafe.status_code == 400
    invalid = api.post(
        "/pipelines",
        content=b"name: x\nnodes: [{id: 'no spaces here', component: Split Data}]\n",
        headers=YAML,
    )
    assert invalid.status_code == 400 and invalid.json()["error"]["problems"][0]["field"].startswith("nodes")
    assert len(api.get("/pipelines").json()["value"]) == before
    draft = api.post("/pipelines", json=TUTORIAL).json()["id"]
    assert (
        api.get(f"/pipelines/{draft}", params={"format": "xml"}).json()["error"]["problems"][0]["code"]
        == "invalid_format"
    )


def test_a_runs_pipeline_and_a_published_version_export_and_diff(api: httpx.Client, trained: str):
    ran = yaml.safe_load(api.get(f"/runs/{trained}/pipeline", params={"format": "yaml"}).text)
    assert next(n for n in ran["nodes"] if n["id"] == "automobile")["parameters"]["version"] == 1  # pinned
    assert api.get(f"/runs/{trained}/pipeline").json()["name"] == TUTORIAL["name"]
    endpoint = f"export-{uuid.uuid4().hex[:6]}"
    draft = api.post(f"/runs/{trained}/inference-pipelines", json={"kind": "batch"}).json()
    api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft["id"]}).raise_for_status()
    changed = draft["pipeline"]
    select = next(n for n in changed["nodes"] if n["id"] == "select")
    select["parameters"]["Select Columns"]["rules"][0]["values"] = ["normalized-losses", "symboling"]
    api.put(f"/pipelines/{draft['id']}", json=changed).raise_for_status()
    api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft["id"]}).raise_for_status()
    v1 = api.get(f"/pipelineendpoints/{endpoint}/versions/1", params={"format": "yaml"})
    assert v1.status_code == 200 and yaml.safe_load(v1.text)["kind"] == "batch_inference"
    found = api.get(f"/pipelineendpoints/{endpoint}/versions/1/diff/2").json()
    assert (found["from_version"], found["to_version"]) == (1, 2)
    assert [c["node"] for c in found["nodes_changed"]] == ["select"]
    assert found["nodes_added"] == found["nodes_removed"] == found["rewired"] == []
    assert api.get(f"/pipelineendpoints/{endpoint}/versions/1/diff/9").status_code == 404
    posted = api.post(
        "/diff",
        json={
            "before": TUTORIAL,
            "after": {**TUTORIAL, "nodes": TUTORIAL["nodes"][:-1], "edges": TUTORIAL["edges"][:-1]},
        },
    ).json()
    assert [n["node"] for n in posted["nodes_removed"]] == ["evaluate"]


def test_models_download_as_mlflow_and_onnx_and_say_where_they_came_from(api: httpx.Client, trained: str):
    onnx_file = api.get(f"/runs/{trained}/nodes/train/model", params={"format": "onnx"})
    assert onnx_file.status_code == 200, onnx_file.text
    session = ort.InferenceSession(onnx_file.content, providers=["CPUExecutionProvider"])
    assert "fuel-type" in [i.name for i in session.get_inputs()]
    mlflow_zip = api.get(f"/runs/{trained}/nodes/train/model")
    assert mlflow_zip.headers["content-type"] == "application/zip"
    assert "MLmodel" in zipfile.ZipFile(io.BytesIO(mlflow_zip.content)).namelist()
    assert api.get(f"/runs/{trained}/nodes/score/model").status_code == 404
    assert api.get(f"/runs/{trained}/nodes/train/model", params={"format": "pmml"}).status_code == 400

    asset = f"export-model-{uuid.uuid4().hex[:6]}"
    api.post(
        f"/runs/{trained}/nodes/train/outputs/trained_model/register", json={"name": asset}
    ).raise_for_status()
    assert api.get(f"/assets/{asset}/model", params={"format": "onnx"}).status_code == 200
    draft = api.post(f"/runs/{trained}/inference-pipelines", json={"kind": "realtime"}).json()
    name = f"exp-{uuid.uuid4().hex[:6]}"
    api.post("/realtime", json={"name": name, "draft_id": draft["id"]}).raise_for_status()
    served = api.get(f"/realtime/{name}/model", params={"format": "mlflow"})
    assert served.status_code == 200
    meta = yaml.safe_load(zipfile.ZipFile(io.BytesIO(served.content)).read("MLmodel"))
    assert meta["metadata"]["designer"]["realtime_endpoint"] == name

    lineage = api.get("/lineage", params={"realtime": name}).json()
    assert {m["node"]: m["origin"]["run_id"] for m in lineage["models"]}["MD-train"] == trained
    assert lineage["trained_on"] == [{"name": "automobile-price-raw", "version": 1}]
    of_asset = api.get("/lineage", params={"asset": asset}).json()
    assert of_asset["origin"]["run_id"] == trained and of_asset["origin"]["node"] == "train"
    # Artifacts are content-addressed: other tests' tutorial endpoints serve the very same model.
    assert name in [d["realtime_endpoint"] for d in of_asset["used_by"]["realtime_endpoints"]]
    assert api.get("/lineage").status_code == 400
    assert api.get("/lineage", params={"asset": "no-such-asset"}).status_code == 404
