"""From a valid pipeline to stages (core/pipelines/planner.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.pipelines.document import Pipeline
from core.pipelines.planner import InputRef, Plan, plan

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "pipelines" / "automobile-price-training.json"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def planned(doc: dict[str, Any]) -> Plan:
    pipeline = Pipeline.model_validate(doc)
    assert pipeline.validate() == []
    return plan(pipeline)


def test_sample_stages_are_topological_and_parallel_nodes_share_a_stage() -> None:
    p = planned(sample())
    assert p.stages == [
        ["automobile", "learner"],
        ["select"],
        ["clean"],
        ["split"],
        ["train"],
        ["score"],
        ["evaluate"],
    ]
    assert p.node_count == 8


def test_every_node_runs_after_the_nodes_it_reads_from() -> None:
    doc = sample()
    # a second branch: score the training rows too and compare them in Evaluate Model
    doc["nodes"].append({"id": "score_train", "component": "Score Model"})
    doc["edges"] += [
        {"source": "train.trained_model", "target": "score_train.trained_model"},
        {"source": "split.results_dataset1", "target": "score_train.dataset"},
        {"source": "score_train.scored_dataset", "target": "evaluate.scored_dataset_to_compare"},
    ]
    p = planned(doc)
    stage_of = {n: i for i, stage in enumerate(p.stages) for n in stage}
    assert sorted(stage_of) == sorted(n["id"] for n in doc["nodes"])
    pipeline = Pipeline.model_validate(doc)
    for target, sources in pipeline.dependencies().items():
        for source in sources:
            assert stage_of[source] < stage_of[target], (source, target)
    assert stage_of["score"] == stage_of["score_train"]
    assert ["score", "score_train"] in p.stages


def test_inputs_are_mapped_to_source_node_and_port_id() -> None:
    p = planned(sample())
    assert p.nodes["train"].inputs == {
        "untrained_model": InputRef(node="learner", port="untrained_model"),
        "dataset": InputRef(node="split", port="results_dataset1"),
    }
    assert p.nodes["score"].inputs == {
        "trained_model": InputRef(node="train", port="trained_model"),
        "dataset": InputRef(node="split", port="results_dataset2"),
    }
    assert p.nodes["automobile"].inputs == {}
    assert p.nodes["learner"].inputs == {}


def test_designer_port_names_in_edges_become_port_ids() -> None:
    doc = sample()
    doc["edges"] = [e for e in doc["edges"] if e["target"] != "score.dataset"]
    doc["edges"].append({"source": "split.Results dataset2", "target": "score.Dataset"})
    doc["edges"] = [e for e in doc["edges"] if e["target"] != "train.untrained_model"]
    doc["edges"].append(
        {
            "source": {"node": "learner", "port": "Untrained model"},
            "target": {"node": "train", "port": "Untrained model"},
        }
    )
    p = planned(doc)
    assert p.nodes["score"].inputs["dataset"] == InputRef(node="split", port="results_dataset2")
    assert p.nodes["train"].inputs["untrained_model"] == InputRef(node="learner", port="untrained_model")
    assert set(p.nodes["score"].inputs) == {"trained_model", "dataset"}


def test_parameters_are_canonicalised_to_field_names() -> None:
    p = planned(sample())
    assert p.nodes["split"].parameters == {"fraction": 0.7, "random_seed": 0}
    assert p.nodes["train"].parameters == {"label_column": "price"}
    assert p.nodes["clean"].parameters == {"cleaning_mode": "Remove entire row"}
    assert p.nodes["select"].parameters == {
        "select_columns": {
            "start": "all",
            "rules": [{"action": "exclude", "by": "name", "values": ["normalized-losses"]}],
        }
    }
    assert p.nodes["automobile"].parameters == {"name": "automobile-price-raw"}
    assert p.nodes["learner"].parameters == {}


def test_components_are_referenced_by_id_and_version() -> None:
    doc = sample()
    doc["nodes"][3]["component"] = "SPLIT DATA"
    p = planned(doc)
    assert (p.nodes["split"].component, p.nodes["split"].version) == ("split_data", "2.0")
    assert (p.nodes["learner"].component, p.nodes["learner"].version) == ("linear_regression", "3.0")
    assert p.nodes["evaluate"].component == "evaluate_model"


def test_plan_of_assigned_pipeline_carries_the_assigned_value() -> None:
    pipeline = Pipeline.model_validate(sample()).with_assignments({"training_fraction": 0.85})
    assert plan(pipeline).nodes["split"].parameters == {"fraction": 0.85, "random_seed": 0}


def test_plan_is_json_serialisable_and_round_trips() -> None:
    p = planned(sample())
    again = Plan.model_validate(json.loads(p.model_dump_json()))
    assert again == p
