"""Pipeline document parsing and validation (core/pipelines/document.py): every rule, located exactly."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.components.transformation import SplitData
from core.errors import Problem
from core.pipelines.document import Pipeline, canonical_parameter
from core.pipelines.planner import plan

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "samples" / "pipelines" / "automobile-price-training.json"
FRACTION_ALIAS = "Fraction of rows in the first output dataset"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def node(doc: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def replace_edge(doc: dict[str, Any], source: str, target: str, new: dict[str, Any] | None) -> None:
    """Replace (or with ``new=None`` remove) the edge ``source -> target``."""
    index = doc["edges"].index({"source": source, "target": target})
    if new is None:
        del doc["edges"][index]
    else:
        doc["edges"][index] = new


def problems(doc: dict[str, Any]) -> list[Problem]:
    return Pipeline.model_validate(doc).validate()


def located(ps: list[Problem]) -> set[tuple]:
    return {(p.code, p.node, p.port, p.parameter, p.field) for p in ps}


def only(doc: dict[str, Any]) -> tuple:
    """The single problem of ``doc`` as (code, node, port, parameter, field)."""
    ps = problems(doc)
    assert len(ps) == 1, [p.located() for p in ps]
    assert ps[0].message  # every problem says something to the user
    return (ps[0].code, ps[0].node, ps[0].port, ps[0].parameter, ps[0].field)


# ---- the sample --------------------------------------------------------------------------------


def test_sample_pipeline_is_valid() -> None:
    assert problems(sample()) == []


def test_components_found_by_id_and_any_case_name() -> None:
    doc = sample()
    node(doc, "split")["component"] = "split_data"
    node(doc, "learner")["component"] = "LINEAR regression"
    assert problems(doc) == []


def test_matching_component_version_is_accepted() -> None:
    doc = sample()
    node(doc, "split")["version"] = SplitData.version
    assert problems(doc) == []


# ---- nodes ---------------------------------------------------------------------------------------


def test_duplicate_node_id() -> None:
    doc = sample()
    doc["nodes"].append({"id": "learner", "component": "Linear Regression"})
    assert only(doc) == ("duplicate_node_id", "learner", None, None, None)


def test_unknown_component() -> None:
    doc = sample()
    node(doc, "learner")["component"] = "Linear Regresion"
    assert only(doc) == ("unknown_component", "learner", None, None, "component")


def test_unknown_component_version() -> None:
    doc = sample()
    node(doc, "split")["version"] = "1.0"
    assert only(doc) == ("unknown_component_version", "split", None, None, "version")


def test_missing_required_parameter() -> None:
    doc = sample()
    node(doc, "train")["parameters"] = {}
    assert only(doc) == ("missing_parameter", "train", None, "label_column", None)


def test_dataset_node_without_name_misses_a_parameter() -> None:
    doc = sample()
    node(doc, "automobile")["parameters"] = {}
    assert only(doc) == ("missing_parameter", "automobile", None, "name", None)


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_out_of_range_parameter(value: float) -> None:
    doc = sample()
    node(doc, "split")["parameters"][FRACTION_ALIAS] = value
    assert only(doc) == ("invalid_parameter", "split", None, "fraction", None)


def test_unknown_parameter_name() -> None:
    doc = sample()
    node(doc, "split")["parameters"]["Fractoin"] = 0.5
    assert only(doc) == ("unknown_parameter", "split", None, "Fractoin", None)


def test_wrong_parameter_type() -> None:
    doc = sample()
    node(doc, "split")["parameters"]["Random seed"] = "abc"
    assert only(doc) == ("invalid_parameter", "split", None, "random_seed", None)


def test_wrong_literal_parameter_value() -> None:
    doc = sample()
    node(doc, "clean")["parameters"]["Cleaning mode"] = "Replace with magic"
    assert only(doc) == ("invalid_parameter", "clean", None, "cleaning_mode", None)


def test_invalid_nested_column_picker_is_reported_on_the_parameter() -> None:
    doc = sample()
    node(doc, "select")["parameters"]["Select Columns"]["rules"][0]["action"] = "drop"
    assert only(doc) == ("invalid_parameter", "select", None, "select_columns", None)


def test_parameter_alias_and_field_name_both_accepted() -> None:
    doc = sample()
    node(doc, "split")["parameters"] = {"fraction": 0.6, "random_seed": 3, "randomized_split": True}
    node(doc, "clean")["parameters"] = {"cleaning_mode": "Remove entire row"}
    node(doc, "train")["parameters"] = {"label_column": "price"}
    assert problems(doc) == []
    doc = sample()
    node(doc, "split")["parameters"] = {
        FRACTION_ALIAS: 0.6,
        "Randomized split": False,
        "Stratified split": False,
    }
    assert problems(doc) == []


def test_canonical_parameter_maps_alias_and_name() -> None:
    assert canonical_parameter(SplitData, FRACTION_ALIAS) == "fraction"
    assert canonical_parameter(SplitData, "fraction") == "fraction"
    assert canonical_parameter(SplitData, "Fraction") is None


# ---- edges ---------------------------------------------------------------------------------------


def test_edge_from_unknown_node() -> None:
    doc = sample()
    replace_edge(
        doc, "split.results_dataset1", "train.dataset", {"source": "ghost.out", "target": "train.dataset"}
    )
    assert only(doc) == ("unknown_node", "ghost", "out", None, "source")


def test_edge_to_unknown_node() -> None:
    doc = sample()
    doc["edges"].append({"source": "split.results_dataset1", "target": "ghost.in"})
    assert only(doc) == ("unknown_node", "ghost", "in", None, "target")


def test_unknown_output_port() -> None:
    doc = sample()
    replace_edge(
        doc,
        "split.results_dataset1",
        "train.dataset",
        {"source": "split.results_dataset3", "target": "train.dataset"},
    )
    assert only(doc) == ("unknown_port", "split", "results_dataset3", None, None)


def test_unknown_input_port_also_leaves_the_real_input_unconnected() -> None:
    doc = sample()
    replace_edge(
        doc,
        "split.results_dataset1",
        "train.dataset",
        {"source": "split.results_dataset1", "target": "train.data"},
    )
    assert located(problems(doc)) == {
        ("unknown_port", "train", "data", None, None),
        ("input_not_connected", "train", "dataset", None, None),
    }


def test_edge_into_a_dataset_node_is_refused() -> None:
    doc = sample()
    doc["edges"].append({"source": "learner.untrained_model", "target": "automobile.dataset"})
    assert only(doc) == ("dataset_input", "automobile", "dataset", None, None)


def test_port_type_mismatch() -> None:
    doc = sample()
    replace_edge(
        doc,
        "train.trained_model",
        "score.trained_model",
        {"source": "learner.untrained_model", "target": "score.trained_model"},
    )
    assert only(doc) == ("port_type_mismatch", "score", "trained_model", None, None)


def test_input_port_fed_twice() -> None:
    doc = sample()
    doc["edges"].append({"source": "split.results_dataset2", "target": "train.dataset"})
    assert only(doc) == ("port_multiply_connected", "train", "dataset", None, None)


def test_input_port_fed_twice_under_both_spellings() -> None:
    doc = sample()
    doc["edges"].append({"source": "split.Results dataset2", "target": "train.Dataset"})
    assert only(doc) == ("port_multiply_connected", "train", "dataset", None, None)


def test_required_input_not_connected() -> None:
    doc = sample()
    replace_edge(doc, "learner.untrained_model", "train.untrained_model", None)
    assert only(doc) == ("input_not_connected", "train", "untrained_model", None, None)


def test_optional_input_not_reported_when_unconnected() -> None:
    doc = sample()
    ps = problems(doc)
    assert not any(p.port == "scored_dataset_to_compare" for p in ps)
    # ...but the required first input of Evaluate Model is.
    replace_edge(doc, "score.scored_dataset", "evaluate.scored_dataset", None)
    assert only(doc) == ("input_not_connected", "evaluate", "scored_dataset", None, None)


def test_optional_input_may_be_connected() -> None:
    doc = sample()
    doc["nodes"].append({"id": "score2", "component": "Score Model"})
    doc["edges"] += [
        {"source": "train.trained_model", "target": "score2.trained_model"},
        {"source": "split.results_dataset1", "target": "score2.dataset"},
        {"source": "score2.scored_dataset", "target": "evaluate.scored_dataset_to_compare"},
    ]
    assert problems(doc) == []


def test_self_loop() -> None:
    doc = sample()
    replace_edge(
        doc,
        "select.results_dataset",
        "clean.dataset",
        {"source": "clean.cleaned_dataset", "target": "clean.dataset"},
    )
    ps = problems(doc)
    assert ("self_loop", "clean", None, None, None) in located(ps)
    assert {p.node for p in ps} == {"clean"}


def test_cycle() -> None:
    doc = sample()
    replace_edge(
        doc,
        "automobile.dataset",
        "select.dataset",
        {"source": "clean.cleaned_dataset", "target": "select.dataset"},
    )
    ps = problems(doc)
    assert [p.code for p in ps] == ["cycle"]
    assert ps[0].node in {"select", "clean"}
    assert "select" in ps[0].message and "clean" in ps[0].message


def test_pipeline_outputs_must_name_node_outputs() -> None:
    doc = sample()
    doc["outputs"] = ["evaluate.evaluation_results", "score.Scored dataset", "score.nothing", "ghost.x"]
    assert located(problems(doc)) == {
        ("unknown_output", "score", "nothing", None, "outputs"),
        ("unknown_output", "ghost", "x", None, "outputs"),
    }


# ---- pipeline parameters -------------------------------------------------------------------------


def test_pipeline_parameter_bound_to_unknown_node() -> None:
    doc = sample()
    doc["parameters"][0]["bindings"] = [{"node": "ghost", "parameter": "fraction"}]
    assert only(doc) == ("unknown_node", "ghost", None, None, "parameters.training_fraction")


def test_pipeline_parameter_bound_to_unknown_parameter() -> None:
    doc = sample()
    doc["parameters"][0]["bindings"] = [{"node": "split", "parameter": "fractoin"}]
    assert only(doc) == ("unknown_parameter", "split", None, "fractoin", "parameters.training_fraction")


def test_pipeline_parameter_bound_by_designer_name_is_accepted() -> None:
    doc = sample()
    doc["parameters"][0]["bindings"] = [{"node": "split", "parameter": FRACTION_ALIAS}]
    assert problems(doc) == []


def test_duplicate_pipeline_parameter() -> None:
    doc = sample()
    doc["parameters"].append(copy.deepcopy(doc["parameters"][0]))
    assert only(doc) == ("duplicate_pipeline_parameter", None, None, None, "parameters.training_fraction")


def test_unknown_parameter_assignment() -> None:
    p = Pipeline.model_validate(sample())
    ps = p.assignment_problems({"training_fraction": 0.5, "trainin_fraction": 0.5})
    assert located(ps) == {
        ("unknown_pipeline_parameter", None, None, None, "ParameterAssignments.trainin_fraction")
    }
    assert "training_fraction" in ps[0].message  # lists the known names
    assert p.assignment_problems({"training_fraction": 0.5}) == []


def test_with_assignments_overrides_a_parameter_set_by_alias() -> None:
    p = Pipeline.model_validate(sample())  # the node spells it by its designer name
    resolved = p.with_assignments({"training_fraction": 0.8})
    assert resolved.node("split").parameters == {"Random seed": 0, "fraction": 0.8}
    assert resolved.validate() == []
    # the original document is untouched
    assert p.node("split").parameters[FRACTION_ALIAS] == 0.7


def test_with_assignments_overrides_a_parameter_set_by_field_name() -> None:
    doc = sample()
    node(doc, "split")["parameters"] = {"fraction": 0.3}
    doc["parameters"][0]["bindings"] = [{"node": "split", "parameter": FRACTION_ALIAS}]
    resolved = Pipeline.model_validate(doc).with_assignments({"training_fraction": 0.9})
    assert resolved.node("split").parameters == {"fraction": 0.9}


def test_with_assignments_applies_defaults() -> None:
    doc = sample()
    node(doc, "split")["parameters"][FRACTION_ALIAS] = 0.2
    resolved = Pipeline.model_validate(doc).with_assignments({})
    assert resolved.node("split").parameters["fraction"] == 0.7
    assert FRACTION_ALIAS not in resolved.node("split").parameters


def test_with_assignments_without_default_or_value_leaves_the_node() -> None:
    doc = sample()
    doc["parameters"][0]["default"] = None
    resolved = Pipeline.model_validate(doc).with_assignments({})
    assert resolved.node("split").parameters[FRACTION_ALIAS] == 0.7


def test_with_assignments_one_parameter_sets_every_binding() -> None:
    doc = sample()
    doc["parameters"] = [
        {"name": "label", "default": "price", "bindings": [{"node": "train", "parameter": "Label column"}]}
    ]
    doc["nodes"].append({"id": "train2", "component": "Train Model", "parameters": {"label_column": "x"}})
    doc["edges"] += [
        {"source": "learner.untrained_model", "target": "train2.untrained_model"},
        {"source": "split.results_dataset1", "target": "train2.dataset"},
    ]
    doc["parameters"][0]["bindings"].append({"node": "train2", "parameter": "label_column"})
    resolved = Pipeline.model_validate(doc).with_assignments({"label": "horsepower"})
    assert resolved.node("train").parameters == {"label_column": "horsepower"}
    assert resolved.node("train2").parameters == {"label_column": "horsepower"}


def test_with_assignments_out_of_range_value_is_then_reported() -> None:
    resolved = Pipeline.model_validate(sample()).with_assignments({"training_fraction": 2})
    assert located(resolved.validate()) == {("invalid_parameter", "split", None, "fraction", None)}


def test_with_assignments_tolerates_a_binding_to_an_unknown_node() -> None:
    """The service resolves assignments *before* validating (core/service/facade.py validate), so a
    binding to a missing node must survive with_assignments and be reported by validate()."""
    doc = sample()
    doc["parameters"][0]["bindings"].append({"node": "ghost", "parameter": "fraction"})
    resolved = Pipeline.model_validate(doc).with_assignments({})
    assert ("unknown_node", "ghost", None, None, "parameters.training_fraction") in located(
        resolved.validate()
    )


# ---- many problems at once -----------------------------------------------------------------------


def test_all_problems_are_reported_at_once() -> None:
    doc = sample()
    doc["nodes"].append({"id": "learner", "component": "Linear Regression"})  # duplicate id
    node(doc, "score")["component"] = "Score Modle"  # unknown component
    node(doc, "split")["parameters"]["Random seed"] = -1  # out of range
    node(doc, "train")["parameters"] = {"label": "price"}  # unknown + missing
    replace_edge(doc, "score.scored_dataset", "evaluate.scored_dataset", None)  # not connected
    doc["edges"].append({"source": "clean.cleaned_dataset", "target": "automobile.dataset"})
    doc["parameters"][0]["bindings"].append({"node": "nowhere", "parameter": "x"})
    ps = problems(doc)
    cycles = [p for p in ps if p.code == "cycle"]
    # clean -> automobile -> select -> clean closes a loop
    assert len(cycles) == 1 and cycles[0].node in {"automobile", "select", "clean"}
    assert located([p for p in ps if p.code != "cycle"]) == {
        ("duplicate_node_id", "learner", None, None, None),
        ("unknown_component", "score", None, None, "component"),
        ("invalid_parameter", "split", None, "random_seed", None),
        ("unknown_parameter", "train", None, "label", None),
        ("missing_parameter", "train", None, "label_column", None),
        ("input_not_connected", "evaluate", "scored_dataset", None, None),
        ("dataset_input", "automobile", "dataset", None, None),
        ("unknown_node", "nowhere", None, None, "parameters.training_fraction"),
    }
    assert len(ps) == 9


# ---- document parsing ----------------------------------------------------------------------------


def test_edge_shorthand_and_object_form_parse_alike() -> None:
    doc = sample()
    doc["edges"][0] = {
        "source": {"node": "automobile", "port": "dataset"},
        "target": {"node": "select", "port": "dataset"},
    }
    p = Pipeline.model_validate(doc)
    q = Pipeline.model_validate(sample())
    assert p.edges == q.edges
    assert (q.edges[0].source.node, q.edges[0].source.port) == ("automobile", "dataset")
    assert str(q.edges[0].target) == "select.dataset"
    assert p.validate() == []


def test_edge_shorthand_keeps_designer_port_names_with_spaces() -> None:
    doc = sample()
    replace_edge(
        doc,
        "split.results_dataset2",
        "score.dataset",
        {"source": "split.Results dataset2", "target": "score.Dataset"},
    )
    p = Pipeline.model_validate(doc)
    ports = {(e.source.port, e.target.port) for e in p.edges}
    assert ("Results dataset2", "Dataset") in ports
    assert p.validate() == []


def test_edge_shorthand_without_a_port_is_refused() -> None:
    doc = sample()
    doc["edges"][0]["source"] = "automobile"
    with pytest.raises(ValidationError):
        Pipeline.model_validate(doc)


@pytest.mark.parametrize("bad_id", ["split.data", "split data", "", "-split", "x" * 81])
def test_bad_node_id_is_refused(bad_id: str) -> None:
    doc = sample()
    node(doc, "learner")["id"] = bad_id
    with pytest.raises(ValidationError) as info:
        Pipeline.model_validate(doc)
    assert info.value.errors()[0]["loc"][:3] == ("nodes", 4, "id")


def test_unknown_document_field_is_refused() -> None:
    doc = sample()
    node(doc, "learner")["params"] = {}
    with pytest.raises(ValidationError):
        Pipeline.model_validate(doc)


def test_empty_pipeline_parses_and_reports_no_nodes() -> None:
    """A new canvas starts empty: it must save and read back, and say why it cannot run."""
    for doc in ({}, {"name": "empty", "nodes": []}):
        found = Pipeline.model_validate(doc).validate()
        assert [(p.code, p.field) for p in found] == [("no_nodes", "nodes")]


def test_positions_are_kept_and_never_change_the_plan() -> None:
    doc = sample()
    moved = copy.deepcopy(doc)
    for i, n in enumerate(moved["nodes"]):
        n["position"] = {"x": 40.5 * i, "y": -12}
    pipeline = Pipeline.model_validate(moved)
    assert pipeline.nodes[1].position is not None and pipeline.nodes[1].position.x == 40.5
    assert Pipeline.model_validate(pipeline.model_dump(mode="json")) == pipeline
    assert plan(pipeline) == plan(Pipeline.model_validate(doc))
    assert pipeline.validate() == []


@pytest.mark.parametrize("position", [{"x": 1}, {"x": "left", "y": 0}, {"x": float("nan"), "y": 0}])
def test_bad_positions_are_refused(position: dict[str, Any]) -> None:
    doc = sample()
    doc["nodes"][0]["position"] = position
    with pytest.raises(ValidationError):
        Pipeline.model_validate(doc)


def test_a_node_parameter_bound_by_two_pipeline_parameters_is_a_problem_naming_the_second():
    doc = sample()
    doc["parameters"].append(
        {"name": "share", "default": 0.5, "bindings": [{"node": "split", "parameter": FRACTION_ALIAS}]}
    )
    found = [p for p in problems(doc) if p.code == "parameter_bound_twice"]
    assert [(p.node, p.parameter, p.field) for p in found] == [("split", "fraction", "parameters.share")]
    assert "training_fraction" in found[0].message


def test_a_pipeline_parameter_name_used_twice_is_a_problem_naming_it():
    doc = sample()
    doc["parameters"].append(
        {"name": "training_fraction", "bindings": [{"node": "train", "parameter": "Label column"}]}
    )
    assert [p.field for p in problems(doc) if p.code == "duplicate_pipeline_parameter"] == [
        "parameters.training_fraction"
    ]
