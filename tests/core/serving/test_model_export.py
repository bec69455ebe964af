"""Trained models out: an MLflow model loaded and served by MLflow itself, and an ONNX file run
in ONNX Runtime, each predicting what the real-time endpoint answers on the training rows."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import yaml

from core.errors import Conflict
from core.pipelines.document import Pipeline
from core.service.facade import Submission
from core.service.portability import Portability
from core.service.realtime import RealtimeSource
from tests.core.service.test_service import run_inline, tutorial
from tests.core.serving.mlflow_env import mlflow_python

ROOT = Path(__file__).resolve().parents[3]
PREDICT = """
import json, sys
import mlflow.pyfunc, pandas as pd
from mlflow.models import Model
model = mlflow.pyfunc.load_model(sys.argv[1])
rows = pd.DataFrame.from_records(json.load(open(sys.argv[2])))
meta = Model.load(sys.argv[1])
example = meta.load_input_example(sys.argv[1])
predictions = model.predict(rows).to_json(orient="records", double_precision=15)
print(json.dumps({"predictions": json.loads(predictions),
                  "inputs": meta.signature.inputs.input_names(), "example_rows": len(example),
                  "example_predictions": len(model.predict(example))}))
"""


@pytest.fixture(scope="module")
def trained(service) -> dict:
    run, job = service.submit(Submission(experiment="model-export", pipeline=tutorial()))
    run_inline(service, job)
    return service.get_run(run.run_id)


@pytest.fixture(scope="module")
def endpoint(service, trained) -> tuple[str, str]:
    draft, _ = service.create_inference_pipeline(trained["run_id"], "realtime")
    deployed, keys = service.realtime.deploy(
        f"export-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "", "t"
    )
    return deployed.name, keys["primary"]


@pytest.fixture(scope="module")
def training_rows(service) -> list[dict]:
    """The training rows the endpoint scores (complete ones: the pipeline drops the others)."""
    cars = pd.read_csv(service.samples_dir / "automobile-price-raw.csv").drop(columns=["price"])
    complete = cars.dropna(subset=[c for c in cars.columns if c != "normalized-losses"])
    return json.loads(complete.to_json(orient="records"))


@pytest.fixture(scope="module")
def endpoint_answer(service, endpoint, training_rows) -> list[dict]:
    name, key = endpoint
    answer = service.realtime.score(name, key, {"dataframe_records": training_rows})
    assert len(answer["predictions"]) == len(training_rows)
    return answer["predictions"]


@pytest.fixture(scope="module")
def endpoint_predictions(endpoint_answer) -> list[float]:
    return [r["Scored Labels"] for r in endpoint_answer]


def assert_same_rows(got: list[dict], want: list[dict]) -> None:
    """The endpoint's output table, row by row and column by column (numbers to 1e-9)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert list(g) == list(w)
        for column, value in w.items():
            if isinstance(value, float):
                assert g[column] == pytest.approx(value, rel=1e-9, abs=1e-9), column
            else:
                assert g[column] == value, column


def export_mlflow(service, name: str, folder: Path) -> Path:
    source = Portability(service).sources.from_realtime(name)
    zipped = Portability(service).export_model(source, "mlflow", name)
    assert zipped.media_type == "application/zip"
    zipfile.ZipFile(io.BytesIO(zipped.body)).extractall(folder)
    return folder


def mlflow_predict(model: Path, rows: list[dict], tmp_path: Path) -> dict:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    done = subprocess.run(
        [str(mlflow_python()), "-c", PREDICT, str(model), str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mlflow_model(service, endpoint, tmp_path_factory) -> Path:
    return export_mlflow(service, endpoint[0], tmp_path_factory.mktemp("mlflow") / "model")


def test_the_mlflow_model_directory_is_what_mlflow_reads(
    mlflow_model: Path, service, endpoint, endpoint_answer
):
    meta = yaml.safe_load((mlflow_model / "MLmodel").read_text())
    flavor = meta["flavors"]["python_function"]
    assert (mlflow_model / flavor["data"]).is_file() and (
        mlflow_model / "code" / f"{flavor['loader_module']}.py"
    ).is_file()
    inputs = json.loads(meta["signature"]["inputs"])
    schema = {c.name: c for c in service.realtime._record(endpoint[0])[0].schema_}
    assert [c["name"] for c in inputs] == list(schema)  # the captured schema, in its order
    assert {c["name"]: c["required"] for c in inputs}["normalized-losses"] is False
    assert {c["name"]: c["type"] for c in inputs}["curb-weight"] == "long"
    outputs = json.loads(meta["signature"]["outputs"])
    assert [c["name"] for c in outputs] == list(endpoint_answer[0])  # the endpoint's output table
    assert outputs[-1] == {"type": "double", "name": "Scored Labels", "required": True}
    example = json.loads((mlflow_model / "input_example.json").read_text())
    assert example["columns"] == list(schema) and len(example["data"]) == 5


def test_mlflow_loads_the_model_and_predicts_what_the_endpoint_answers(
    mlflow_model, training_rows, endpoint_answer, tmp_path
):
    result = mlflow_predict(mlflow_model, training_rows, tmp_path)
    assert_same_rows(result["predictions"], endpoint_answer)
    assert result["example_rows"] == result["example_predictions"] == 5
    assert "make" in result["inputs"]


def test_mlflow_models_serve_serves_it(mlflow_model, training_rows, endpoint_answer, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cli = mlflow_python().parent / "mlflow"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [
            str(cli),
            "models",
            "serve",
            "-m",
            str(mlflow_model),
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        start_new_session=True,  # mlflow starts uvicorn from PATH
        env={**os.environ, "PATH": f"{cli.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "serve.log"
            ).read_text()[-3000:]
            time.sleep(0.5)
        answer = httpx.post(f"{url}/invocations", json={"dataframe_records": training_rows[:20]}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert_same_rows(answer.json()["predictions"], endpoint_answer[:20])
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the CLI and the uvicorn it started
            server.wait(30)


def test_the_onnx_export_runs_in_onnx_runtime_with_the_endpoints_predictions(
    service, endpoint, training_rows, endpoint_predictions
):
    source = Portability(service).sources.from_realtime(endpoint[0])
    data = Portability(service).export_model(source, "onnx", endpoint[0]).body
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert names == source.model.feature_columns and "fuel-type" in names  # the schema's names, not fuel_type
    meta = json.loads(session.get_modelmeta().custom_metadata_map["designer"])
    frame = pd.DataFrame.from_records(training_rows)
    types = {"string": object, "int64": np.int64, "double": np.float64, "float": np.float32}
    feed = {
        i["name"]: frame[i["name"]].to_numpy().astype(types[i["type"]]).reshape(-1, 1) for i in meta["inputs"]
    }
    predicted = session.run(None, feed)[0].reshape(-1)
    assert predicted.tolist() == pytest.approx(
        endpoint_predictions, rel=1e-5, abs=1e-6 * max(map(abs, endpoint_predictions))
    )


def test_run_output_and_asset_exports_carry_the_same_model(
    service, trained, endpoint_predictions, training_rows
):
    portability = Portability(service)
    from_run = portability.sources.from_run(trained["run_id"], "train")
    asset = service.register_output(
        trained["run_id"], "train", "trained_model", f"cars-{uuid.uuid4().hex[:6]}", "", "t"
    )
    from_asset = portability.sources.from_asset(asset["name"], asset["version"])
    frame = pd.DataFrame.from_records(training_rows)
    for source in (from_run, from_asset):
        assert source.model.score(frame)["Scored Labels"].tolist() == pytest.approx(
            endpoint_predictions, rel=1e-12
        )
        names = [c.name for c in source.input_schema()]
        assert names == source.model.feature_columns and "price" not in names
        files = zipfile.ZipFile(io.BytesIO(portability.export_model(source, "mlflow", "m").body)).namelist()
        assert {"MLmodel", "model/model.pkl", "code/core/components/models.py", "requirements.txt"} <= set(
            files
        )


def test_a_model_onnx_cannot_carry_is_refused_with_the_reason(service):
    pipeline = Pipeline.model_validate({**tutorial().model_dump(mode="json")})
    pipeline.node("learner").component = "Poisson Regression"
    run, job = service.submit(Submission(experiment="model-export", pipeline=pipeline))
    run_inline(service, job)
    source = Portability(service).sources.from_run(run.run_id, "train")
    with pytest.raises(Conflict) as caught:
        Portability(service).export_model(source, "onnx", "poisson")
    assert caught.value.problems[0].code == "not_convertible"


CREDIT = {
    "name": "credit",
    "nodes": [
        {"id": "credit", "component": "Dataset", "parameters": {"name": "german-credit"}},
        {
            "id": "split",
            "component": "Split Data",
            "parameters": {"Fraction of rows in the first output dataset": 0.7, "Random seed": 3},
        },
        {
            "id": "learner",
            "component": "Two-Class Logistic Regression",
            "parameters": {"Random number seed": 1},
        },
        {"id": "train", "component": "Train Model", "parameters": {"Label column": "credit-risk"}},
        {"id": "score", "component": "Score Model"},
    ],
    "edges": [
        {"source": "credit.dataset", "target": "split.dataset"},
        {"source": "learner.untrained_model", "target": "train.untrained_model"},
        {"source": "split.results_dataset1", "target": "train.dataset"},
        {"source": "train.trained_model", "target": "score.trained_model"},
        {"source": "split.results_dataset2", "target": "score.dataset"},
    ],
}


def test_a_classifier_exports_with_its_labels_and_probabilities(service, tmp_path):
    run, job = service.submit(Submission(experiment="model-export", pipeline=Pipeline.model_validate(CREDIT)))
    run_inline(service, job)
    scored = service.node_output(run.run_id, "score", "scored_dataset", None)
    rows = scored.drop(columns=["credit-risk", "Scored Labels", "Scored Probabilities"])
    portability = Portability(service)
    source = portability.sources.from_run(run.run_id, "train")
    folder = tmp_path / "model"
    zipfile.ZipFile(io.BytesIO(portability.export_model(source, "mlflow", "credit").body)).extractall(folder)
    records = json.loads(rows.to_json(orient="records", double_precision=15))
    predicted = pd.DataFrame(mlflow_predict(folder, records, tmp_path)["predictions"])
    assert predicted["Scored Labels"].tolist() == scored["Scored Labels"].tolist()
    assert predicted["Scored Probabilities"].tolist() == pytest.approx(
        scored["Scored Probabilities"].tolist(), rel=1e-12
    )

    session = ort.InferenceSession(
        portability.export_model(source, "onnx", "credit").body, providers=["CPUExecutionProvider"]
    )
    meta = json.loads(session.get_modelmeta().custom_metadata_map["designer"])
    types = {"string": object, "int64": np.int64, "double": np.float64, "float": np.float32}
    feed = {
        i["name"]: rows[i["name"]].to_numpy().astype(types[i["type"]]).reshape(-1, 1) for i in meta["inputs"]
    }
    labels, proba = session.run(None, feed)[:2]
    assert labels.reshape(-1).tolist() == scored["Scored Labels"].tolist()
    assert proba[:, 1].tolist() == pytest.approx(scored["Scored Probabilities"].tolist(), rel=1e-5, abs=1e-6)


def test_an_endpoint_that_normalizes_before_its_model_exports_its_whole_scoring_path(service, tmp_path):
    document = tutorial().model_dump(mode="json")
    document["nodes"].append(
        {"id": "normalize", "component": "Normalize Data", "parameters": {"Transformation method": "MinMax"}}
    )
    document["edges"] = [e for e in document["edges"] if e["target"]["node"] != "split"] + [
        {"source": "clean.cleaned_dataset", "target": "normalize.dataset"},
        {"source": "normalize.transformed_dataset", "target": "split.dataset"},
    ]
    run, job = service.submit(
        Submission(experiment="model-export", pipeline=Pipeline.model_validate(document))
    )
    run_inline(service, job)
    draft, _ = service.create_inference_pipeline(run.run_id, "realtime")
    deployed, keys = service.realtime.deploy(
        f"norm-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "", "t"
    )
    cars = pd.read_csv(service.samples_dir / "automobile-price-raw.csv").drop(columns=["price"])
    rows = json.loads(
        cars.dropna(subset=[c for c in cars.columns if c != "normalized-losses"])
        .head(30)
        .to_json(orient="records")
    )
    answer = service.realtime.score(deployed.name, keys["primary"], {"dataframe_records": rows})[
        "predictions"
    ]
    folder = export_mlflow(service, deployed.name, tmp_path / "model")
    assert_same_rows(mlflow_predict(folder, rows, tmp_path)["predictions"], answer)
    source = Portability(service).sources.from_realtime(deployed.name)
    with pytest.raises(Conflict) as caught:
        Portability(service).export_model(source, "onnx", deployed.name)
    assert "change column(s)" in caught.value.problems[0].message
