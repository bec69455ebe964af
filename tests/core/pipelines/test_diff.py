"""The graph diff of two pipeline documents."""

from __future__ import annotations

import json
from pathlib import Path

from core.pipelines.diff import diff
from core.pipelines.document import Edge, Node, Pipeline, PortRef

TUTORIAL = Path(__file__).resolve().parents[3] / "samples" / "pipelines" / "automobile-price-training.json"


def tutorial() -> Pipeline:
    return Pipeline.model_validate(json.loads(TUTORIAL.read_text()))


def test_the_same_document_in_other_spellings_has_no_difference():
    a = tutorial()
    b = tutorial()
    split = b.node("split")
    split.parameters = {"fraction": 0.7, "Random seed": 0}  # field name instead of the designer's
    split.component = "split_data"
    b.edges = [
        Edge(
            source=PortRef(node=e.source.node, port=e.source.port),
            target=PortRef(
                node=e.target.node, port="Dataset" if e.target.port == "dataset" else e.target.port
            ),
        )
        for e in b.edges
    ]
    assert diff(a, b).empty


def test_added_removed_changed_and_rewired_nodes():
    a = tutorial()
    b = tutorial()
    b.node("split").parameters = {
        **b.node("split").parameters,
        "Fraction of rows in the first output dataset": 0.8,
    }
    b.node("learner").component = "Boosted Decision Tree Regression"
    b.nodes = [n for n in b.nodes if n.id != "evaluate"] + [Node(id="normalize", component="Normalize Data")]
    b.edges = [e for e in b.edges if e.target.node != "evaluate" and e.target.node != "split"]
    b.edges += [
        Edge(
            source=PortRef(node="clean", port="cleaned_dataset"),
            target=PortRef(node="normalize", port="dataset"),
        ),
        Edge(
            source=PortRef(node="normalize", port="transformed_dataset"),
            target=PortRef(node="split", port="dataset"),
        ),
    ]
    found = diff(a, b)
    assert [n.node for n in found.nodes_added] == ["normalize"]
    assert [(n.node, n.component) for n in found.nodes_removed] == [("evaluate", "Evaluate Model")]
    changes = {c.node: c for c in found.nodes_changed}
    assert changes["split"].parameters[0].model_dump() == {
        "parameter": "Fraction of rows in the first output dataset",
        "before": 0.7,
        "after": 0.8,
    }
    assert changes["learner"].component == ("Linear Regression", "Boosted Decision Tree Regression")
    assert [(r.target, r.before, r.after) for r in found.rewired] == [
        ("split.Dataset", "clean.Cleaned dataset", "normalize.Transformed dataset")
    ]
    assert {"source": "clean.Cleaned dataset", "target": "normalize.Dataset"} in found.edges_added
    assert {"source": "score.Scored dataset", "target": "evaluate.Scored dataset"} in found.edges_removed
    assert not found.empty
