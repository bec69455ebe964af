"""YAML export and import of pipeline documents: canonical, byte-stable, safe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.components import CATALOGUE
from core.errors import InvalidRequest
from core.pipelines.document import Pipeline, canonical_parameter
from core.pipelines.yaml_io import from_yaml, is_yaml, to_yaml

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "samples" / "pipelines").glob("*.json"))


def round_trip(pipeline: Pipeline) -> tuple[str, Pipeline, str]:
    first = to_yaml(pipeline.model_dump(mode="json"))
    stored = json.loads(json.dumps(from_yaml(first), sort_keys=True))  # as the service saves documents
    again = Pipeline.model_validate(stored)
    return first, again, to_yaml(again.model_dump(mode="json"))


def canonical(pipeline: Pipeline) -> dict[str, Any]:
    """The document with parameters by field name and components/ports by id, to compare meaning."""
    nodes = {}
    for node in pipeline.nodes:
        component = CATALOGUE.get(node.component) or next(
            c for c in CATALOGUE.values() if c.name == node.component
        )
        nodes[node.id] = (
            component.id,
            {canonical_parameter(component, k): v for k, v in node.parameters.items()},
            node.comment,
        )

    def port(ref, output):
        component = CATALOGUE[nodes[ref.node][0]]
        found = component.output_port(ref.port) if output else component.input_port(ref.port)
        return f"{ref.node}.{found.id}"

    edges = sorted((port(e.source, True), port(e.target, False)) for e in pipeline.edges)
    return {
        "name": pipeline.name,
        "description": pipeline.description,
        "kind": pipeline.kind,
        "nodes": nodes,
        "edges": edges,
        "outputs": [port(o, True) for o in pipeline.outputs],
        "parameters": [
            (
                p.name,
                p.default,
                [(b.node, canonical_parameter(CATALOGUE[nodes[b.node][0]], b.parameter)) for b in p.bindings],
            )
            for p in pipeline.parameters
        ],
    }


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_pipeline_round_trips_byte_for_byte(path: Path):
    pipeline = Pipeline.model_validate(json.loads(path.read_text()))
    first, again, second = round_trip(pipeline)
    assert first == second
    assert canonical(again) == canonical(pipeline)
    assert again.validate() == []


def test_yaml_names_components_parameters_and_ports_by_designer_name():
    pipeline = Pipeline.model_validate(json.loads(SAMPLES[0].read_text()))
    text = to_yaml(pipeline.model_dump(mode="json"))
    data = yaml.safe_load(text)
    assert {n["component"] for n in data["nodes"]} >= {"Split Data", "Train Model", "Score Model"}
    split = next(n for n in data["nodes"] if n["id"] == "split")
    assert "Fraction of rows in the first output dataset" in split["parameters"]
    assert {"source": "split.Results dataset1", "target": "train.Dataset"} in data["edges"]


def _defaults(component) -> dict[str, Any]:
    """Every parameter that has a default, given explicitly by its field name."""
    values = {}
    for name, field in component.Parameters.model_fields.items():
        if not field.is_required():
            default = field.get_default(call_default_factory=True)
            values[name] = json.loads(json.dumps(default, default=lambda o: getattr(o, "value", str(o))))
    return values


def every_component_pipeline() -> Pipeline:
    nodes = [
        {"id": f"n{i}", "component": c.id, "parameters": _defaults(c)}
        for i, c in enumerate(CATALOGUE.values())
    ]
    edges, outputs = [], {}
    for i, c in enumerate(CATALOGUE.values()):  # wire each input to an earlier node's output of its type
        for port in c.inputs:
            source = next(
                (
                    (j, p)
                    for j, o in enumerate(CATALOGUE.values())
                    if j < i
                    for p in o.outputs
                    if p.type == port.type
                ),
                None,
            )
            if source:
                edges.append({"source": f"n{source[0]}.{source[1].id}", "target": f"n{i}.{port.id}"})
        outputs.setdefault("first", f"n{i}.{c.outputs[0].id}" if c.outputs else None)
    return Pipeline.model_validate(
        {
            "name": "every component",
            "nodes": nodes,
            "edges": edges,
            "outputs": [o for o in outputs.values() if o],
        }
    )


def test_a_pipeline_with_every_component_round_trips_byte_for_byte():
    pipeline = every_component_pipeline()
    assert len(pipeline.nodes) == len(CATALOGUE) and len(pipeline.edges) > 40
    first, again, second = round_trip(pipeline)
    assert first == second
    assert canonical(again) == canonical(pipeline)


def test_layout_is_kept_apart_at_the_end_and_goes_back_onto_the_nodes():
    document = json.loads(SAMPLES[0].read_text())
    for i, node in enumerate(document["nodes"]):
        node["position"] = {"x": 40 * i, "y": 15.5 * i}
    text = to_yaml(document)
    assert list(yaml.safe_load(text))[-1] == "layout"
    assert "position" not in text
    assert "  split: {x: 120, y: 46.5}" in text
    back = from_yaml(text)
    assert [n["position"] for n in back["nodes"]] == [n["position"] for n in document["nodes"]]
    assert to_yaml(back) == text


def test_layout_for_an_unknown_node_is_refused():
    with pytest.raises(InvalidRequest) as caught:
        from_yaml("name: x\nnodes:\n- {id: a, component: Dataset}\nlayout:\n  b: {x: 1, y: 2}\n")
    assert caught.value.problems[0].node == "b"


def test_yaml_is_loaded_safely_and_bad_yaml_says_where():
    with pytest.raises(InvalidRequest) as caught:
        from_yaml("!!python/object/apply:os.system ['true']")
    assert caught.value.problems[0].code == "invalid_yaml"
    with pytest.raises(InvalidRequest) as caught:
        from_yaml("name: [unclosed\n")
    assert "line" in caught.value.problems[0].message
    with pytest.raises(InvalidRequest):
        from_yaml("- just a list")


def test_yaml_media_types():
    assert is_yaml("application/yaml") and is_yaml("text/yaml; charset=utf-8")
    assert not is_yaml("application/json") and not is_yaml(None)
