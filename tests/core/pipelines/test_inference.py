"""Training run -> batch / real-time inference pipeline, and endpoint submission (Azurite)."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from core.components import PortType, lookup
from core.errors import Conflict, InvalidRequest, NotFound
from core.pipelines.document import Pipeline
from core.registry import endpoints
from core.registry.submissions import EndpointSubmission
from core.service.facade import Submission
from tests.core.service.test_service import run_inline, tutorial


@pytest.fixture(scope="module")
def trained(service) -> dict:
    run, job = service.submit(Submission(experiment="inference", pipeline=tutorial()))
    run_inline(service, job)
    return service.get_run(run.run_id)


def structure(doc: Pipeline) -> tuple[dict[str, str], set[tuple[str, str]]]:
    return (
        {n.id: lookup(n.component).id for n in doc.nodes},
        {(str(e.source), str(e.target)) for e in doc.edges},
    )


def test_batch_pipeline_carries_the_model_and_the_fitted_cleaning(service, trained):
    draft, problems = service.create_inference_pipeline(trained["run_id"], "batch")
    assert problems == []
    _, doc = service.get_draft(draft.id)
    nodes, edges = structure(doc)
    assert nodes == {
        "automobile": "dataset",
        "select": "select_columns_in_dataset",
        "clean": "apply_transformation",
        "TD-clean": "transformation_asset",
        "MD-train": "trained_model_asset",
        "score": "score_model",
    }
    assert edges == {
        ("automobile.dataset", "select.dataset"),
        ("select.results_dataset", "clean.dataset"),
        ("TD-clean.transformation", "clean.transformation"),
        ("clean.transformed_dataset", "score.dataset"),
        ("MD-train.trained_model", "score.trained_model"),
    }
    assert doc.node("MD-train").parameters == {"ref": trained["nodes"]["train"]["outputs"]["trained_model"]}
    assert doc.kind == "batch_inference" and doc.source_run == trained["run_id"]
    assert [(p.name, p.default) for p in doc.parameters] == [("input_data", "automobile-price-raw")]
    assert [str(o) for o in doc.outputs] == ["score.scored_dataset"]


def test_batch_pipeline_scores_new_data_like_the_training_run(service, trained):
    draft, _ = service.create_inference_pipeline(trained["run_id"], "batch")
    raw = pd.read_csv(service.samples_dir / "automobile-price-raw.csv")
    name = f"new-cars-{uuid.uuid4().hex[:6]}"
    service.register_csv(name, raw.drop(columns=["price"]).to_csv(index=False).encode())
    run, job = service.submit(
        Submission(experiment="inference", draft_id=draft.id, parameter_assignments={"input_data": name})
    )
    run_inline(service, job)
    view = service.get_run(run.run_id)
    assert view["status"] == "Finished", view
    scored = service.node_output(run.run_id, "score", "scored_dataset", None)
    training_scored = service.node_output(trained["run_id"], "score", "scored_dataset", None)
    features = [c for c in scored.columns if c != "Scored Labels"]
    both = scored.merge(training_scored.drop(columns=["price"]), on=features, suffixes=("", "_train"))
    assert len(both) >= 58  # every test-split row is among the newly scored rows
    assert (both["Scored Labels"] - both["Scored Labels_train"]).abs().max() < 1e-6
    assert "price" not in scored.columns


def test_realtime_pipeline_adds_web_service_nodes_and_drops_the_label(service, trained):
    draft, problems = service.create_inference_pipeline(trained["run_id"], "realtime")
    assert problems == []
    _, doc = service.get_draft(draft.id)
    nodes, edges = structure(doc)
    assert (
        nodes["WebServiceInput0"] == "web_service_input"
        and nodes["WebServiceOutput0"] == "web_service_output"
    )
    assert ("automobile.dataset", "WebServiceInput0.dataset") in edges
    assert ("WebServiceInput0.data", "select.dataset") in edges
    assert ("score.scored_dataset", "WebServiceOutput0.dataset") in edges
    assert doc.node("WebServiceInput0").parameters["drop_columns"] == ["price"]
    run, job = service.submit(Submission(experiment="inference", draft_id=draft.id))
    run_inline(service, job)
    out = service.node_output(run.run_id, "WebServiceOutput0", "data", None)
    assert "Scored Labels" in out.columns and "price" not in out.columns


def test_conversion_refusals(service, trained):
    failed_doc = tutorial().model_dump(mode="json")
    failed_doc["nodes"][5]["parameters"] = {"Label column": "nope"}
    run, job = service.submit(
        Submission(experiment="inference", pipeline=Pipeline.model_validate(failed_doc))
    )
    run_inline(service, job)
    with pytest.raises(InvalidRequest) as err:
        service.create_inference_pipeline(run.run_id, "batch")
    assert err.value.problems[0].code == "run_not_completed"

    no_model = Pipeline.model_validate(
        {
            "nodes": [
                {"id": "d", "component": "Dataset", "parameters": {"name": "automobile-price-raw"}},
                {
                    "id": "s",
                    "component": "Select Columns in Dataset",
                    "parameters": {"Select Columns": ["make"]},
                },
            ],
            "edges": [{"source": "d.dataset", "target": "s.dataset"}],
        }
    )
    run, job = service.submit(Submission(experiment="inference", pipeline=no_model))
    run_inline(service, job)
    with pytest.raises(InvalidRequest, match="no trained model"):
        service.create_inference_pipeline(run.run_id, "batch")


def test_register_model_and_swap_the_md_node(service, trained):
    name = f"car-price-model-{uuid.uuid4().hex[:6]}"
    registered = service.register_output(trained["run_id"], "train", "trained_model", name, "v1", "tester")
    assert registered["type"] == "asset" and registered["version"] == 1
    assert registered["kind"] == PortType.MODEL.value
    draft, _ = service.create_inference_pipeline(trained["run_id"], "batch")
    draft, problems = service.use_asset(draft.id, "MD-train", name, None, None)
    assert problems == []
    with pytest.raises(InvalidRequest) as err:
        service.use_asset(draft.id, "TD-clean", name, None, None)  # a model is not a transformation
    assert err.value.problems[0].code == "asset_kind_mismatch"
    _run, job = service.submit(Submission(experiment="inference", draft_id=draft.id))
    assert job.plan.nodes["MD-train"].parameters == {"ref": registered["ref"], "source_asset": f"{name}:1"}


def test_publish_and_submit_with_azure_ml_fields(service, trained):
    draft, _ = service.create_inference_pipeline(trained["run_id"], "batch")
    endpoint = f"cars-{uuid.uuid4().hex[:6]}"
    v1 = service.publish(draft.id, endpoint, "first", set_default=False, by="tester")
    assert v1.version == 1 and v1.parameters == {"input_data": "automobile-price-raw"}
    body = EndpointSubmission.model_validate(
        {
            "ExperimentName": "endpoint-runs",
            "ParameterAssignments": {},
            "DataSetDefinitionValueAssignments": {
                "input_data": {"SavedDataSetReference": {"Id": "automobile-price-raw:1"}}
            },
        }
    )
    run, job = service.submit_to_endpoint(endpoint, body, None, "tester")
    assert (run.endpoint, run.endpoint_version, run.submitted_by) == (endpoint, 1, "tester")
    assert job.plan.nodes["automobile"].parameters == {"name": "automobile-price-raw", "version": 1}

    with pytest.raises(InvalidRequest) as err:
        service.submit_to_endpoint(
            endpoint,
            EndpointSubmission.model_validate(
                {
                    "ExperimentName": "x",
                    "ParameterAssignments": {"nope": 1},
                    "DataPathAssignments": {
                        "not_an_input": {"DataStoreName": "batch-input", "RelativePath": "a.csv"}
                    },
                }
            ),
            None,
            "tester",
        )
    fields = {p.field for p in err.value.problems}
    assert {"ParameterAssignments.nope", "DataPathAssignments.not_an_input"} <= fields
    with pytest.raises(NotFound):
        service.submit_to_endpoint(endpoint, body, 9, "tester")
    endpoints.set_status(service.store, endpoint, "Disabled", "tester")
    with pytest.raises(Conflict):
        service.submit_to_endpoint(endpoint, body, None, "tester")


def test_submit_with_a_blob_path_registers_and_uses_that_data(service, trained, store):
    draft, _ = service.create_inference_pipeline(trained["run_id"], "batch")
    endpoint = f"cars-{uuid.uuid4().hex[:6]}"
    service.publish(draft.id, endpoint, "", set_default=True, by=None)
    raw = pd.read_csv(service.samples_dir / "automobile-price-raw.csv").head(30)
    path = f"{endpoint}/new.csv"
    store.put_blob("batch-input", path, raw.to_csv(index=False).encode())
    body = EndpointSubmission.model_validate(
        {
            "ExperimentName": "endpoint-runs",
            "DataPathAssignments": {"input_data": {"DataStoreName": "batch-input", "RelativePath": path}},
        }
    )
    run, job = service.submit_to_endpoint(endpoint, body, None, None)
    pinned = job.plan.nodes["automobile"].parameters
    assert pinned["name"] == f"batch-input.{endpoint}.new.csv" and pinned["version"] == 1
    run_inline(service, job)
    assert len(service.node_output(run.run_id, "score", "scored_dataset", None)) <= 30
