"""Use cases against a real Azurite: submit validation, run records, nodes executed in-process."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from core.errors import InvalidRequest
from core.pipelines.document import Pipeline
from core.registry import runs
from core.registry.runs import RunStatus
from core.service.facade import Submission

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "pipelines" / "automobile-price-training.json"


def tutorial() -> Pipeline:
    return Pipeline.model_validate(json.loads(SAMPLE.read_text()))


def experiment() -> str:
    return f"exp-{uuid.uuid4().hex[:8]}"


def run_inline(service, job) -> None:
    """Run a submitted job in this process (the same run state machine the orchestrator drives)."""
    service.run_in_process(job)


def test_invalid_pipeline_is_refused_with_every_problem_and_nothing_stored(service):
    doc = tutorial().model_dump(mode="json")
    doc["parameters"] = []  # so the node's own value is used, not the pipeline parameter's
    doc["nodes"][3]["parameters"]["Fraction of rows in the first output dataset"] = 7
    doc["nodes"][0]["parameters"]["name"] = "no-such-dataset"
    doc["edges"].pop()  # evaluate loses its input
    exp = experiment()
    with pytest.raises(InvalidRequest) as err:
        service.submit(Submission(experiment=exp, pipeline=Pipeline.model_validate(doc)))
    found = {(p.code, p.node) for p in err.value.problems}
    assert {
        ("invalid_parameter", "split"),
        ("unknown_dataset", "automobile"),
        ("input_not_connected", "evaluate"),
    } <= found
    assert runs.list_runs(service.store, exp) == []


def test_unknown_parameter_assignment_is_refused(service):
    with pytest.raises(InvalidRequest) as err:
        service.submit(
            Submission(experiment=experiment(), pipeline=tutorial(), parameter_assignments={"nope": 1})
        )
    assert err.value.problems[0].field == "ParameterAssignments.nope"


def test_submit_pins_the_dataset_version_and_records_every_node(service):
    run, job = service.submit(Submission(experiment=experiment(), pipeline=tutorial()))
    assert job.plan.nodes["automobile"].parameters == {"name": "automobile-price-raw", "version": 1}
    nodes = runs.get_nodes(service.store, run.run_id)
    assert sorted(n.node_id for n in nodes) == sorted(job.plan.nodes)
    # nodes reused at submit are finished already; the rest wait for the orchestrator
    assert all(
        n.status == (RunStatus.FINISHED if n.node_id in job.reused else RunStatus.NOT_STARTED) for n in nodes
    )


def test_tutorial_runs_and_records_metrics_timings_and_outputs(service):
    run, job = service.submit(
        Submission(
            experiment=experiment(), pipeline=tutorial(), parameter_assignments={"training_fraction": 0.75}
        )
    )
    run_inline(service, job)
    view = service.get_run(run.run_id)
    assert view["status"] == "Finished"
    assert view["progress"] == {"nodes_done": 8, "nodes_total": 8}
    assert view["metrics"]["evaluate"]["Coefficient_of_Determination"] > 0.8
    split = view["nodes"]["split"]
    assert split["duration_seconds"] >= 0 and "split 193 rows into 145 and 48" in split["logs"][0]
    scored = service.node_output(run.run_id, "score", "scored_dataset", rows=5)
    assert "Scored Labels" in scored.columns and len(scored) == 5


def test_failing_component_fails_the_run_with_its_message(service):
    doc = tutorial().model_dump(mode="json")
    doc["nodes"][5]["parameters"]["Label column"] = "no-such-column"
    run, job = service.submit(Submission(experiment=experiment(), pipeline=Pipeline.model_validate(doc)))
    run_inline(service, job)
    view = service.get_run(run.run_id)
    assert view["status"] == "Failed" and view["failed_node"] == "train"
    assert "no-such-column" in view["error"]
    states = {n: v["status"] for n, v in view["nodes"].items()}
    assert states["split"] == "Finished" and states["train"] == "Failed"
    assert states["score"] == states["evaluate"] == "Skipped"
    assert view["nodes"]["score"]["note"] == "skipped: upstream node 'train' failed"
    assert view["nodes"]["train"]["error_code"] == "ColumnNotFound"
