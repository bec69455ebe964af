"""From a valid pipeline to its plan: each node's component, parameters, run settings and inputs.

The plan is what the orchestrator receives: small, JSON-serialisable, references only. Its
stages are a deterministic topological order; runs do not wait stage by stage: the run state
machine (:mod:`core.execution.engine`) starts each node as soon as its inputs exist.
"""

from __future__ import annotations

import graphlib

from pydantic import BaseModel

from core.components import lookup
from core.pipelines.document import Pipeline, canonical_parameter
from core.pipelines.run_settings import RunSettings, parse


class InputRef(BaseModel):
    node: str
    port: str


class NodePlan(BaseModel):
    id: str
    component: str
    version: str
    parameters: dict
    inputs: dict[str, InputRef]
    regenerate: bool = False
    run_settings: RunSettings = RunSettings()


class Plan(BaseModel):
    stages: list[list[str]]
    nodes: dict[str, NodePlan]

    @property
    def node_count(self) -> int:
        return len(self.nodes)


def plan(pipeline: Pipeline) -> Plan:
    """Stages in topological order; every node of a stage depends only on earlier stages.

    The pipeline must already be valid: this does not re-check it.
    """
    sorter = graphlib.TopologicalSorter(pipeline.dependencies())
    sorter.prepare()
    stages: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        stages.append(ready)
        sorter.done(*ready)
    nodes: dict[str, NodePlan] = {}
    for node in pipeline.nodes:
        component = lookup(node.component)
        assert component is not None, "plan() needs a validated pipeline"
        inputs: dict[str, InputRef] = {}
        for edge in pipeline.edges:
            if edge.target.node == node.id:
                source = lookup(pipeline.node(edge.source.node).component)
                in_port = component.input_port(edge.target.port)
                out_port = source.output_port(edge.source.port) if source else None
                assert in_port and out_port
                inputs[in_port.id] = InputRef(node=edge.source.node, port=out_port.id)
        params = {canonical_parameter(component, k) or k: v for k, v in node.parameters.items()}
        nodes[node.id] = NodePlan(
            id=node.id,
            component=component.id,
            version=component.version,
            parameters=params,
            inputs=inputs,
            regenerate=node.regenerate_output,
            run_settings=parse(node.run_settings),
        )
    return Plan(stages=stages, nodes=nodes)
