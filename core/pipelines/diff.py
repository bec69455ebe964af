"""What changed between two pipeline documents: nodes, parameters, wiring, pipeline parameters.

Names are compared in their canonical (designer) form, so a document that spells a parameter
``fraction`` and one that spells it ``Fraction of rows in the first output dataset`` do not
differ. An input port fed from another output in the second document is *rewired*; an edge
that appears (or disappears) with no such counterpart is added (or removed).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.components import lookup
from core.pipelines.document import Pipeline
from core.pipelines.yaml_io import parameter_name, port_name


class ParameterChange(BaseModel):
    parameter: str
    before: Any = None
    after: Any = None


class NodeChange(BaseModel):
    node: str
    component: tuple[str, str] | None = Field(None, description="(before, after) if the component changed")
    parameters: list[ParameterChange] = Field(default_factory=list)
    comment: tuple[str | None, str | None] | None = None


class NodeSummary(BaseModel):
    node: str
    component: str


class Rewire(BaseModel):
    target: str
    before: str
    after: str


class PipelineDiff(BaseModel):
    nodes_added: list[NodeSummary] = Field(default_factory=list)
    nodes_removed: list[NodeSummary] = Field(default_factory=list)
    nodes_changed: list[NodeChange] = Field(default_factory=list)
    edges_added: list[dict[str, str]] = Field(default_factory=list)
    edges_removed: list[dict[str, str]] = Field(default_factory=list)
    rewired: list[Rewire] = Field(default_factory=list)
    pipeline_parameters: list[ParameterChange] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f) for f in type(self).model_fields)


def diff(before: Pipeline, after: Pipeline) -> PipelineDiff:
    """The changes that turn ``before`` into ``after``."""
    a, b = {n.id: n for n in before.nodes}, {n.id: n for n in after.nodes}
    result = PipelineDiff(
        nodes_added=[_summary(b[i].id, b[i].component) for i in b if i not in a],
        nodes_removed=[_summary(a[i].id, a[i].component) for i in a if i not in b],
    )
    for node_id in (i for i in a if i in b):
        change = _node_change(node_id, a[node_id], b[node_id])
        if change is not None:
            result.nodes_changed.append(change)
    edges_a, edges_b = _edges(before), _edges(after)
    sources_a = {t: s for s, t in edges_a}
    sources_b = {t: s for s, t in edges_b}
    for target in sources_a.keys() & sources_b.keys():
        if sources_a[target] != sources_b[target]:
            result.rewired.append(Rewire(target=target, before=sources_a[target], after=sources_b[target]))
    rewired = {r.target for r in result.rewired}
    result.edges_added = [
        {"source": s, "target": t} for s, t in edges_b if (s, t) not in edges_a and t not in rewired
    ]
    result.edges_removed = [
        {"source": s, "target": t} for s, t in edges_a if (s, t) not in edges_b and t not in rewired
    ]
    result.pipeline_parameters = _parameter_changes(
        {p.name: p.model_dump(mode="json", exclude={"name"}) for p in before.parameters},
        {p.name: p.model_dump(mode="json", exclude={"name"}) for p in after.parameters},
    )
    return result


def _summary(node_id: str, component: str) -> NodeSummary:
    found = lookup(component)
    return NodeSummary(node=node_id, component=found.name if found else component)


def _node_change(node_id: str, a: Any, b: Any) -> NodeChange | None:
    ca, cb = lookup(a.component), lookup(b.component)
    name_a, name_b = (ca.name if ca else a.component), (cb.name if cb else b.component)
    change = NodeChange(node=node_id)
    if name_a != name_b:
        change.component = (name_a, name_b)
    params_a = {parameter_name(ca, k): v for k, v in a.parameters.items()}
    params_b = {parameter_name(cb, k): v for k, v in b.parameters.items()}
    change.parameters = _parameter_changes(params_a, params_b)
    if (a.comment or None) != (b.comment or None):
        change.comment = (a.comment, b.comment)
    if change.component is None and not change.parameters and change.comment is None:
        return None
    return change


def _parameter_changes(a: dict[str, Any], b: dict[str, Any]) -> list[ParameterChange]:
    keys = list(a) + [k for k in b if k not in a]
    return [
        ParameterChange(parameter=k, before=a.get(k), after=b.get(k)) for k in keys if a.get(k) != b.get(k)
    ]


def _edges(pipeline: Pipeline) -> list[tuple[str, str]]:
    components = {n.id: lookup(n.component) for n in pipeline.nodes}
    return [
        (
            port_name(e.source.model_dump(), components, output=True),
            port_name(e.target.model_dump(), components, output=False),
        )
        for e in pipeline.edges
    ]
