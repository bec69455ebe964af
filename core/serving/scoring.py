"""In-memory scoring of an inference pipeline: a real-time request, or one batch mini-batch.

Compiling does the work that does not depend on the rows once: parameters are parsed, models
and transformations are loaded (and their signatures checked), and every node that does not
read from the input node is evaluated. Scoring then runs only the nodes downstream of the input
(Web Service Input, or a batch pipeline's dataset), on DataFrames in memory, with no storage
round trip.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd
from pydantic import ValidationError

from core.components import Component, Params, PortType, RunContext, lookup
from core.components.data import Dataset
from core.components.web_service import (
    WebServiceInput,
    WebServiceInputParams,
    WebServiceOutput,
    WebServiceOutputParams,
)
from core.errors import InvalidRequest, Problem
from core.pipelines.document import Pipeline, PipelineParameter, parse_parameters
from core.registry import datasets
from core.storage.artifacts import Artifacts
from core.storage.store import Store


@dataclass
class _Step:
    node_id: str
    component: Component
    params: Params
    inputs: dict[str, tuple[str, str]]  # port -> (node, port)
    raw: dict[str, Any] = field(default_factory=dict)  # the node's parameter values, for overrides


@dataclass
class CompiledPipeline:
    input_node: str
    input_port: str
    output_node: str
    output_port: str
    steps: list[_Step]
    static: dict[tuple[str, str], Any] = field(default_factory=dict)
    input_name: str = "WebServiceInput0"
    output_name: str = "WebServiceOutput0"
    drop_columns: list[str] = field(default_factory=list)
    parameters: list[PipelineParameter] = field(default_factory=list)

    def score(self, rows: pd.DataFrame, overrides: dict[str, Params] | None = None) -> pd.DataFrame:
        """Rows in (already checked against the schema), the output node's table out.

        ``overrides`` replaces some nodes' parameters for this call (see :meth:`overrides_for`).
        """
        values: dict[tuple[str, str], Any] = dict(self.static)
        values[(self.input_node, self.input_port)] = rows
        ctx = RunContext()
        for step in self.steps:
            inputs = {port: values[ref] for port, ref in step.inputs.items()}
            params = (overrides or {}).get(step.node_id, step.params)
            for port_id, value in step.component.run(inputs, params, ctx).items():
                values[(step.node_id, port_id)] = value
        return values[(self.output_node, self.output_port)]

    def overrides_for(self, values: dict[str, Any]) -> dict[str, Params]:
        """Node parameters set by a request's global parameters (the pipeline's parameters).

        Only nodes that run per request can change; every problem is reported at once.
        """
        problems: list[Problem] = []
        known = {p.name: p for p in self.parameters}
        changes: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            param = known.get(name)
            if param is None:
                problems.append(
                    Problem(
                        code="unknown_global_parameter",
                        field=f"GlobalParameters.{name}",
                        message=f"Unknown global parameter {name!r}; known: {sorted(known)}",
                    )
                )
                continue
            for binding in param.bindings:
                changes.setdefault(binding.node, {})[binding.parameter] = value
        steps = {s.node_id: s for s in self.steps}
        overrides: dict[str, Params] = {}
        for node_id, change in changes.items():
            step = steps.get(node_id)
            if step is None:
                continue  # bound to a node fixed at deploy time (a model, a dataset)
            try:
                overrides[node_id] = parse_parameters(type(step.component), {**step.raw, **change})
            except ValidationError as exc:
                problems += [
                    Problem(
                        code="invalid_global_parameter",
                        node=node_id,
                        parameter=".".join(str(x) for x in e["loc"]),
                        message=e["msg"],
                    )
                    for e in exc.errors()
                ]
        if problems:
            raise InvalidRequest("The global parameters do not fit this endpoint", problems)
        return overrides


def compile_pipeline(pipeline: Pipeline, store: Store, artifacts: Artifacts) -> CompiledPipeline:
    """Prepare a pinned real-time inference pipeline for scoring."""
    components = {n.id: lookup(n.component) for n in pipeline.nodes}
    inputs = [n for n in pipeline.nodes if components[n.id] is WebServiceInput]
    outputs = [n for n in pipeline.nodes if components[n.id] is WebServiceOutput]
    if len(inputs) != 1 or len(outputs) != 1:
        raise InvalidRequest(
            "Not a real-time inference pipeline",
            [
                Problem(
                    code="not_realtime",
                    field="pipeline",
                    message="A real-time endpoint needs exactly one Web Service Input and one Web Service "
                    f"Output (found {len(inputs)} and {len(outputs)})",
                )
            ],
        )
    compiled = _compile(pipeline, store, artifacts, (inputs[0].id, "data"), (outputs[0].id, "data"))
    wsi = cast(WebServiceInputParams, parse_parameters(WebServiceInput, inputs[0].parameters))
    wso = cast(WebServiceOutputParams, parse_parameters(WebServiceOutput, outputs[0].parameters))
    compiled.input_name, compiled.drop_columns = wsi.name, list(wsi.drop_columns)
    compiled.output_name = wso.name
    return compiled


def compile_batch_pipeline(pipeline: Pipeline, store: Store, artifacts: Artifacts) -> CompiledPipeline:
    """Prepare a pinned batch inference pipeline: its one dataset input takes each mini-batch."""
    inputs = [n for n in pipeline.nodes if lookup(n.component) is Dataset]
    if pipeline.kind != "batch_inference" or len(inputs) != 1 or len(pipeline.outputs) != 1:
        raise InvalidRequest(
            "Not a batch inference pipeline",
            [
                Problem(
                    code="not_batch_inference",
                    field="pipeline",
                    message="Batch scoring needs a batch inference pipeline with one dataset input and one "
                    f"output (this is a {pipeline.kind} pipeline with {len(inputs)} dataset(s))",
                )
            ],
        )
    output = pipeline.outputs[0]
    component = lookup(pipeline.node(output.node).component)
    port = component.output_port(output.port) if component else None
    assert port is not None, "a validated pipeline names existing outputs"
    return _compile(pipeline, store, artifacts, (inputs[0].id, "dataset"), (output.node, port.id))


def _compile(
    pipeline: Pipeline, store: Store, artifacts: Artifacts, entry: tuple[str, str], exit_: tuple[str, str]
) -> CompiledPipeline:
    components = {n.id: lookup(n.component) for n in pipeline.nodes}
    edges = {
        (e.target.node, components[e.target.node].input_port(e.target.port).id):  # type: ignore[union-attr]
        (e.source.node, components[e.source.node].output_port(e.source.port).id)  # type: ignore[union-attr]
        for e in pipeline.edges
    }
    dynamic = pipeline.downstream(entry[0])
    order = list(graphlib.TopologicalSorter(pipeline.dependencies()).static_order())
    static: dict[tuple[str, str], Any] = {}
    steps: list[_Step] = []
    needed = (
        pipeline.upstream(
            *{src for (dst, _), (src, _) in edges.items() if dst in dynamic and src not in dynamic}
        )
        - dynamic
    )
    for node_id in order:
        component = components[node_id]
        assert component is not None
        params = parse_parameters(component, pipeline.node(node_id).parameters)
        node_inputs = {port: src for (dst, port), src in edges.items() if dst == node_id}
        if node_id in dynamic and node_id != entry[0]:
            steps.append(_Step(node_id, component(), params, node_inputs, pipeline.node(node_id).parameters))
        elif node_id in needed:
            static.update(_evaluate_static(node_id, component, params, node_inputs, static, artifacts, store))
    return CompiledPipeline(
        input_node=entry[0],
        input_port=entry[1],
        output_node=exit_[0],
        output_port=exit_[1],
        steps=steps,
        static=static,
        parameters=list(pipeline.parameters),
    )


def _evaluate_static(
    node_id: str,
    component: type[Component],
    params: Params,
    node_inputs: dict[str, tuple[str, str]],
    static: dict[tuple[str, str], Any],
    artifacts: Artifacts,
    store: Store,
) -> dict[tuple[str, str], Any]:
    """Outputs of a node that does not depend on the request: sources are loaded, others run."""
    sources = component.source_outputs(params)
    if sources is not None:
        out: dict[tuple[str, str], Any] = {}
        for port in component.outputs:
            ref = sources[port.id]
            if port.type == PortType.DATA and ref.startswith("datasets/"):
                out[(node_id, port.id)] = datasets.read_frame(store, ref)
            else:
                out[(node_id, port.id)] = artifacts.get(ref, port.type)
        return out
    values = {port: static[src] for port, src in node_inputs.items()}
    produced = component().run(values, params, RunContext())
    return {(node_id, port): value for port, value in produced.items()}
