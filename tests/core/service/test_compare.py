"""Comparing runs (core/service/compare.py): differences found after validation, metrics aligned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InvalidRequest
from core.pipelines.document import Pipeline
from core.service import compare

GERMAN = Path(__file__).resolve().parents[3] / "samples" / "pipelines" / "german-credit-classification.json"


def german(**split: object) -> Pipeline:
    doc = json.loads(GERMAN.read_text())
    next(n for n in doc["nodes"] if n["id"] == "split")["parameters"].update(split)
    return Pipeline.model_validate(doc)


def rows_by_key(rows: list[compare.ParameterRow]) -> dict[tuple[str, str], compare.ParameterRow]:
    return {(r.node, r.parameter): r for r in rows}


def test_a_changed_parameter_differs_and_an_explicit_default_does_not() -> None:
    base = german()
    changed = german(**{"Fraction of rows in the first output dataset": 0.6})
    spelled_out = german(**{"Randomized split": True})  # the default, written out
    rows = rows_by_key(compare.compare_parameters([base, changed, spelled_out], [{}, {}, {}]))
    fraction = rows[("split", "fraction")]
    assert fraction.values == [0.7, 0.6, 0.7] and fraction.differs
    assert fraction.label == "Fraction of rows in the first output dataset"
    assert fraction.component == "split_data"
    assert not rows[("split", "randomized_split")].differs
    assert not any(r.differs for k, r in rows.items() if k != ("split", "fraction"))


def test_a_node_only_one_run_has_is_absent_in_the_other() -> None:
    base = german()
    doc = base.model_dump(mode="json")
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "cross_validate"]
    doc["edges"] = [e for e in doc["edges"] if e["target"]["node"] != "cross_validate"]
    rows = rows_by_key(compare.compare_parameters([base, Pipeline.model_validate(doc)], [{}, {}]))
    label = rows[("cross_validate", "label_column")]
    assert label.values[1] is None and label.differs


def test_pipeline_parameter_assignments_are_compared_too() -> None:
    rows = compare.compare_parameters([german(), german()], [{"seed": 1}, {"seed": 2, "other": "x"}])
    pipeline_rows = [(r.parameter, r.values, r.differs) for r in rows if r.node == "pipeline"]
    assert pipeline_rows == [("seed", [1, 2], True), ("other", [None, "x"], True)]


def test_metrics_line_up_per_evaluate_node() -> None:
    rows = compare.compare_metrics(
        [{"evaluate": {"AUC": 0.8, "Accuracy": 0.7}}, {"evaluate": {"AUC": 0.8, "Accuracy": 0.75}}]
    )
    assert [(r.metric, r.values, r.differs) for r in rows] == [
        ("AUC", [0.8, 0.8], False),
        ("Accuracy", [0.7, 0.75], True),
    ]


def test_evaluate_nodes_and_their_scored_input_are_found() -> None:
    doc = german()
    assert compare.evaluate_nodes(doc) == ["evaluate"]
    assert compare.scored_source(doc, "evaluate") == ("score_logistic", "scored_dataset")


@pytest.mark.parametrize("ids", [["a"], ["a", "a"], ["a", "b", "c", "d", "e", "f"], []])
def test_two_to_five_distinct_runs(ids: list[str]) -> None:
    with pytest.raises(InvalidRequest):
        compare.check_run_ids(ids)
    assert compare.check_run_ids(["b", "a", "b"]) == ["b", "a"]
