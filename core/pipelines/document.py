"""The pipeline document and its validation.

A pipeline is nodes (a component with parameter values), edges (``node.port -> node.port``)
and named pipeline parameters bound to node parameters. :meth:`Pipeline.validate` reports
every problem at once, each located by node, port and parameter, so a client can mark them all.
"""

from __future__ import annotations

import graphlib
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core import names
from core.components import Component, Params, lookup
from core.components.data import Dataset
from core.errors import Problem
from core.pipelines import run_settings

NODE_ID_PATTERN = names.NODE_ID


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PortRef(_Model):
    node: str
    port: str

    @model_validator(mode="before")
    @classmethod
    def _dotted(cls, value: Any) -> Any:
        """Accept ``"split.results_dataset1"`` as shorthand for ``{"node":..., "port":...}``."""
        if isinstance(value, str):
            node, sep, port = value.partition(".")
            if not sep:
                raise ValueError("a port reference looks like 'node.port'")
            return {"node": node, "port": port}
        return value

    def __str__(self) -> str:
        return f"{self.node}.{self.port}"


class Edge(_Model):
    source: PortRef
    target: PortRef


class Position(_Model):
    """Where a node sits on the canvas. Layout only: validation and step-output reuse ignore it."""

    x: float = Field(allow_inf_nan=False)
    y: float = Field(allow_inf_nan=False)


class Node(_Model):
    id: str = Field(pattern=NODE_ID_PATTERN)
    component: str
    version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    comment: str | None = None
    regenerate_output: bool = Field(False, description="Run this node even if its outputs could be reused")
    run_settings: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "How the node runs: timeout_seconds, max_retries, retry_backoff_seconds, mini_batch_rows "
            "(scoring nodes); never part of the reuse key"
        ),
    )
    position: Position | None = Field(None, description="Canvas position; layout only")


class Binding(_Model):
    node: str
    parameter: str


class PipelineParameter(_Model):
    """A named input of the pipeline that sets one or more node parameters when submitted."""

    name: str = Field(pattern=names.PARAMETER)
    default: Any = None
    description: names.Description = ""
    bindings: list[Binding] = Field(min_length=1)


PipelineKind = Literal["training", "batch_inference", "realtime_inference"]


class Pipeline(_Model):
    name: str = Field("Pipeline", min_length=1, max_length=200)
    description: names.Description = ""
    kind: PipelineKind = "training"
    source_run: str | None = Field(None, description="The training run an inference pipeline came from")
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    parameters: list[PipelineParameter] = Field(default_factory=list)
    outputs: list[PortRef] = Field(
        default_factory=list, description="Where a run's results are: listed with download links"
    )

    # ---- lookups --------------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def component_of(self, node_id: str) -> type[Component] | None:
        return lookup(self.node(node_id).component)

    # ---- validation -----------------------------------------------------------------------
    def validate(self) -> list[Problem]:  # type: ignore[override]
        """Every problem in the document; an empty list means it can run."""
        problems: list[Problem] = []
        if not self.nodes:
            problems.append(
                Problem(
                    code="no_nodes",
                    field="nodes",
                    message="The pipeline has no nodes: add a dataset and components",
                )
            )
        components = self._check_nodes(problems)
        self._check_edges(components, problems)
        self._check_required_inputs(components, problems)
        self._check_cycles(problems)
        self._check_pipeline_parameters(components, problems)
        self._check_outputs(components, problems)
        return problems

    def _check_outputs(self, components: dict[str, type[Component]], problems: list[Problem]) -> None:
        for ref in self.outputs:
            component = components.get(ref.node)
            if component is None or component.output_port(ref.port) is None:
                problems.append(
                    Problem(
                        code="unknown_output",
                        node=ref.node,
                        port=ref.port,
                        field="outputs",
                        message=f"Pipeline output {ref} names no node output",
                    )
                )

    def _check_nodes(self, problems: list[Problem]) -> dict[str, type[Component]]:
        counts = Counter(n.id for n in self.nodes)
        for node_id, n in counts.items():
            if n > 1:
                problems.append(
                    Problem(
                        code="duplicate_node_id",
                        node=node_id,
                        message=f"Node id {node_id!r} is used by {n} nodes",
                    )
                )
        components: dict[str, type[Component]] = {}
        for node in self.nodes:
            component = lookup(node.component)
            if component is None:
                problems.append(
                    Problem(
                        code="unknown_component",
                        node=node.id,
                        field="component",
                        message=f"Unknown component {node.component!r}",
                    )
                )
                continue
            if node.version not in (None, component.version):
                problems.append(
                    Problem(
                        code="unknown_component_version",
                        node=node.id,
                        field="version",
                        message=f"{component.name} has version {component.version}, not {node.version}",
                    )
                )
            components.setdefault(node.id, component)
            problems.extend(parameter_problems(node.id, component, node.parameters))
            problems.extend(run_settings.problems(node.id, component.id, node.run_settings))
        return components

    def _check_edges(self, components: dict[str, type[Component]], problems: list[Problem]) -> None:
        node_ids = {n.id for n in self.nodes}
        fed: Counter[tuple[str, str]] = Counter()
        for edge in self.edges:
            src, dst = edge.source, edge.target
            for end, ref in (("source", src), ("target", dst)):
                if ref.node not in node_ids:
                    problems.append(
                        Problem(
                            code="unknown_node",
                            node=ref.node,
                            port=ref.port,
                            field=end,
                            message=f"Edge {src} -> {dst}: no node {ref.node!r}",
                        )
                    )
            if src.node == dst.node:
                problems.append(
                    Problem(
                        code="self_loop",
                        node=src.node,
                        message=f"Edge {src} -> {dst} connects a node to itself",
                    )
                )
            src_c, dst_c = components.get(src.node), components.get(dst.node)
            out_port = src_c.output_port(src.port) if src_c else None
            in_port = dst_c.input_port(dst.port) if dst_c else None
            if src_c and out_port is None:
                problems.append(
                    Problem(
                        code="unknown_port",
                        node=src.node,
                        port=src.port,
                        message=f"{src_c.name} has no output port {src.port!r}; "
                        f"outputs: {[p.id for p in src_c.outputs]}",
                    )
                )
            if dst_c is Dataset:
                problems.append(
                    Problem(
                        code="dataset_input",
                        node=dst.node,
                        port=dst.port,
                        message="A dataset takes no input: connect datasets only to components",
                    )
                )
            elif dst_c and in_port is None:
                problems.append(
                    Problem(
                        code="unknown_port",
                        node=dst.node,
                        port=dst.port,
                        message=f"{dst_c.name} has no input port {dst.port!r}; "
                        f"inputs: {[p.id for p in dst_c.inputs]}",
                    )
                )
            if out_port and in_port:
                fed[(dst.node, in_port.id)] += 1
                if out_port.type != in_port.type:
                    problems.append(
                        Problem(
                            code="port_type_mismatch",
                            node=dst.node,
                            port=in_port.id,
                            message=f"{src} gives {out_port.type.value} but {dst} takes {in_port.type.value}",
                        )
                    )
        for (node_id, port_id), n in fed.items():
            if n > 1:
                problems.append(
                    Problem(
                        code="port_multiply_connected",
                        node=node_id,
                        port=port_id,
                        message=f"Input port {node_id}.{port_id} has {n} incoming edges",
                    )
                )

    def _check_required_inputs(self, components: dict[str, type[Component]], problems: list[Problem]) -> None:
        connected = {
            (e.target.node, p.id)
            for e in self.edges
            if (c := components.get(e.target.node)) and (p := c.input_port(e.target.port))
        }
        for node_id, component in components.items():
            for port in component.inputs:
                if not port.optional and (node_id, port.id) not in connected:
                    problems.append(
                        Problem(
                            code="input_not_connected",
                            node=node_id,
                            port=port.id,
                            message=f"Required input {port.name!r} of {component.name} is not connected",
                        )
                    )

    def _check_cycles(self, problems: list[Problem]) -> None:
        try:
            graphlib.TopologicalSorter(self.dependencies()).prepare()
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            problems.append(
                Problem(
                    code="cycle", node=cycle[0], message="The pipeline has a cycle: " + " -> ".join(cycle)
                )
            )

    def _check_pipeline_parameters(
        self, components: dict[str, type[Component]], problems: list[Problem]
    ) -> None:
        for name, n in Counter(p.name for p in self.parameters).items():
            if n > 1:
                problems.append(
                    Problem(
                        code="duplicate_pipeline_parameter",
                        field=f"parameters.{name}",
                        message=f"Pipeline parameter {name!r} is defined {n} times",
                    )
                )
        bound_by: dict[tuple[str, str], str] = {}
        for param in self.parameters:
            for binding in param.bindings:
                component = components.get(binding.node)
                key = (
                    binding.node,
                    (canonical_parameter(component, binding.parameter) if component else None)
                    or binding.parameter,
                )
                first = bound_by.setdefault(key, param.name)
                if first != param.name:
                    problems.append(_bound_twice(param.name, first, *key))
                if component is None:
                    problems.append(
                        Problem(
                            code="unknown_node",
                            node=binding.node,
                            field=f"parameters.{param.name}",
                            message=f"Pipeline parameter {param.name!r} is bound to "
                            f"unknown node {binding.node!r}",
                        )
                    )
                elif canonical_parameter(component, binding.parameter) is None:
                    problems.append(
                        Problem(
                            code="unknown_parameter",
                            node=binding.node,
                            parameter=binding.parameter,
                            field=f"parameters.{param.name}",
                            message=f"{component.name} has no parameter {binding.parameter!r}",
                        )
                    )

    def dependencies(self) -> dict[str, set[str]]:
        """node id -> ids of the nodes it reads from."""
        deps: dict[str, set[str]] = {n.id: set() for n in self.nodes}
        for e in self.edges:
            if e.target.node in deps and e.source.node in deps:
                deps[e.target.node].add(e.source.node)
        return deps

    def readers(self) -> dict[str, set[str]]:
        """node id -> ids of the nodes that read from it (:meth:`dependencies` reversed)."""
        readers: dict[str, set[str]] = {n.id: set() for n in self.nodes}
        for node_id, sources in self.dependencies().items():
            for source in sources:
                readers[source].add(node_id)
        return readers

    def upstream(self, *node_ids: str) -> set[str]:
        """``node_ids`` and every node they read from, directly or through other nodes."""
        deps = self.dependencies()
        return reachable(node_ids, lambda n: deps.get(n, ()))

    def downstream(self, *node_ids: str) -> set[str]:
        """``node_ids`` and every node that reads from them, directly or through other nodes."""
        readers = self.readers()
        return reachable(node_ids, lambda n: readers.get(n, ()))

    # ---- pipeline parameters ----------------------------------------------------------------
    def with_assignments(self, assignments: dict[str, Any]) -> Pipeline:
        """A copy with pipeline parameter values written into the bound node parameters.

        Defaults apply where no value is given; unknown names are refused by the caller
        (:func:`assignment_problems`) before this runs.
        """
        doc = self.model_copy(deep=True)
        for param in doc.parameters:
            value = assignments.get(param.name, param.default)
            if value is None:
                continue
            for binding in param.bindings:
                node = next((n for n in doc.nodes if n.id == binding.node), None)
                if node is None:
                    continue  # reported by validate()
                component = lookup(node.component)
                if component is None:
                    continue
                key = canonical_parameter(component, binding.parameter)
                if key is None:
                    continue
                # Drop the other spelling; a new dataset name also drops the pinned version.
                dropped = {key, "version"} if component is Dataset and key == "name" else {key}
                node.parameters = {
                    k: v
                    for k, v in node.parameters.items()
                    if canonical_parameter(component, k) not in dropped
                }
                node.parameters[key] = value
        return doc

    def assignment_problems(self, assignments: dict[str, Any]) -> list[Problem]:
        known = {p.name for p in self.parameters}
        return [
            Problem(
                code="unknown_pipeline_parameter",
                field=f"ParameterAssignments.{name}",
                message=f"Unknown pipeline parameter {name!r}; known: {sorted(known)}",
            )
            for name in assignments
            if name not in known
        ]


def _bound_twice(name: str, first: str, node: str, parameter: str) -> Problem:
    return Problem(
        code="parameter_bound_twice",
        node=node,
        parameter=parameter,
        field=f"parameters.{name}",
        message=f"Pipeline parameter {name!r} binds {node}.{parameter}, which pipeline "
        f"parameter {first!r} already sets",
    )


def pipeline_parameter_conflicts(pipeline: Pipeline, name: str, node: str, parameter: str) -> list[Problem]:
    """Why a new pipeline parameter ``name`` binding ``node.parameter`` cannot be added."""
    problems = []
    if any(p.name == name for p in pipeline.parameters):
        problems.append(
            Problem(
                code="duplicate_pipeline_parameter",
                field=f"parameters.{name}",
                message=f"A pipeline parameter named {name!r} exists already",
            )
        )
    component = lookup(pipeline.node(node).component)
    for param in pipeline.parameters:
        for binding in param.bindings:
            key = (
                canonical_parameter(component, binding.parameter) if component else None
            ) or binding.parameter
            if binding.node == node and key == parameter and param.name != name:
                problems.append(_bound_twice(name, param.name, node, parameter))
    return problems


def canonical_parameter(component: type[Component], key: str) -> str | None:
    """The field name for ``key`` given as a field name or a designer display name."""
    for name, field in component.Parameters.model_fields.items():
        if key in (name, field.alias):
            return name
    return None


def parameter_problems(node_id: str, component: type[Component], values: dict[str, Any]) -> list[Problem]:
    try:
        component.Parameters.model_validate(values)
    except ValidationError as exc:
        return [_parameter_problem(node_id, component, err) for err in exc.errors()]
    return []


def parse_parameters(component: type[Component], values: dict[str, Any]) -> Params:
    return component.Parameters.model_validate(values)


def _parameter_problem(node_id: str, component: type[Component], err: Any) -> Problem:
    loc = [str(x) for x in err.get("loc", ())]
    name = (canonical_parameter(component, loc[0]) or loc[0]) if loc else None
    kind = err.get("type", "")
    code = {"missing": "missing_parameter", "extra_forbidden": "unknown_parameter"}.get(
        kind, "invalid_parameter"
    )
    detail = ".".join(loc[1:])
    message = {
        "missing_parameter": f"{component.name}: required parameter {name!r} is not set",
        "unknown_parameter": f"{component.name} has no parameter {name!r}",
    }.get(code, f"{component.name}: parameter {name!r}{' ' + detail if detail else ''}: {err['msg']}")
    return Problem(code=code, node=node_id, parameter=name, message=message)


def reachable(start: Iterable[str], neighbours: Callable[[str], Iterable[str]]) -> set[str]:
    """``start`` and every node reached from it by following ``neighbours`` again and again
    (breadth first): the one graph search behind upstream, downstream and the rewrites' walks."""
    seen = set(start)
    queue = deque(seen)
    while queue:
        for node_id in neighbours(queue.popleft()):
            if node_id not in seen:
                seen.add(node_id)
                queue.append(node_id)
    return seen
